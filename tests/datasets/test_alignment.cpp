// Checks datasets/alignment.cpp: the similarity fit against a hand-worked inverse and numpy's linear
// least squares, the warp by where bright dots land, the landmark readers and the batch aligner.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "datasets/alignment.h"
#include "src/util/error.h"
#include "support.h"

namespace {
namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using ff::datasets::FivePoints;
using ff::datasets::kArcFaceTemplate;
using ff::test::error_of;

// p' = scale * R(angle) p + shift, applied to each point.
FivePoints transformed(const FivePoints& points, double angle_deg, double scale, cv::Point2d shift) {
  double a = angle_deg * CV_PI / 180.0;
  double c = std::cos(a) * scale, s = std::sin(a) * scale;
  FivePoints out;
  for (size_t i = 0; i < points.size(); ++i)
    out[i] = {c * points[i].x - s * points[i].y + shift.x, s * points[i].x + c * points[i].y + shift.y};
  return out;
}

// Black 8-bit BGR image with a Gaussian dot (sigma in px, peak 255) centred on each point.
cv::Mat dots_image(int size, const FivePoints& points, double sigma) {
  cv::Mat image(size, size, CV_8UC3, cv::Scalar::all(0));
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      double v = 0;
      for (const auto& p : points) {
        double d2 = (x - p.x) * (x - p.x) + (y - p.y) * (y - p.y);
        v = std::max(v, 255.0 * std::exp(-d2 / (2 * sigma * sigma)));
      }
      image.at<cv::Vec3b>(y, x) = cv::Vec3b::all(cv::saturate_cast<uchar>(v));
    }
  return image;
}

// Intensity-weighted centroids of the 5 brightest (by summed intensity) blobs above a threshold.
std::vector<cv::Point2d> brightest_blobs(const cv::Mat& bgr) {
  cv::Mat gray, mask, labels;
  cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
  cv::threshold(gray, mask, 40, 255, cv::THRESH_BINARY);
  int count = cv::connectedComponents(mask, labels, 8, CV_32S);
  std::vector<double> mass(count, 0), sx(count, 0), sy(count, 0);
  for (int y = 0; y < gray.rows; ++y)
    for (int x = 0; x < gray.cols; ++x) {
      int l = labels.at<int>(y, x);
      if (l == 0) continue;
      double v = gray.at<uchar>(y, x);
      mass[l] += v;
      sx[l] += v * x;
      sy[l] += v * y;
    }
  std::vector<int> order;
  for (int l = 1; l < count; ++l) order.push_back(l);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return mass[a] > mass[b]; });
  std::vector<cv::Point2d> centres;
  for (size_t i = 0; i < order.size() && i < 5; ++i)
    centres.push_back({sx[order[i]] / mass[order[i]], sy[order[i]] / mass[order[i]]});
  return centres;
}

// Largest distance from a template point to its nearest blob centre.
double worst_template_distance(const cv::Mat& aligned) {
  auto blobs = brightest_blobs(aligned);
  REQUIRE(blobs.size() == 5);
  double worst = 0;
  for (const auto& t : kArcFaceTemplate) {
    double best = 1e9;
    for (const auto& b : blobs) best = std::min(best, std::hypot(b.x - t.x, b.y - t.y));
    worst = std::max(worst, best);
  }
  return worst;
}

std::string quote(const std::string& s) { return "'" + s + "'"; }

}  // namespace

