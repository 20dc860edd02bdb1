// Tests for datasets/synthetic.cpp: determinism, identity signal against group mates, demographic
// groups, the written dataset (files, counts, verification pairs) and option validation.
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "datasets/synthetic.h"
#include "datasets/verification_bin.h"
#include "src/util/atomic_file.h"
#include "src/util/error.h"
#include "support.h"

namespace {

using namespace ff::datasets;
namespace fs = std::filesystem;

SyntheticOptions test_options(int seed) {
  SyntheticOptions o;
  o.identities = 120;
  o.images_per_identity = 6;
  o.seed = seed;
  o.groups = 4;
  o.pair_identities = 8;
  o.pairs = 40;
  return o;
}

cv::Mat render(const SyntheticOptions& o, int identity, int image) {
  cv::Mat img;
  render_synthetic(o, identity, image, img);
  return img;
}

bool identical(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

double mean_abs_difference(const cv::Mat& a, const cv::Mat& b) {
  return cv::norm(a, b, cv::NORM_L1) / a.total() / a.channels();
}

cv::Mat grey64(const cv::Mat& bgr) {
  cv::Mat grey, small, out;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  cv::resize(grey, small, cv::Size(64, 64), 0, 0, cv::INTER_AREA);
  small.convertTo(out, CV_32F);
  return out;
}

// Mean L1 distance (64x64 grey) between images of the same identity and between images of
// different identities of the same group, over identities [0, count) x images [0, images).
std::pair<double, double> within_and_between(const SyntheticOptions& o, int count, int images) {
  std::vector<std::vector<cv::Mat>> grey(count);
  for (int id = 0; id < count; ++id)
    for (int k = 0; k < images; ++k) grey[id].push_back(grey64(render(o, id, k)));
  double within = 0, between = 0;
  int n_within = 0, n_between = 0;
  for (int a = 0; a < count; ++a) {
    for (int b = a; b < count; ++b) {
      if (synthetic_group(o, a) != synthetic_group(o, b)) continue;
      for (int i = 0; i < images; ++i) {
        for (int j = 0; j < images; ++j) {
          if (a == b && j <= i) continue;
          double d = cv::norm(grey[a][i], grey[b][j], cv::NORM_L1) / (64.0 * 64.0);
          if (a == b) {
            within += d;
            ++n_within;
          } else {
            between += d;
            ++n_between;
          }
        }
      }
    }
  }
  return {within / n_within, between / n_between};
}

}  // namespace

TEST_CASE("synthetic images are deterministic per seed and independent of render order", "[datasets]") {
  const SyntheticOptions o = test_options(7);
  cv::Mat first = render(o, 5, 3);
  REQUIRE(first.type() == CV_8UC3);
  REQUIRE(first.rows == 112);
  REQUIRE(first.cols == 112);

  // Rendering other images in between must not change anything (no shared generator state).
  for (int id = 0; id < 4; ++id) render(o, id, id + 1);
  CHECK(identical(first, render(o, 5, 3)));

  // Two threads rendering at once give exactly the serial pixels.
  std::vector<cv::Mat> serial, threaded(16);
  for (int i = 0; i < 16; ++i) serial.push_back(render(o, i, i % 5));
  std::thread even([&] {
    for (int i = 0; i < 16; i += 2) threaded[i] = render(o, i, i % 5);
  });
  std::thread odd([&] {
    for (int i = 1; i < 16; i += 2) threaded[i] = render(o, i, i % 5);
  });
  even.join();
  odd.join();
  for (int i = 0; i < 16; ++i) CHECK(identical(serial[i], threaded[i]));

  // Another seed, another image index or another identity change the pixels.
  CHECK(mean_abs_difference(first, render(test_options(8), 5, 3)) > 5.0);
  CHECK(mean_abs_difference(first, render(o, 5, 4)) > 5.0);
  CHECK(mean_abs_difference(first, render(o, 6, 3)) > 5.0);

  // Identity parameters depend on the seed too.
  SyntheticIdentity a = synthetic_identity(o, 5), b = synthetic_identity(o, 5),
                    c = synthetic_identity(test_options(8), 5);
  CHECK(a.eye_half_gap == b.eye_half_gap);
  CHECK(a.marks.size() == b.marks.size());
  CHECK(a.eye_half_gap != c.eye_half_gap);
}

TEST_CASE("images of one identity are closer to each other than to group mates", "[datasets]") {
  const SyntheticOptions o = test_options(11);
  auto [within, between] = within_and_between(o, 20, 6);
  INFO("within " << within << " between " << between);
  CHECK(within < between);

  // Less variation brings images of an identity closer together; none leaves only the background.
  SyntheticOptions calm = o;
  calm.variation = 0.3;
  auto [within_calm, between_calm] = within_and_between(calm, 20, 6);
  INFO("calm within " << within_calm << " between " << between_calm);
  CHECK(within_calm < within);
  CHECK(within_calm < between_calm);

  // The identity shows in geometry: identities differ in their persistent parameters.
  std::set<float> eye_gaps, nose_lengths;
  for (int id = 0; id < 20; ++id) {
    SyntheticIdentity p = synthetic_identity(o, id);
    eye_gaps.insert(p.eye_half_gap);
    nose_lengths.insert(p.nose_length);
  }
  CHECK(eye_gaps.size() == 20);
  CHECK(nose_lengths.size() == 20);
}

TEST_CASE("identities fall into balanced demographic groups with shifted skin tones", "[datasets]") {
  const SyntheticOptions o = test_options(3);
  std::map<int, int> counts;
  for (int id = 0; id < o.identities; ++id) ++counts[synthetic_group(o, id)];
  REQUIRE(counts.size() == 4);
  for (auto [group, count] : counts) {
    CHECK(group >= 0);
    CHECK(group < 4);
    CHECK(count == o.identities / 4);
  }
  std::set<int> heldout_groups;
  for (int id = o.identities; id < o.identities + o.pair_identities; ++id)
    heldout_groups.insert(synthetic_group(o, id));
  CHECK(heldout_groups.size() == 4);
  CHECK(synthetic_identity(o, o.identities + 1).group == synthetic_group(o, o.identities + 1));

  SyntheticOptions six = o;
  six.groups = 6;
  six.pair_identities = 12;
  std::set<int> six_groups;
  for (int id = 0; id < 12; ++id) six_groups.insert(synthetic_group(six, id));
  CHECK(six_groups.size() == 6);

  // Mean brightness of the cheeks per group, over 24 identities x 2 images each (with all the
  // per-image light variation): the lightest and darkest groups must be far apart.
  std::map<int, double> cheek_sum;
  std::map<int, int> cheek_n;
  for (int id = 0; id < 96; ++id) {
    for (int k = 0; k < 2; ++k) {
      cv::Mat grey;
      cv::cvtColor(render(o, id, k), grey, cv::COLOR_BGR2GRAY);
      double cheeks = (cv::mean(grey(cv::Rect(24, 62, 12, 12)))[0] + cv::mean(grey(cv::Rect(76, 62, 12, 12)))[0]) / 2;
      cheek_sum[synthetic_group(o, id)] += cheeks;
      ++cheek_n[synthetic_group(o, id)];
    }
  }
  double lo = 1e9, hi = -1e9;
  for (auto [group, sum] : cheek_sum) {
    lo = std::min(lo, sum / cheek_n[group]);
    hi = std::max(hi, sum / cheek_n[group]);
  }
  INFO("darkest group mean " << lo << ", lightest " << hi);
  CHECK(hi - lo > 30.0);

  // Within a group the skin tone parameter varies only a little compared with between groups.
  std::map<int, std::vector<double>> tone;
  for (int id = 0; id < 96; ++id) {
    SyntheticIdentity p = synthetic_identity(o, id);
    tone[p.group].push_back((p.skin[0] + p.skin[1] + p.skin[2]) / 3.0);
  }
  double max_spread = 0, min_mean = 1e9, max_mean = -1e9;
  for (auto& [group, values] : tone) {
    auto [mn, mx] = std::minmax_element(values.begin(), values.end());
    max_spread = std::max(max_spread, *mx - *mn);
    double mean = 0;
    for (double v : values) mean += v / values.size();
    min_mean = std::min(min_mean, mean);
    max_mean = std::max(max_mean, mean);
  }
  CHECK(max_spread < max_mean - min_mean);
}

TEST_CASE("write_synthetic_dataset writes images, identities, options and held-out pairs", "[datasets]") {
  SyntheticOptions o;
  o.identities = 3;
  o.images_per_identity = 2;
  o.seed = 5;
  o.groups = 4;
  o.pair_identities = 8;
  o.pairs = 40;
  ff::test::TempDir dir("synthetic");
  REQUIRE(write_synthetic_dataset(o, dir.path()) == 6);

  // images/<id:05>/<k:03>.jpg for training identities only, JPEG close to the rendered pixels.
  int jpgs = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir / "images"))
    if (entry.is_regular_file()) ++jpgs;
  CHECK(jpgs == 6);
  for (int id = 0; id < 3; ++id)
    for (int k = 0; k < 2; ++k)
      CHECK(fs::exists(dir / "images" / fmt::format("{:05d}", id) / fmt::format("{:03d}.jpg", k)));
  cv::Mat decoded = cv::imread((dir / "images" / "00002" / "001.jpg").string());
  REQUIRE(decoded.rows == 112);
  CHECK(mean_abs_difference(decoded, render(o, 2, 1)) < 5.0);  // JPEG loss on noisy pixels
  CHECK(mean_abs_difference(decoded, render(o, 2, 0)) > 10.0);

  // identities.csv lists training and held-out identities with their groups.
  std::istringstream csv(ff::read_file(dir / "identities.csv"));
  std::string line;
  std::getline(csv, line);
  CHECK(line == "id,group,split");
  int rows = 0;
  while (std::getline(csv, line)) {
    std::string expected = fmt::format("{},{},{}", rows, synthetic_group(o, rows), rows < 3 ? "train" : "heldout");
    CHECK(line == expected);
    ++rows;
  }
  CHECK(rows == 11);

  auto meta = nlohmann::json::parse(ff::read_file(dir / "synthetic.json"));
  CHECK(meta.at("identities") == 3);
  CHECK(meta.at("images_per_identity") == 2);
  CHECK(meta.at("seed") == 5);
  CHECK(meta.at("groups") == 4);
  CHECK(meta.at("pair_identities") == 8);
  CHECK(meta.at("pairs") == 40);
  CHECK(meta.at("variation") == 1.0);

  // verification.bin: 10 folds of 4 pairs, each 2 genuine then 2 impostor.
  VerificationPack pack = read_verification_bin(dir / "verification.bin");
  REQUIRE(pack.pairs() == 40);
  REQUIRE(pack.images.size() == 80);
  for (int fold = 0; fold < 10; ++fold) {
    CHECK(pack.issame[fold * 4 + 0]);
    CHECK(pack.issame[fold * 4 + 1]);
    CHECK_FALSE(pack.issame[fold * 4 + 2]);
    CHECK_FALSE(pack.issame[fold * 4 + 3]);
  }

  // Identify every pair image by re-rendering held-out identities at image indices from
  // images_per_identity up: genuine pairs share an identity, impostors share a group, and no
  // image index repeats or falls into the training range.
  const std::vector<int> jpeg{cv::IMWRITE_JPEG_QUALITY, 95};
  std::map<std::string, std::pair<int, int>> source;
  for (int h = 3; h < 11; ++h) {
    for (int k = 0; k < 2 + 80; ++k) {
      std::vector<uchar> bytes;
      cv::imencode(".jpg", render(o, h, k), bytes, jpeg);
      source[std::string(bytes.begin(), bytes.end())] = {h, k};
    }
  }
  std::set<std::pair<int, int>> used;
  for (size_t i = 0; i < pack.pairs(); ++i) {
    auto a = source.find(pack.images[2 * i]), b = source.find(pack.images[2 * i + 1]);
    REQUIRE(a != source.end());
    REQUIRE(b != source.end());
    auto [ida, ka] = a->second;
    auto [idb, kb] = b->second;
    CHECK(ka >= 2);
    CHECK(kb >= 2);
    CHECK(used.insert({ida, ka}).second);
    CHECK(used.insert({idb, kb}).second);
    if (pack.issame[i]) {
      CHECK(ida == idb);
    } else {
      CHECK(ida != idb);
      CHECK(synthetic_group(o, ida) == synthetic_group(o, idb));
    }
  }

  // Same options, same bytes (rendering runs on two threads).
  ff::test::TempDir again("synthetic-again");
  write_synthetic_dataset(o, again.path());
  CHECK(ff::read_file(dir / "verification.bin") == ff::read_file(again / "verification.bin"));
  CHECK(ff::read_file(dir / "identities.csv") == ff::read_file(again / "identities.csv"));
  CHECK(ff::read_file(dir / "images" / "00001" / "000.jpg") == ff::read_file(again / "images" / "00001" / "000.jpg"));
}

