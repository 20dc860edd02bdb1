// `faceforge data pack | index | inspect | align` from the command line: outputs and one-line errors.
#include <catch2/catch.hpp>

#include <filesystem>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "datasets/alignment.h"
#include "support.h"

namespace fs = std::filesystem;

namespace {
// The JSON object printed on its own line (OpenCV may print warnings around it).
nlohmann::json json_line(const std::string& output) {
  size_t start = output.rfind("\n{") == std::string::npos ? output.find('{') : output.rfind("\n{") + 1;
  return nlohmann::json::parse(output.substr(start, output.find('\n', start) - start));
}
}  // namespace

TEST_CASE("data pack, inspect and index round-trip a folder through a RecordIO pack", "[cli][datasets]") {
  ff::test::TempDir dir("data-cli");
  ff::test::write_small_synthetic(dir / "syn", 5, 3, 0);
  ff::test::write_text(dir / "syn" / "images" / "00001" / "999.jpg", "truncated");
  const std::string ff = ff::test::faceforge_binary();

  auto inspected = ff::test::run_command(ff + " data inspect " + (dir / "syn").string() + " --json");
  INFO(inspected.output);
  REQUIRE(inspected.exit_code == 0);
  auto j = json_line(inspected.output);
  CHECK(j["images"] == 16);
  CHECK(j["identities"] == 5);
  CHECK(j["images_per_identity"]["min"] == 3);
  CHECK(j["images_per_identity"]["max"] == 4);
  CHECK(j["images_per_identity"]["median"] == 3.0);
  CHECK(j["label_max"] == 4);
  CHECK(j["unreadable"] == 1);
  CHECK_THAT(j["errors"][0].get<std::string>(), Catch::Contains("999.jpg"));

  fs::remove(dir / "syn" / "images" / "00001" / "999.jpg");
  auto packed = ff::test::run_command(ff + " data pack " + (dir / "syn").string() + " --out " + (dir / "pack").string());
  INFO(packed.output);
  REQUIRE(packed.exit_code == 0);
  CHECK(ff::test::run_command("cat " + (dir / "pack" / "property").string()).output.rfind("5,112,112", 0) == 0);
  auto pack_info = ff::test::run_command(ff + " data inspect " + (dir / "pack").string() + " --json");
  REQUIRE(pack_info.exit_code == 0);
  auto p = json_line(pack_info.output);
  CHECK(p["images"] == 15);
  CHECK(p["identities"] == 5);
  CHECK(p["unreadable"] == 0);

  fs::remove(dir / "pack" / "train.idx");
  auto missing = ff::test::run_command(ff + " data inspect " + (dir / "pack").string());
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.output, Catch::StartsWith("error: ") && Catch::Contains("faceforge data index"));
  auto indexed = ff::test::run_command(ff + " data index " + (dir / "pack" / "train.rec").string());
  INFO(indexed.output);
  REQUIRE(indexed.exit_code == 0);
  CHECK_THAT(indexed.output, Catch::Contains("21 records"));  // header + 15 images + 5 identity records
  CHECK(ff::test::run_command(ff + " data inspect " + (dir / "pack").string() + " --no-decode").exit_code == 0);

  auto nowhere = ff::test::run_command(ff + " data inspect " + (dir / "nowhere").string());
  CHECK(nowhere.exit_code == 1);
  CHECK(nowhere.output == "error: not found: " + (dir / "nowhere").string() + "\n");
}

TEST_CASE("data align warps listed faces onto the template", "[cli][datasets]") {
  ff::test::TempDir dir("align-cli");
  fs::create_directories(dir / "raw" / "a");
  // Five bright dots where the template points land after scaling by 2 and shifting by (20, 10).
  cv::Mat image(300, 300, CV_8UC3, cv::Scalar(0, 0, 0));
  std::string csv = "path,x1,y1,x2,y2,x3,y3,x4,y4,x5,y5\na/face.png";
  for (const auto& pt : ff::datasets::kArcFaceTemplate) {
    cv::Point2d q(2 * pt.x + 20, 2 * pt.y + 10);
    cv::circle(image, q, 3, cv::Scalar(255, 255, 255), cv::FILLED);
    csv += "," + std::to_string(q.x) + "," + std::to_string(q.y);
  }
  cv::imwrite((dir / "raw" / "a" / "face.png").string(), image);
  ff::test::write_text(dir / "lm.csv", csv + "\n");
  auto aligned = ff::test::run_command(ff::test::faceforge_binary() + " data align --landmarks " + (dir / "lm.csv").string() +
                                       " --images " + (dir / "raw").string() + " --out " + (dir / "out").string());
  INFO(aligned.output);
  REQUIRE(aligned.exit_code == 0);
  cv::Mat out = cv::imread((dir / "out" / "a" / "face.png").string());
  REQUIRE(out.rows == 112);
  REQUIRE(out.cols == 112);
  for (const auto& pt : ff::datasets::kArcFaceTemplate)  // each dot is back on its template point
    CHECK(out.at<cv::Vec3b>(static_cast<int>(std::lround(pt.y)), static_cast<int>(std::lround(pt.x)))[0] > 200);
}
