// Checks datasets/ijb_meta.cpp on tiny IJB trees written here, and src/eval/ijb.cpp against hand-worked
// templates and plain-loop recomputations of the aggregation and of every pair score.

// ATen before Catch: Debian's c10 pulls in glog, whose one-argument CHECK would otherwise replace
// Catch's when this file is compiled without the project's torch PCH.
#include <ATen/ATen.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "datasets/ijb_meta.h"
#include "src/eval/ijb.h"
#include "src/util/error.h"
#include "support.h"

namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using ff::datasets::IjbImage;
using ff::datasets::IjbMeta;
using ff::datasets::IjbPair;
using ff::datasets::read_ijb_meta;
using ff::eval::TemplateFeatures;

// The meta files of a tiny IJB tree, by name under meta/; tests edit one and write the tree.
// Lines deliberately mix spaces, tabs, CRLF and a blank line.
struct TinyTree {
  std::map<std::string, std::string> files;

  explicit TinyTree(const std::string& p = "ijbc") {
    files[p + "_face_tid_mid.txt"] =
        "1.jpg 7 100\n"
        "2.jpg 7 100\n"
        "3.jpg 3 200\r\n"
        "\n"
        "4.jpg\t7\t101\n"
        "5.jpg  12 300";  // no final newline
    files[p + "_name_5pts_score.txt"] =
        "1.jpg 38.5 51.25 73.5 51.5 56 71.75 41.5 92.25 70.75 92.5 0.875\n"
        "2.jpg 1 2 3 4 5 6 7 8 9 10 0.5\n"
        "3.jpg -1.5 2e1 3 4 5 6 7 8 9 10 1\n"
        "4.jpg 0 0 0 0 0 0 0 0 0 0 0.25\r\n"
        "5.jpg 10 20 30 40 50 60 70 80 90 100 0.125\n";
    files[p + "_template_pair_label.txt"] =
        "7 3 0\n"
        "7 12 1\n"
        "3 12 0\n";
    const std::string g1 = p == "ijbc" ? "G1" : "S1";
    const std::string g2 = p == "ijbc" ? "G2" : "S2";
    files[p + "_1N_gallery_" + g1 + ".csv"] =
        "TEMPLATE_ID,SUBJECT_ID,FILENAME\n"
        "7,1,img/1.jpg\n"
        "7,1,img/2.jpg\n"
        "7,1,img/4.jpg\n";
    // Columns in another order: they are found by header name.
    files[p + "_1N_gallery_" + g2 + ".csv"] =
        "FILENAME,SUBJECT_ID,TEMPLATE_ID\r\n"
        "img/3.jpg,2,3\r\n";
    files[p + "_1N_probe_mixed.csv"] =
        "TEMPLATE_ID,SUBJECT_ID,FILENAME,FACE_X\n"
        "12,1,frames/5.png,10\n"
        "3,2,img/3.jpg,11\n"
        "12,1,frames/6.png,12\n";
  }

  void write(const fs::path& root) const {
    for (const auto& [name, text] : files) ff::test::write_text(root / "meta" / name, text);
    for (int i = 1; i <= 5; ++i) ff::test::write_text(root / "loose_crop" / (std::to_string(i) + ".jpg"), "");
  }
};

// A tree with one meta file replaced (or removed when `text` is empty), written into `dir`.
fs::path tree_with(const ff::test::TempDir& dir, const std::string& name, const std::string& text) {
  fs::remove_all(dir / "meta");  // a file erased from the tree must not survive from an earlier call
  TinyTree tree;
  if (text.empty()) {
    tree.files.erase(name);
  } else {
    tree.files[name] = text;
  }
  tree.write(dir.path());
  return dir.path();
}

at::Tensor tensor_of(const std::vector<float>& values, int64_t rows, int64_t cols) {
  return at::from_blob(const_cast<float*>(values.data()), {rows, cols}, at::kFloat).clone();
}

std::vector<float> row_of(const at::Tensor& t, int64_t r) {
  const at::Tensor row = t[r].contiguous();
  return std::vector<float>(row.data_ptr<float>(), row.data_ptr<float>() + row.numel());
}

// Random unit-length templates with ids 3, 8, 13, ... (gaps, so that ids are not row numbers).
TemplateFeatures random_templates(int count, int dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> values(static_cast<size_t>(count) * dim);
  for (float& v : values) v = normal(rng);
  TemplateFeatures t;
  for (int i = 0; i < count; ++i) t.template_ids.push_back(3 + 5 * i);
  t.features = tensor_of(values, count, dim);
  t.features = t.features / t.features.norm(2, {1}, true);
  return t;
}