TEST_CASE("invalid synthetic options are rejected naming the option", "[datasets]") {
  using Catch::Matchers::Contains;
  cv::Mat img;
  auto with = [](auto change) {
    SyntheticOptions o = test_options(1);
    change(o);
    return o;
  };
  CHECK_THROWS_WITH(validate_synthetic_options(with([](auto& o) { o.identities = 0; })),
                    Contains("identities") && Contains("got 0"));
  CHECK_THROWS_WITH(validate_synthetic_options(with([](auto& o) { o.images_per_identity = 0; })),
                    Contains("images_per_identity"));
  CHECK_THROWS_WITH(validate_synthetic_options(with([](auto& o) { o.groups = 3; })),
                    Contains("groups") && Contains("got 3"));
  CHECK_THROWS_WITH(validate_synthetic_options(with([](auto& o) { o.pair_identities = 7; })),
                    Contains("pair_identities") && Contains("got 7"));
  CHECK_THROWS_WITH(validate_synthetic_options(with([](auto& o) { o.pairs = 30; })),
                    Contains("pairs") && Contains("got 30"));
  CHECK_THROWS_WITH(validate_synthetic_options(with([](auto& o) { o.pairs = 0; })), Contains("pairs"));
  CHECK_THROWS_WITH(validate_synthetic_options(with([](auto& o) { o.variation = -0.5; })), Contains("variation"));
  CHECK_NOTHROW(validate_synthetic_options(test_options(1)));

  const SyntheticOptions o = test_options(1);
  CHECK_THROWS_WITH(render_synthetic(o, o.identities + o.pair_identities, 0, img), Contains("out of range"));
  CHECK_THROWS_WITH(render_synthetic(o, -1, 0, img), Contains("out of range"));
  CHECK_THROWS_WITH(render_synthetic(o, 0, -1, img), Contains("image index"));
  CHECK_THROWS_WITH(render_synthetic(with([](auto& o) { o.groups = 2; }), 0, 0, img), Contains("groups"));

  // An images/ folder with content is refused rather than mixed into.
  ff::test::TempDir used("synthetic-used");
  ff::test::write_text(used / "images" / "old" / "000.jpg", "x");
  SyntheticOptions tiny = test_options(1);
  tiny.identities = 1;
  tiny.images_per_identity = 1;
  CHECK_THROWS_WITH(write_synthetic_dataset(tiny, used.path()), Contains("already holds images"));

  // Nothing is written when the options are invalid.
  ff::test::TempDir dir("synthetic-invalid");
  CHECK_THROWS_AS(write_synthetic_dataset(with([](auto& o) { o.pairs = 30; }), dir.path()), ff::Error);
  CHECK(fs::is_empty(dir.path()));
}