TEST_CASE("estimate_similarity inverts a hand-built rotation, scale and shift", "[datasets]") {
  // points = 1.7 R(30 deg) template + (13, -7); the map back is (1/1.7) R(-30 deg) (p - (13, -7)).
  const double angle = 30 * CV_PI / 180, scale = 1.7;
  FivePoints points = transformed(kArcFaceTemplate, 30, scale, {13, -7});
  cv::Matx23d back = ff::datasets::estimate_similarity(points, kArcFaceTemplate);
  double c = std::cos(angle) / scale, s = std::sin(angle) / scale;
  // Inverse linear part [c s; -s c]; translation -(inverse linear part) * (13, -7).
  double tx = -(c * 13 + s * -7), ty = -(-s * 13 + c * -7);
  cv::Matx23d expected(c, s, tx, -s, c, ty);
  for (int r = 0; r < 2; ++r)
    for (int k = 0; k < 3; ++k) CHECK(back(r, k) == Approx(expected(r, k)).margin(1e-9).epsilon(0));

  cv::Matx23d forward = ff::datasets::estimate_similarity(kArcFaceTemplate, points);
  cv::Matx23d expected_forward(std::cos(angle) * scale, -std::sin(angle) * scale, 13, std::sin(angle) * scale,
                               std::cos(angle) * scale, -7);
  for (int r = 0; r < 2; ++r)
    for (int k = 0; k < 3; ++k) CHECK(forward(r, k) == Approx(expected_forward(r, k)).margin(1e-9).epsilon(0));
}

TEST_CASE("estimate_similarity equals numpy's linear least squares on noisy points", "[datasets]") {
  // Minimising sum |to - [a -b; b a] from - t|^2 over (a, b, tx, ty) is a linear least-squares
  // problem, and {[a -b; b a]} is exactly {s R : s >= 0, R a rotation}, the set Umeyama searches
  // without reflection. So both give the same unique minimiser, also when a reflection would fit
  // better (the mirrored cases below exercise Umeyama's S = diag(1, -1) branch).
  ff::test::TempDir dir("align-lstsq");
  std::mt19937 rng(1234);
  std::uniform_real_distribution<double> coord(0, 250), angle(-180, 180), scale(0.3, 3), shift(-50, 50);
  std::normal_distribution<double> noise(0, 4);
  const int cases = 60;
  std::vector<std::pair<FivePoints, FivePoints>> sets;
  std::ostringstream text;
  text.precision(17);
  for (int i = 0; i < cases; ++i) {
    FivePoints from;
    for (auto& p : from) p = {coord(rng), coord(rng)};
    if (i == 0)  // collinear points still fix a unique similarity
      for (int k = 0; k < 5; ++k) from[k] = {10.0 + 7 * k, 20.0 + 3 * k};
    FivePoints to = transformed(from, angle(rng), scale(rng), {shift(rng), shift(rng)});
    if (i % 3 == 1)  // mirror: the best orthogonal fit is a reflection, which must not be returned
      for (auto& p : to) p.x = -p.x;
    for (auto& p : to) p += cv::Point2d(noise(rng), noise(rng));
    sets.emplace_back(from, to);
    for (const auto& p : from) text << p.x << ' ' << p.y << ' ';
    for (const auto& p : to) text << p.x << ' ' << p.y << ' ';
    text << '\n';
  }
  ff::test::write_text(dir / "points.txt", text.str());
  ff::test::write_text(dir / "fit.py", R"PY(
import sys
import numpy as np
rows = np.loadtxt(sys.argv[1], ndmin=2)
with open(sys.argv[2], 'w') as out:
    for row in rows:
        src = row[:10].reshape(5, 2)
        dst = row[10:].reshape(5, 2)
        A = np.zeros((10, 4))
        b = np.zeros(10)
        for i, ((x, y), (u, v)) in enumerate(zip(src, dst)):
            A[2 * i] = [x, -y, 1, 0]
            b[2 * i] = u
            A[2 * i + 1] = [y, x, 0, 1]
            b[2 * i + 1] = v
        (a, bb, tx, ty), *_ = np.linalg.lstsq(A, b, rcond=None)
        out.write(' '.join(repr(float(v)) for v in (a, -bb, tx, bb, a, ty)) + '\n')
)PY");
  auto result = ff::test::run_command(ff::test::python() + " " + quote((dir / "fit.py").string()) + " " +
                                      quote((dir / "points.txt").string()) + " " + quote((dir / "fit.txt").string()));
  INFO(result.output);
  REQUIRE(result.exit_code == 0);
  std::ifstream in(dir / "fit.txt");
  for (int i = 0; i < cases; ++i) {
    double expected[6];
    for (double& v : expected) REQUIRE(in >> v);
    cv::Matx23d got = ff::datasets::estimate_similarity(sets[i].first, sets[i].second);
    INFO("case " << i);
    for (int k = 0; k < 6; ++k) CHECK(got.val[k] == Approx(expected[k]).margin(1e-6).epsilon(0));
    // No reflection: the linear part is a non-negative multiple of a rotation.
    CHECK(got(0, 0) * got(1, 1) - got(0, 1) * got(1, 0) >= 0);
  }

  FivePoints same;
  same.fill({5, 5});
  CHECK_THAT(error_of([&] { ff::datasets::estimate_similarity(same, kArcFaceTemplate); }), Contains("no spread"));
  CHECK_THAT(error_of([&] { ff::datasets::estimate_similarity(kArcFaceTemplate, same); }),
             Contains("target points all lie"));
}