// Plain dot product of two templates found by a linear scan of the ids, in double.
double brute_score(const TemplateFeatures& t, const std::vector<float>& flat, int64_t a, int64_t b) {
  const int64_t dim = t.features.size(1);
  const auto row = [&](int64_t id) {
    return std::find(t.template_ids.begin(), t.template_ids.end(), id) - t.template_ids.begin();
  };
  const int64_t ra = row(a), rb = row(b);
  double dot = 0.0;
  for (int64_t d = 0; d < dim; ++d) dot += static_cast<double>(flat[ra * dim + d]) * flat[rb * dim + d];
  return dot;
}

std::vector<float> flat_of(const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

}  // namespace

TEST_CASE("IJB meta: a tiny IJB-C tree reads back every image, landmark, pair and 1:N field", "[eval]") {
  ff::test::TempDir dir("ijb-meta");
  TinyTree().write(dir.path());
  const IjbMeta meta = read_ijb_meta(dir.path());

  CHECK(meta.prefix == "ijbc");
  CHECK(meta.root == dir.path());
  REQUIRE(meta.images.size() == 5);
  const std::vector<std::string> files = {"1.jpg", "2.jpg", "3.jpg", "4.jpg", "5.jpg"};
  const std::vector<int64_t> templates = {7, 7, 3, 7, 12};
  const std::vector<int64_t> media = {100, 100, 200, 101, 300};
  const std::vector<std::array<float, 10>> landmarks = {
      {38.5f, 51.25f, 73.5f, 51.5f, 56.0f, 71.75f, 41.5f, 92.25f, 70.75f, 92.5f},
      {1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
      {-1.5f, 20.0f, 3, 4, 5, 6, 7, 8, 9, 10},
      {0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {10, 20, 30, 40, 50, 60, 70, 80, 90, 100}};
  const std::vector<float> scores = {0.875f, 0.5f, 1.0f, 0.25f, 0.125f};
  for (size_t i = 0; i < 5; ++i) {
    INFO("image " << i);
    CHECK(meta.images[i].file == files[i]);
    CHECK(meta.images[i].template_id == templates[i]);
    CHECK(meta.images[i].media_id == media[i]);
    CHECK(meta.images[i].landmarks == landmarks[i]);  // every value is exact in binary
    CHECK(meta.images[i].detector_score == scores[i]);
  }
  CHECK(meta.image_path(3) == dir.path() / "loose_crop" / "4.jpg");
  CHECK(fs::is_regular_file(meta.image_path(3)));

  REQUIRE(meta.pairs.size() == 3);
  CHECK((meta.pairs[0].t1 == 7 && meta.pairs[0].t2 == 3 && !meta.pairs[0].genuine));
  CHECK((meta.pairs[1].t1 == 7 && meta.pairs[1].t2 == 12 && meta.pairs[1].genuine));
  CHECK((meta.pairs[2].t1 == 3 && meta.pairs[2].t2 == 12 && !meta.pairs[2].genuine));

  // Rows reduce to one per template, in first-appearance order (probes: 12 before 3).
  REQUIRE(meta.galleries.size() == 2);
  CHECK(meta.galleries[0].name == "G1");
  CHECK(meta.galleries[0].template_ids == std::vector<int64_t>{7});
  CHECK(meta.galleries[0].subject_ids == std::vector<int64_t>{1});
  CHECK(meta.galleries[1].name == "G2");
  CHECK(meta.galleries[1].template_ids == std::vector<int64_t>{3});
  CHECK(meta.galleries[1].subject_ids == std::vector<int64_t>{2});
  REQUIRE(meta.probes.has_value());
  CHECK(meta.probes->name == "mixed");
  CHECK(meta.probes->template_ids == std::vector<int64_t>{12, 3});
  CHECK(meta.probes->subject_ids == std::vector<int64_t>{1, 2});
}

TEST_CASE("IJB meta: the prefix is detected from the tid_mid file or forced, IJB-B galleries are S1 and S2", "[eval]") {
  ff::test::TempDir dir("ijb-prefix");
  TinyTree("ijbb").write(dir.path());
  const IjbMeta b = read_ijb_meta(dir.path());
  CHECK(b.prefix == "ijbb");
  REQUIRE(b.galleries.size() == 2);
  CHECK(b.galleries[0].name == "S1");
  CHECK(b.galleries[1].name == "S2");
  CHECK(b.images.size() == 5);

  CHECK_THROWS_WITH(read_ijb_meta(dir.path(), {.prefix = "ijbc"}),
                    Contains((dir.path() / "meta").string() +
                             ": expected ijbc_face_tid_mid.txt, ijbc_name_5pts_score.txt and "
                             "ijbc_template_pair_label.txt, missing ijbc_face_tid_mid.txt, "
                             "ijbc_name_5pts_score.txt, ijbc_template_pair_label.txt"));
  CHECK_THROWS_WITH(read_ijb_meta(dir.path(), {.prefix = "ijba"}), Contains("expected \"ijbc\", \"ijbb\" or empty"));

  // Both sets in one folder: detection refuses to guess, a forced prefix picks one.
  TinyTree("ijbc").write(dir.path());
  CHECK_THROWS_WITH(read_ijb_meta(dir.path()), Contains("found both ijbc_face_tid_mid.txt and ijbb_face_tid_mid.txt"));
  CHECK(read_ijb_meta(dir.path(), {.prefix = "ijbc"}).galleries[0].name == "G1");
  CHECK(read_ijb_meta(dir.path(), {.prefix = "ijbb"}).galleries[0].name == "S1");
}

TEST_CASE("IJB meta: no 1:N files leave galleries empty and probes unset, a partial 1:N set fails", "[eval]") {
  ff::test::TempDir dir("ijb-1n");
  TinyTree tree;
  tree.files.erase("ijbc_1N_gallery_G1.csv");
  tree.files.erase("ijbc_1N_gallery_G2.csv");
  tree.files.erase("ijbc_1N_probe_mixed.csv");
  tree.write(dir.path());
  const IjbMeta meta = read_ijb_meta(dir.path());
  CHECK(meta.galleries.empty());
  CHECK_FALSE(meta.probes.has_value());
  CHECK(meta.pairs.size() == 3);

  ff::test::write_text(dir / "meta" / "ijbc_1N_probe_mixed.csv", "TEMPLATE_ID,SUBJECT_ID\n3,2\n");
  CHECK_THROWS_WITH(read_ijb_meta(dir.path()),
                    Contains("expected all three 1:N files ijbc_1N_gallery_G1.csv, ijbc_1N_gallery_G2.csv and "
                             "ijbc_1N_probe_mixed.csv or none, missing ijbc_1N_gallery_G1.csv, "
                             "ijbc_1N_gallery_G2.csv"));
}

TEST_CASE("IJB meta: every malformed file fails with file, line, what was expected and what was found", "[eval]") {
  ff::test::TempDir dir("ijb-errors");
  const std::string tid = "ijbc_face_tid_mid.txt";
  const std::string pts = "ijbc_name_5pts_score.txt";
  const std::string pairs = "ijbc_template_pair_label.txt";
  const std::string g1 = "ijbc_1N_gallery_G1.csv";
  const std::string probe = "ijbc_1N_probe_mixed.csv";
  const auto read = [&](const std::string& name, const std::string& text) {
    return read_ijb_meta(tree_with(dir, name, text));
  };
  const std::string meta_dir = (dir.path() / "meta").string();

  SECTION("tid_mid") {
    CHECK_THROWS_WITH(read(tid, "1.jpg 7 100\n2.jpg 7\n"),
                      Contains(tid + ":2: expected 3 fields `img.jpg template_id media_id`, found 2 in '2.jpg 7'"));
    CHECK_THROWS_WITH(read(tid, "1.jpg 7 100 9\n"), Contains(tid + ":1: expected 3 fields"));
    CHECK_THROWS_WITH(read(tid, "1.jpg 7 100\n\n2.jpg 7 1e2\n"),
                      Contains(tid + ":3: expected an integer media id (field 3), found '1e2'"));
    CHECK_THROWS_WITH(read(tid, "1.jpg seven 100\n"),
                      Contains(tid + ":1: expected an integer template id (field 2), found 'seven'"));
    CHECK_THROWS_WITH(read(tid, "\n  \n"),
                      Contains(tid + ": expected `img.jpg template_id media_id` lines, found none"));
  }
  SECTION("5pts") {
    CHECK_THROWS_WITH(read(pts, "1.jpg 1 2 3 4 5 6 7 8 9 10\n"),
                      Contains(pts + ":1: expected 12 fields `img.jpg x1 y1 ... x5 y5 faceness_score`, found 11"));
    CHECK_THROWS_WITH(read(pts, "1.jpg 1 2 3 4 5 6 7 8 9 10 1\n2.jpg 1 2 3 x 5 6 7 8 9 10 1\n"),
                      Contains(pts + ":2: expected a finite number for a landmark coordinate, found 'x'"));
    CHECK_THROWS_WITH(read(pts, "1.jpg 1 2 3 4 5 6 7 8 9 10 nan\n"),
                      Contains(pts + ":1: expected a finite number for the faceness score (field 12), found 'nan'"));
    // tid_mid lists 1.jpg, 2.jpg, 3.jpg (line 3), then a blank line, then 4.jpg at its line 5.
    CHECK_THROWS_WITH(read(pts, "1.jpg 1 2 3 4 5 6 7 8 9 10 1\n2.jpg 1 2 3 4 5 6 7 8 9 10 1\n"
                                "3.jpg 1 2 3 4 5 6 7 8 9 10 1\n5.jpg 1 2 3 4 5 6 7 8 9 10 1\n"),
                      Contains(pts + ":4: expected image '4.jpg' as " + meta_dir + "/" + tid +
                               ":5 lists it, found '5.jpg'"));
    CHECK_THROWS_WITH(read(pts, "1.jpg 1 2 3 4 5 6 7 8 9 10 1\n2.jpg 1 2 3 4 5 6 7 8 9 10 1\n"),
                      Contains(pts + ":2: expected 5 images as " + meta_dir + "/" + tid +
                               " lists, found only 2 (the file ends here; " + meta_dir + "/" + tid +
                               ":3 lists '3.jpg')"));
    CHECK_THROWS_WITH(read(pts, TinyTree().files[pts] + "6.jpg 1 2 3 4 5 6 7 8 9 10 1\n"),
                      Contains(pts + ":6: expected no more than the 5 images of"));
  }
  SECTION("pairs") {
    CHECK_THROWS_WITH(read(pairs, "7 3 0\n7 12\n"),
                      Contains(pairs + ":2: expected 3 fields `tid1 tid2 label`, found 2 in '7 12'"));
    CHECK_THROWS_WITH(read(pairs, "7 3 0\n7 x 1\n"),
                      Contains(pairs + ":2: expected an integer template id (field 2), found 'x'"));
    CHECK_THROWS_WITH(read(pairs, "7 3 0\n\n7 12 2\n"),
                      Contains(pairs + ":3: expected label 1 (genuine) or 0 (impostor) in field 3, found '2'"));
    CHECK_THROWS_WITH(read(pairs, "7 3 1.0\n"), Contains(pairs + ":1: expected label 1 (genuine) or 0"));
    CHECK_THROWS_WITH(read(pairs, "7 3 0\n7 12 1\n3 99 0\n"),
                      Contains(pairs + ":3: expected templates listed in " + meta_dir + "/" + tid +
                               ", found template 99 with no image there"));
    CHECK_THROWS_WITH(read(pairs, "\n"), Contains(pairs + ": expected `tid1 tid2 label` lines, found none"));
  }
  SECTION("1:N csv") {
    CHECK_THROWS_WITH(read(g1, "TEMPLATE,SUBJECT_ID\n7,1\n"),
                      Contains(g1 + ":1: expected a header row naming TEMPLATE_ID and SUBJECT_ID, found "
                                    "'TEMPLATE,SUBJECT_ID'"));
    CHECK_THROWS_WITH(read(g1, "TEMPLATE_ID,SUBJECT_ID,FILENAME\n7,1,a.jpg\n7,4,b.jpg\n"),
                      Contains(g1 + ":3: expected template 7 to keep subject 1 (line 2), found subject 4"));
    CHECK_THROWS_WITH(read(g1, "TEMPLATE_ID,SUBJECT_ID,FILENAME\n7,1,a.jpg\n7\n"),
                      Contains(g1 + ":3: expected at least 2 comma-separated fields (TEMPLATE_ID is column 1, "
                                    "SUBJECT_ID column 2), found 1 in '7'"));
    CHECK_THROWS_WITH(read(probe, "FILENAME,SUBJECT_ID,TEMPLATE_ID\na.jpg,1,7\nb.jpg,one,12\n"),
                      Contains(probe + ":3: expected an integer SUBJECT_ID, found 'one'"));
    CHECK_THROWS_WITH(read(probe, "TEMPLATE_ID,SUBJECT_ID\n12,1\n8,2\n"),
                      Contains(probe + ":3: expected templates listed in " + meta_dir + "/" + tid +
                               ", found template 8 with no image there"));
    CHECK_THROWS_WITH(read(g1, "TEMPLATE_ID,SUBJECT_ID\n"),
                      Contains(g1 + ": expected rows after the header, found none"));
  }
  SECTION("missing files") {
    CHECK_THROWS_WITH(read(pts, ""), Contains(meta_dir + ": expected " + tid + ", " + pts + " and " + pairs +
                                              ", missing " + pts));
    CHECK_THROWS_WITH(read_ijb_meta(dir / "nowhere"),
                      Contains((dir / "nowhere" / "meta").string() +
                               ": expected ijbc_face_tid_mid.txt (IJB-C) or ijbb_face_tid_mid.txt (IJB-B), found "
                               "neither (no such folder)"));
  }
}

TEST_CASE("IJB templates: media means summed per template, with the N and D switches each changing the answer",
          "[eval]") {
  // Media are (template, media) pairs: media id 1 occurs in templates 7 and 3 and must not be merged.
  //   i0: t7 m1 (2, 0) score 0.5     i1: t3 m9 (0, -5) score 0.8    i2: t7 m2 (0, 2) score 1
  //   i3: t3 m1 (3, 0) score 1       i4: t7 m1 (0, 4) score 0.25
  std::vector<IjbImage> images(5);
  const int64_t tmpl[] = {7, 3, 7, 3, 7};
  const int64_t media[] = {1, 9, 2, 1, 1};
  const float score[] = {0.5f, 0.8f, 1.0f, 1.0f, 0.25f};
  for (size_t i = 0; i < 5; ++i) {
    images[i].template_id = tmpl[i];
    images[i].media_id = media[i];
    images[i].detector_score = score[i];
  }
  const at::Tensor features = tensor_of({2, 0, 0, -5, 0, 2, 3, 0, 0, 4}, 5, 2);

  struct Case {
    bool n, d;
    std::vector<float> t3, t7;  // unnormalised; the expected row is this over its norm
  };
  // none: t7 = mean((2,0),(0,4)) + (0,2) = (1,2) + (0,2) = (1,4);   t3 = (3,0) + (0,-5) = (3,-5)
  // N:    t7 = mean((1,0),(0,1)) + (0,1) = (.5,1.5) ~ (1,3);         t3 = (1,0) + (0,-1) = (1,-1)
  // D:    t7 = mean((1,0),(0,1)) + (0,2) = (.5,2.5) ~ (1,5);         t3 = (3,0) + (0,-4) = (3,-4)
  // N+D:  t7 = mean((.5,0),(0,.25)) + (0,1) = (.25,1.125) ~ (2,9);   t3 = (1,0) + (0,-.8) ~ (5,-4)
  // (Merging media 1 across templates would give t7 = mean((2,0),(3,0),(0,4)) + ... instead.)
  const std::vector<Case> cases = {{false, false, {3, -5}, {1, 4}},
                                   {true, false, {1, -1}, {1, 3}},
                                   {false, true, {3, -4}, {1, 5}},
                                   {true, true, {5, -4}, {2, 9}}};
  for (const Case& c : cases) {
    INFO("normalize_images " << c.n << ", detector_weight " << c.d);
    const TemplateFeatures t =
        ff::eval::aggregate_templates(features, images, {.normalize_images = c.n, .detector_weight = c.d});
    REQUIRE(t.template_ids == std::vector<int64_t>{3, 7});
    REQUIRE(t.features.sizes() == at::IntArrayRef({2, 2}));
    for (int row = 0; row < 2; ++row) {
      const std::vector<float>& v = row == 0 ? c.t3 : c.t7;
      const double norm = std::hypot(v[0], v[1]);
      const std::vector<float> got = row_of(t.features, row);
      CHECK(got[0] == Approx(v[0] / norm).margin(1e-6));
      CHECK(got[1] == Approx(v[1] / norm).margin(1e-6));
    }
  }
}

TEST_CASE("IJB templates: random images agree with a nested-loop aggregation under every switch", "[eval]") {
  std::mt19937 rng(20240611);
  const int n = 300, dim = 8;
  std::uniform_int_distribution<int> pick_template(0, 14), pick_media(0, 5);
  std::uniform_real_distribution<float> uniform(0.1f, 1.0f);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<IjbImage> images(n);
  std::vector<float> values(static_cast<size_t>(n) * dim);
  for (int i = 0; i < n; ++i) {
    images[i].template_id = 1000 - 37 * pick_template(rng);  // unsorted in file order, shared media ids
    images[i].media_id = pick_media(rng);
    images[i].detector_score = uniform(rng);
    for (int d = 0; d < dim; ++d) values[static_cast<size_t>(i) * dim + d] = normal(rng);
  }
  const at::Tensor features = tensor_of(values, n, dim);

  for (int mode = 0; mode < 4; ++mode) {
    const bool norm_images = mode & 1, weight = mode & 2;
    INFO("normalize_images " << norm_images << ", detector_weight " << weight);
    const TemplateFeatures t = ff::eval::aggregate_templates(features, images, {norm_images, weight});

    std::set<int64_t> template_set;
    for (const IjbImage& im : images) template_set.insert(im.template_id);
    REQUIRE(t.template_ids == std::vector<int64_t>(template_set.begin(), template_set.end()));
    int row = 0;
    for (int64_t tid : template_set) {
      std::set<int64_t> media_set;
      for (const IjbImage& im : images) if (im.template_id == tid) media_set.insert(im.media_id);
      std::vector<double> sum(dim, 0.0);
      for (int64_t mid : media_set) {
        std::vector<double> acc(dim, 0.0);
        int members = 0;
        for (int i = 0; i < n; ++i) {
          if (images[i].template_id != tid || images[i].media_id != mid) continue;
          double scale = weight ? images[i].detector_score : 1.0;
          if (norm_images) {
            double sq = 0.0;
            for (int d = 0; d < dim; ++d) sq += double(values[i * dim + d]) * values[i * dim + d];
            scale /= std::sqrt(sq);
          }
          for (int d = 0; d < dim; ++d) acc[d] += scale * values[i * dim + d];
          ++members;
        }
        for (int d = 0; d < dim; ++d) sum[d] += acc[d] / members;
      }
      double sq = 0.0;
      for (double s : sum) sq += s * s;
      const std::vector<float> got = row_of(t.features, row++);
      for (int d = 0; d < dim; ++d) CHECK(got[d] == Approx(sum[d] / std::sqrt(sq)).margin(2e-6));
    }
  }
}

TEST_CASE("IJB templates: features of the wrong shape or type are refused", "[eval]") {
  std::vector<IjbImage> images(3);
  CHECK_THROWS_WITH(ff::eval::aggregate_templates(at::zeros({2, 4}), images),
                    Contains("aggregate_templates: expected image features [3, D] floating point"));
  CHECK_THROWS_WITH(ff::eval::aggregate_templates(at::zeros({3, 4}, at::kLong), images),
                    Contains("found [3, 4] Long"));
}

TEST_CASE("IJB scores: score_pairs equals per-pair dot products on dense blocks, gathered blocks and both", "[eval]") {
  // 320 templates, blocks of 64 t1 rows (max_block_bytes = 64 rows x 320 x 4 bytes). t1 rows 0..127
  // pair with half of all templates (fill ~0.5: dense); rows 128..319 pair once each with 64
  // distinct partners per block (fill 64 / (64 x 64) = 1/64 < 1/32: gathered). Pairs are shuffled,
  // include self pairs and repeats, so grouping must not rely on file order.
  const int count = 320, dim = 27;  // not a multiple of 8: the dot product's tail runs too
  const TemplateFeatures t = random_templates(count, dim, 7);
  const std::vector<float> flat = flat_of(t.features);
  std::mt19937 rng(11);
  std::bernoulli_distribution half(0.5);
  std::vector<IjbPair> pairs;
  int64_t dense_expected = 0;
  for (int r = 0; r < 128; ++r) {
    for (int c = 0; c < count; ++c) {
      if (half(rng) || c == r) {
        pairs.push_back({t.template_ids[r], t.template_ids[c], half(rng)});
        ++dense_expected;
      }
    }
  }
  pairs.push_back(pairs[5]);
  ++dense_expected;
  for (int r = 128; r < count; ++r) pairs.push_back({t.template_ids[r], t.template_ids[(r * 5) % count], false});
  std::shuffle(pairs.begin(), pairs.end(), rng);

  std::vector<double> expected;
  for (const IjbPair& p : pairs) expected.push_back(brute_score(t, flat, p.t1, p.t2));

  struct Run {
    double min_dense_fill;
    int64_t dense_blocks, gathered_blocks;
  };
  // Both paths (default rule), every block dense (fill >= 0), every block gathered (fill <= 1 < 2).
  const double default_fill = ff::eval::PairScoreOptions().min_dense_fill;
  REQUIRE((default_fill > 1.0 / 64 && default_fill <= 0.4));  // the split below relies on it
  for (const Run run : {Run{default_fill, 2, 3}, Run{0.0, 5, 0}, Run{2.0, 0, 5}}) {
    INFO("min_dense_fill " << run.min_dense_fill);
    ff::eval::PairScoreStats stats;
    const ff::eval::PairScoreOptions options{.max_block_bytes = 64 * count * 4, .min_dense_fill = run.min_dense_fill};
    const std::vector<float> got = ff::eval::score_pairs(t, pairs, options, &stats);
    CHECK(stats.dense_blocks == run.dense_blocks);
    CHECK(stats.gathered_blocks == run.gathered_blocks);
    CHECK(stats.dense_pairs + stats.gathered_pairs == static_cast<int64_t>(pairs.size()));
    if (run.min_dense_fill == default_fill) CHECK(stats.dense_pairs == dense_expected);
    REQUIRE(got.size() == pairs.size());
    int wrong = 0;
    for (size_t i = 0; i < pairs.size(); ++i) wrong += std::abs(got[i] - expected[i]) > 1e-5;
    CHECK(wrong == 0);
    const auto self = std::find_if(pairs.begin(), pairs.end(), [](const IjbPair& p) { return p.t1 == p.t2; });
    CHECK(got[self - pairs.begin()] == Approx(1.0).margin(1e-5));
  }
  CHECK(ff::eval::score_pairs(t, {}).empty());
}

TEST_CASE("IJB scores: a pair naming a template without features fails, naming the first such pair", "[eval]") {
  const TemplateFeatures t = random_templates(4, 3, 1);  // ids 3, 8, 13, 18
  const std::vector<IjbPair> pairs = {{3, 8, true}, {8, 13, false}, {13, 99, false}, {5, 3, true}};
  CHECK_THROWS_WITH(ff::eval::score_pairs(t, pairs),
                    Contains("score_pairs: pairs[2] = (13, 99): expected templates with features, found none for "
                             "template 99 (4 templates have features)"));
  CHECK_THROWS_WITH(ff::eval::score_pairs(t, {{5, 3, true}}), Contains("pairs[0] = (5, 3)"));
  TemplateFeatures unsorted = t;
  unsorted.template_ids = {3, 13, 8, 18};
  CHECK_THROWS_WITH(ff::eval::score_pairs(unsorted, {{3, 8, true}}),
                    Contains("expected strictly ascending template ids, found 8 after 13 at index 2"));
}

TEST_CASE("IJB scores: score_matrix holds probe x gallery cosines and refuses unknown ids", "[eval]") {
  const TemplateFeatures t = random_templates(30, 16, 5);
  const std::vector<float> flat = flat_of(t.features);
  const std::vector<int64_t> probes = {148, 3, 73, 8, 3};  // unsorted, one repeated
  const std::vector<int64_t> gallery = {13, 143, 18};
  const at::Tensor m = ff::eval::score_matrix(t, probes, gallery);
  REQUIRE(m.sizes() == at::IntArrayRef({5, 3}));
  REQUIRE(m.is_contiguous());
  const float* s = m.data_ptr<float>();
  for (size_t p = 0; p < probes.size(); ++p) {
    for (size_t g = 0; g < gallery.size(); ++g) {
      CHECK(s[p * gallery.size() + g] == Approx(brute_score(t, flat, probes[p], gallery[g])).margin(1e-5));
    }
  }
  CHECK_THROWS_WITH(ff::eval::score_matrix(t, probes, {13, 14}),
                    Contains("score_matrix: gallery_template_ids[1] = 14: expected a template with features, "
                             "found none"));
  CHECK_THROWS_WITH(ff::eval::score_matrix(t, {2}, gallery), Contains("probe_template_ids[0] = 2"));
}