TEST_CASE("align_face puts five bright dots on the template points", "[datasets]") {
  FivePoints points = transformed(kArcFaceTemplate, -25, 1.8, {60, 35});
  cv::Mat image = dots_image(250, points, 2.0);
  cv::Mat aligned;
  ff::datasets::align_face(image, points, aligned);
  REQUIRE(aligned.type() == CV_8UC3);
  REQUIRE(aligned.rows == 112);
  REQUIRE(aligned.cols == 112);
  // Measured about 0.09 px; 0.35 also catches a half-pixel coordinate-convention slip.
  CHECK(worst_template_distance(aligned) < 0.35);

  // Grayscale input gives the same crop, as BGR.
  cv::Mat gray, aligned_gray;
  cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
  ff::datasets::align_face(gray, points, aligned_gray);
  REQUIRE(aligned_gray.type() == CV_8UC3);
  CHECK(cv::norm(aligned_gray, aligned, cv::NORM_INF) <= 1);

  cv::Mat wide(10, 10, CV_16UC3, cv::Scalar::all(0));
  CHECK_THAT(error_of([&] { ff::datasets::align_face(wide, points, aligned); }), Contains("8-bit"));
}

TEST_CASE("landmark files in ijb, rfw and csv layouts parse and auto-detect", "[datasets]") {
  ff::test::TempDir dir("align-formats");
  auto read = [](const fs::path& p, const std::string& f) { return ff::datasets::read_landmarks(p, f); };
  const double xs[10] = {46.06, 62.03, 87.79, 60.32, 68.85, 77.66, 52.16, 99.88, 86.45, 98.65};
  auto check_points = [&](const ff::datasets::LandmarkEntry& e, double offset) {
    for (int k = 0; k < 5; ++k) {
      CHECK(e.points[k].x == Approx(xs[2 * k] + offset));
      CHECK(e.points[k].y == Approx(xs[2 * k + 1] + offset));
    }
  };

  SECTION("ijb") {
    fs::path file = dir / "ijbc_name_5pts_score.txt";
    ff::test::write_text(file,
                         "1.jpg 46.06 62.03 87.79 60.32 68.85 77.66 52.16 99.88 86.45 98.65 0.999\n"
                         "\n"
                         "2.jpg 47.06 63.03 88.79 61.32 69.85 78.66 53.16 100.88 87.45 99.65 0.25\r\n");
    for (const char* format : {"ijb", "auto"}) {
      auto entries = read(file, format);
      REQUIRE(entries.size() == 2);
      CHECK(entries[0].image == "1.jpg");
      CHECK(entries[0].line == 1);
      CHECK(entries[0].score == Approx(0.999));
      check_points(entries[0], 0);
      CHECK(entries[1].image == "2.jpg");
      CHECK(entries[1].line == 3);  // the empty line still counts
      CHECK(entries[1].score == Approx(0.25));
      check_points(entries[1], 1);
    }
    // Content detection without the name hint: decimals in the second field mean ijb.
    fs::path plain = dir / "plain.txt";
    fs::copy_file(file, plain);
    CHECK(read(plain, "auto")[1].score == Approx(0.25));
  }

  SECTION("rfw") {
    std::string text =
        "/test/data/African/m.0c7mh2/m.0c7mh2_0003.jpg\t0\t46.06\t62.03\t87.79\t60.32\t68.85\t77.66\t52.16\t99.88\t"
        "86.45\t98.65\n"
        "./test/data/African/m.0d_1/m.0d_1_0001.jpg 1 47.06 63.03 88.79 61.32 69.85 78.66 53.16 100.88 87.45 99.65\n";
    ff::test::write_text(dir / "African_lmk.txt", text);
    ff::test::write_text(dir / "landmarks.txt", text);  // no name hint: integer labels decide
    for (const auto& [name, format] : {std::pair{"African_lmk.txt", "rfw"}, std::pair{"African_lmk.txt", "auto"},
                                       std::pair{"landmarks.txt", "auto"}}) {
      INFO(name << " " << format);
      auto entries = read(dir / name, format);
      REQUIRE(entries.size() == 2);
      CHECK(entries[0].image == "test/data/African/m.0c7mh2/m.0c7mh2_0003.jpg");
      CHECK(entries[1].image == "test/data/African/m.0d_1/m.0d_1_0001.jpg");
      CHECK(entries[0].score == 1.0);
      check_points(entries[0], 0);
      check_points(entries[1], 1);
    }
  }

  SECTION("csv with and without header and score") {
    ff::test::write_text(dir / "h.csv",
                         "path,x1,y1,x2,y2,x3,y3,x4,y4,x5,y5,score\n"
                         "a/1.jpg,46.06,62.03,87.79,60.32,68.85,77.66,52.16,99.88,86.45,98.65,0.5\n"
                         "\"b,c/2.jpg\", 47.06,63.03,88.79,61.32,69.85,78.66,53.16,100.88,87.45,99.65,0.75\n");
    ff::test::write_text(dir / "n.csv",
                         "a/1.jpg,46.06,62.03,87.79,60.32,68.85,77.66,52.16,99.88,86.45,98.65\n"
                         "b/2.jpg,47.06,63.03,88.79,61.32,69.85,78.66,53.16,100.88,87.45,99.65\n");
    for (const char* format : {"csv", "auto"}) {
      auto h = read(dir / "h.csv", format);
      REQUIRE(h.size() == 2);
      CHECK(h[0].image == "a/1.jpg");
      CHECK(h[0].line == 2);
      CHECK(h[0].score == Approx(0.5));
      CHECK(h[1].image == "b,c/2.jpg");
      CHECK(h[1].score == Approx(0.75));
      check_points(h[0], 0);
      check_points(h[1], 1);
      auto n = read(dir / "n.csv", format);
      REQUIRE(n.size() == 2);
      CHECK(n[0].line == 1);
      CHECK(n[1].image == "b/2.jpg");
      CHECK(n[1].score == 1.0);
      check_points(n[1], 1);
    }
  }

  SECTION("malformed lines name file, line and what was expected") {
    const std::string good = "1.jpg 46.06 62.03 87.79 60.32 68.85 77.66 52.16 99.88 86.45 98.65 0.9\n";
    fs::path f = dir / "bad.txt";
    auto error = [&](const std::string& text, const std::string& format) {
      ff::test::write_text(f, text);
      return error_of([&] { read(f, format); });
    };
    const std::string at2 = f.string() + ":2: ";
    CHECK(error(good + "2.jpg 1 2 3 4 5 6\n", "ijb") ==
          at2 + "expected 12 fields (image, 10 coordinates, score), got 7");
    CHECK(error(good + "2.jpg 1 2 3 4 5 6\n", "auto") ==
          at2 + "expected 12 fields (image, 10 coordinates, score), got 7");
    CHECK(error(good + "2.jpg 1 2 abc 4 5 6 7 8 9 10 0.9\n", "ijb") ==
          at2 + "column 4 (x2, right eye x) is 'abc', expected a finite number");
    CHECK(error(good + "2.jpg 1 2 3 4 5 6 7 8 9 10 high\n", "ijb") ==
          at2 + "column 12 (faceness score) is 'high', expected a finite number");
    CHECK(error(good + "2.jpg 1 2 3 4 5 6 7 8 9 nan 0.9\n", "ijb") ==
          at2 + "column 11 (y5, right mouth corner y) is 'nan', expected a finite number");
    CHECK(error(good + "\n" + good, "ijb") == f.string() + ":3: image 1.jpg is listed again (first on line 1)");
    CHECK(error("p 0 1 2 3 4 5 6 7 8 9\n", "rfw") ==
          f.string() + ":1: expected 12 fields (path, label, 10 coordinates), got 11");
    CHECK(error("p 0 1 2 3 4 x 6 7 8 9 10\n", "rfw") ==
          f.string() + ":1: column 7 (x3, nose x) is 'x', expected a finite number");
    CHECK(error("a.jpg,1,2,3,4,5,6,7,8,9,10\nb.jpg,1,2,3\n", "csv") ==
          at2 + "expected 11 (as on the first line) comma-separated fields (image, 10 coordinates[, score]), got 4");
    CHECK(error("a.jpg,1,2,3\n", "csv") ==
          f.string() + ":1: expected 11 or 12 comma-separated fields (image, 10 coordinates[, score]), got 4");
    // A first row with some numbers is a bad row, not a header.
    CHECK(error("a.jpg,1,2,3,4,5,6,7,8,9,oops\n", "csv") ==
          f.string() + ":1: column 11 (y5, right mouth corner y) is 'oops', expected a finite number");
    CHECK(error("\"a.jpg,1,2,3,4,5,6,7,8,9,10\n", "csv") == f.string() + ":1: unterminated double quote");
    CHECK(error("../up.jpg 1 2 3 4 5 6 7 8 9 10 0.9\n", "ijb") ==
          f.string() + ":1: image path '../up.jpg' climbs out of the images folder with '..'");
    CHECK(error("a b c\n", "auto").rfind(f.string() + ":1: cannot tell the landmark format", 0) == 0);
    CHECK_THAT(error(good, "pts"), Contains("unknown landmark format 'pts'"));
    CHECK_THAT(error_of([&] { read(dir / "absent.txt", "auto"); }), Contains("cannot open landmark file"));
  }

  SECTION("LandmarkTable finds normalised relative paths") {
    ff::test::write_text(dir / "t_lmk.txt",
                         "/test/data/Asian/m.1/m.1_0001.jpg 0 46.06 62.03 87.79 60.32 68.85 77.66 52.16 99.88 86.45 "
                         "98.65\n");
    auto table = ff::datasets::LandmarkTable::read(dir / "t_lmk.txt");
    CHECK(table.size() == 1);
    const FivePoints* p = table.find("test/data/Asian/m.1/m.1_0001.jpg");
    REQUIRE(p != nullptr);
    CHECK((*p)[2].x == Approx(68.85));
    CHECK(table.find("./test/data/Asian/m.1/m.1_0001.jpg") == p);
    CHECK(table.find("test/data/Asian/m.1/m.1_0002.jpg") == nullptr);
    CHECK(table.find("") == nullptr);
  }
}

TEST_CASE("align_files writes aligned crops and refuses missing images", "[datasets]") {
  ff::test::TempDir dir("align-files");
  fs::path images = dir / "images", out = dir / "out";
  FivePoints p1 = transformed(kArcFaceTemplate, 15, 1.5, {50, 40});
  FivePoints p2 = transformed(kArcFaceTemplate, -10, 2.0, {20, 10});
  fs::create_directories(images / "a");
  fs::create_directories(images / "b");
  fs::create_directories(images / "c");
  REQUIRE(cv::imwrite((images / "a/1.png").string(), dots_image(250, p1, 2.0)));
  REQUIRE(cv::imwrite((images / "b/2.jpg").string(), dots_image(250, p2, 2.0), {cv::IMWRITE_JPEG_QUALITY, 100}));
  REQUIRE(cv::imwrite((images / "c/3.png").string(), dots_image(250, p1, 2.0)));
  auto row = [](const std::string& name, const FivePoints& p, double score) {
    std::string line = name;
    for (const auto& q : p) line += fmt::format(",{:.6f},{:.6f}", q.x, q.y);
    return line + fmt::format(",{}\n", score);
  };
  std::string text = "image,x1,y1,x2,y2,x3,y3,x4,y4,x5,y5,score\n" + row("a/1.png", p1, 0.9) +
                     row("b/2.jpg", p2, 0.8) + row("c/3.png", p1, 0.1);
  ff::test::write_text(dir / "landmarks.csv", text);

  ff::datasets::AlignOptions options;
  options.landmarks = dir / "landmarks.csv";
  options.images = images;
  options.out = out;
  options.min_score = 0.5;
  std::vector<std::pair<int64_t, int64_t>> calls;
  auto report =
      ff::datasets::align_files(options, [&](int64_t done, int64_t total) { calls.emplace_back(done, total); });
  CHECK(report.aligned == 2);
  CHECK(report.skipped_low_score == 1);
  CHECK(calls == std::vector<std::pair<int64_t, int64_t>>{{1, 3}, {2, 3}, {3, 3}});
  for (const char* name : {"a/1.png", "b/2.jpg"}) {
    INFO(name);
    cv::Mat crop = cv::imread((out / name).string(), cv::IMREAD_COLOR);
    REQUIRE(!crop.empty());
    CHECK(crop.rows == 112);
    CHECK(crop.cols == 112);
    CHECK(worst_template_distance(crop) < 0.35);
  }
  // The .jpg output is a JPEG, the .png output a PNG (magic bytes).
  auto head = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::string bytes(4, '\0');
    in.read(bytes.data(), 4);
    return bytes;
  };
  CHECK(head(out / "b/2.jpg").substr(0, 3) == "\xFF\xD8\xFF");
  CHECK(head(out / "a/1.png") == "\x89PNG");
  CHECK(!fs::exists(out / "c/3.png"));
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    CHECK(e.path().string().find(".tmp.") == std::string::npos);
    files += e.is_regular_file() ? 1 : 0;
  }
  CHECK(files == 2);

  // A listed image that is absent: named with its landmark line, before anything is written.
  fs::remove_all(out);
  ff::test::write_text(dir / "landmarks.csv", text + row("d/4.jpg", p2, 0.9));
  std::string error = error_of([&] { ff::datasets::align_files(options); });
  CHECK_THAT(error, Contains((images / "d/4.jpg").string() + " (" + (dir / "landmarks.csv").string() + ":5)"));
  CHECK_THAT(error, Contains("1 of 4 listed images do not exist"));
  CHECK(!fs::exists(out));

  // Below min_score an absent image is not needed.
  ff::test::write_text(dir / "landmarks.csv", text + row("d/4.jpg", p2, 0.2));
  CHECK(ff::datasets::align_files(options).skipped_low_score == 2);

  // A file that is not an image.
  ff::test::write_text(images / "e.jpg", "not a jpeg");
  ff::test::write_text(dir / "landmarks.csv", text + row("e.jpg", p2, 0.9));
  CHECK_THAT(error_of([&] { ff::datasets::align_files(options); }),
             Contains("cannot decode image " + (images / "e.jpg").string() + " (" +
                      (dir / "landmarks.csv").string() + ":5)"));
}
