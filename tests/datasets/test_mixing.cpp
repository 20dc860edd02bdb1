// Mixing sources: exact per-batch shares, label spaces, caps, rank shards, epoch definitions, and
// the loader's handling of unreadable images. Expectations are counted directly from the orders.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <set>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include "datasets/alignment.h"
#include "datasets/image_list.h"
#include "datasets/loader.h"
#include "datasets/mixing.h"
#include "src/util/error.h"
#include "support.h"

using namespace ff::datasets;
namespace fs = std::filesystem;

namespace {

// root/<id>/<k>.jpg, solid colours (identity i, image k); returns the root.
fs::path write_folder(const fs::path& root, int identities, int images) {
  for (int i = 0; i < identities; ++i) {
    fs::create_directories(root / fmt::format("id{:02}", i));
    for (int k = 0; k < images; ++k) {
      cv::Mat m(112, 112, CV_8UC3, cv::Scalar(10 * i, 5 * k, 100));
      cv::imwrite((root / fmt::format("id{:02}", i) / fmt::format("{}.jpg", k)).string(), m);
    }
  }
  return root;
}

SourceOptions synthetic(const std::string& name, int identities, int images, double share) {
  SourceOptions o;
  o.name = name;
  o.format = "synthetic";
  o.synthetic.identities = identities;
  o.synthetic.images_per_identity = images;
  o.synthetic.seed = identities;
  o.share = share;
  return o;
}

}  // namespace

TEST_CASE("batch quotas fill every batch exactly and track each share to within one image", "[datasets]") {
  struct Case {
    std::vector<double> shares;
    int batch;
  };
  for (const auto& c : {Case{{0.7, 0.3}, 10}, Case{{0.7, 0.3}, 64}, Case{{0.5, 0.3, 0.2}, 7}, Case{{0.95, 0.05}, 8},
                        Case{{1.0 / 3, 1.0 / 3, 1.0 / 3}, 32}}) {
    auto quotas = batch_quotas(c.shares, c.batch, 500);
    std::vector<int64_t> total(c.shares.size(), 0);
    for (int64_t s = 0; s < 500; ++s) {
      int sum = 0;
      for (size_t k = 0; k < c.shares.size(); ++k) {
        CHECK(quotas[s][k] >= 0);
        sum += quotas[s][k];
        total[k] += quotas[s][k];
        // Hand bound: the running count stays within one image of (steps so far) x B x share.
        CHECK(std::abs(static_cast<double>(total[k]) - (s + 1) * c.batch * c.shares[k]) < 1.0 + 1e-9);
      }
      CHECK(sum == c.batch);
    }
  }
  // 0.7 / 0.3 of 10 is exactly 7 / 3 in every batch.
  for (const auto& q : batch_quotas({0.7, 0.3}, 10, 20)) CHECK(q == std::vector<int>{7, 3});
}

TEST_CASE("a mixed source offsets labels in the shared space and keeps them per source otherwise", "[datasets]") {
  DataOptions data;
  data.sources = {synthetic("real", 5, 4, 0.75), synthetic("synth", 3, 6, 0.25)};
  auto shared = open_sources(data);
  CHECK(shared->size() == 5 * 4 + 3 * 6);
  CHECK(shared->num_classes() == 8);
  CHECK(shared->label(0) == 0);
  CHECK(shared->origin(20) == 1);
  CHECK(shared->label(20) == 5);                 // synth identity 0 after real's 5
  CHECK(shared->label(20 + 17) == 5 + 2);        // synth image 17 = identity 2
  CHECK(shared->members()[1].kind == "synthetic");
  CHECK(shared->record_name(21) == "synth: record 1");
  data.label_space = "per_source";
  auto separate = open_sources(data);
  CHECK(separate->label(20) == 0);
  CHECK(separate->label(37) == 2);
  CHECK(separate->num_classes() == 5);
}

TEST_CASE("caps keep the first identities and each identity's first images", "[datasets]") {
  DataOptions data;
  data.sources = {synthetic("s", 6, 5, 1.0)};
  data.sources[0].max_identities = 4;
  data.sources[0].max_images_per_identity = 3;
  auto source = open_sources(data);
  REQUIRE(source->size() == 12);
  CHECK(source->num_classes() == 4);
  const auto& m = source->members()[0];
  // Kept records: identities 0..3, images 0..2 of each (the generator lays identity i at i*5..i*5+4).
  std::vector<int64_t> expected;
  for (int i = 0; i < 4; ++i)
    for (int k = 0; k < 3; ++k) expected.push_back(i * 5 + k);
  CHECK(m.records == expected);
  for (int64_t j = 0; j < 12; ++j) CHECK(source->label(j) == j / 3);
}

TEST_CASE("every batch holds each source's quota, ranks read disjoint equal shares, epochs are passes",
          "[datasets]") {
  DataOptions data;
  data.sources = {synthetic("real", 10, 6, 0.7), synthetic("synth", 4, 5, 0.3)};  // 60 and 20 images
  auto source = open_sources(data);
  const int batch = 10, world = 3;
  std::vector<std::set<int64_t>> seen_by_rank(world);
  std::map<int64_t, std::set<int64_t>> synth_by_epoch;  // over all ranks
  int64_t steps = -1;
  for (int rank = 0; rank < world; ++rank) {
    MixSchedule schedule(*source, batch, Shard{rank, world}, 7, 0, 0);
    // 60 real images / 3 ranks = 20 per rank per pass; 7 per batch -> 2 steps (14 images) fit.
    CHECK(schedule.shard_size(0) == 20);
    CHECK(schedule.shard_size(1) == 6);  // 20 / 3, remainder dropped
    CHECK(schedule.steps_per_epoch() == 2);
    steps = schedule.steps_per_epoch();
    for (int64_t epoch = 0; epoch < 3; ++epoch) {
      auto order = schedule.epoch_order(epoch);
      REQUIRE(order.size() == static_cast<size_t>(steps * batch));
      std::set<int64_t> real_this_epoch;
      for (int64_t s = 0; s < steps; ++s) {
        int real = 0;
        for (int j = 0; j < batch; ++j) {
          int64_t record = order[static_cast<size_t>(s * batch + j)];
          if (source->origin(record) == 0) {
            ++real;
            CHECK(real_this_epoch.insert(record).second);  // each real image at most once per epoch
          }
          if (epoch == 0 && source->origin(record) == 0) seen_by_rank[rank].insert(record);
        }
        CHECK(real == 7);
      }
    }
    // The synthetic stream carries on across epochs: each epoch draws 2 x 3 = 6 synthetic images,
    // exactly this rank's slice of one pass, so every epoch is a new pass: 6 distinct images.
    for (int64_t epoch = 0; epoch < 3; ++epoch) {
      std::set<int64_t> synth;
      for (int64_t r : schedule.epoch_order(epoch))
        if (source->origin(r) == 1) synth.insert(r);
      CHECK(synth.size() == 6);
      for (int64_t r : synth) CHECK(synth_by_epoch[epoch].insert(r).second);  // disjoint from other ranks
    }
  }
  // Ranks' real images within the first epoch's pass are disjoint.
  for (int a = 0; a < world; ++a)
    for (int b = a + 1; b < world; ++b)
      for (int64_t r : seen_by_rank[a]) CHECK(seen_by_rank[b].count(r) == 0);

  // Fixed-length epochs: every stream carries on. One step per epoch draws 3 synthetic images,
  // so epochs 0 and 1 together are exactly one pass (6 distinct), and epoch 2 starts the next.
  MixSchedule fixed(*source, batch, Shard{0, world}, 7, 0, 1);
  CHECK(fixed.steps_per_epoch() == 1);
  std::set<int64_t> first_pass;
  for (int64_t epoch : {0, 1})
    for (int64_t r : fixed.epoch_order(epoch))
      if (source->origin(r) == 1) CHECK(first_pass.insert(r).second);
  CHECK(first_pass.size() == 6);
  CHECK(MixSchedule(*source, batch, Shard{}, 7, 0, 5).epoch_order(1).size() == 50);
  CHECK_THROWS_WITH(MixSchedule(*source, batch, Shard{3, 3}, 7, 0, 0), "data shard: rank 3 of world 3 is not a valid rank");
}

TEST_CASE("the loader carries each image's source and replaces unreadable images up to the limit", "[datasets]") {
  ff::test::TempDir dir("mixing");
  write_folder(dir / "real", 4, 4);
  ff::test::write_text(dir / "real" / "id01" / "9_broken.jpg", "this is not a jpeg");
  DataOptions data;
  SourceOptions real;
  real.name = "real";
  real.format = "folder";
  real.path = (dir / "real").string();
  real.share = 0.5;
  data.sources = {real, synthetic("synth", 4, 4, 0.5)};
  data.workers = 2;
  auto source = open_sources(data);
  MixSchedule schedule(*source, 8, Shard{}, 3, 0, 0);  // 17 real images, 4 per batch -> 4 steps
  REQUIRE(schedule.steps_per_epoch() == 4);
  Loader loader(*source, 8, data, 3, [&](int64_t e) { return schedule.epoch_order(e); });
  loader.start_epoch(0);
  int batches = 0;
  while (auto b = loader.next()) {
    ++batches;
    CHECK(b->origins.sum().item<int64_t>() == 4);  // 4 of 8 from source 1
    for (int j = 0; j < 8; ++j)
      CHECK((b->origins[j].item<int64_t>() == 0) == (b->labels[j].item<int64_t>() < 4));
  }
  CHECK(batches == 4);
  // The broken file is one of 17 real images and 16 are read this epoch; when drawn it was replaced.
  auto order = schedule.epoch_order(0);
  int64_t broken = -1;
  for (int64_t i = 0; i < source->size(); ++i)
    if (source->record_name(i) == "real: id01/9_broken.jpg") broken = i;
  REQUIRE(broken >= 0);
  const bool drawn = std::count(order.begin(), order.end(), broken) > 0;
  CHECK(loader.bad_images() == (drawn ? 1 : 0));
  if (drawn) CHECK_THAT(loader.bad_image_messages().at(0), Catch::Contains("source 'real': cannot decode image") &&
                                                           Catch::Contains("9_broken.jpg"));
  // With no tolerance the run stops at the first unreadable image, naming it.
  data.max_bad_images = 0;
  for (int64_t epoch = 0;; ++epoch) {
    auto o = schedule.epoch_order(epoch);
    if (std::count(o.begin(), o.end(), broken) == 0) continue;
    Loader strict(*source, 8, data, 3, [&](int64_t e) { return schedule.epoch_order(e); });
    strict.start_epoch(epoch);
    std::string error = ff::test::error_of([&] {
      while (strict.next()) {
      }
    });
    CHECK_THAT(error, Catch::StartsWith("data loading failed: 1 unreadable images, more than data.max_bad_images = 0") &&
                          Catch::Contains("9_broken.jpg"));
    break;
  }
}

TEST_CASE("list files: paths and labels, and malformed lines named by line number", "[datasets]") {
  ff::test::TempDir dir("list");
  write_folder(dir.path(), 2, 2);
  ff::test::write_text(dir / "train.lst", "# path label\nid00/0.jpg 0\n\nid00/1.jpg 0\nid01/0.jpg\t1\nid01/1.jpg 1\n");
  ImageListSource list(dir / "train.lst", "");
  CHECK(list.size() == 4);
  CHECK(list.num_classes() == 2);
  CHECK(list.label(2) == 1);
  CHECK(list.record_name(2) == "id01/0.jpg");
  cv::Mat bgr;
  list.load(3, bgr);
  CHECK(bgr.rows == 112);
  auto error_for = [&](const std::string& text) {
    ff::test::write_text(dir / "bad.lst", text);
    std::string e = ff::test::error_of([&] { ImageListSource(dir / "bad.lst", dir.path()); });
    return e.substr(e.find("bad.lst"));
  };
  CHECK(error_for("id00/0.jpg 0\nid00/1.jpg\n") == "bad.lst:2: expected `relative/path label`, got 'id00/1.jpg'");
  CHECK(error_for("id00/0.jpg zero\n") == "bad.lst:1: label 'zero' is not an integer (expected `relative/path label`)");
  CHECK(error_for("a.jpg 0\nb.jpg -3\n") == "bad.lst:2: label out of range: -3 (labels are 0, 1, 2, ...)");
  CHECK(ff::test::error_of([&] { ImageListSource(dir / "none.lst", ""); }) ==
        "list file not found: " + (dir / "none.lst").string());
  ff::test::write_text(dir / "missing.lst", "id09/0.jpg 0\n");
  ImageListSource missing(dir / "missing.lst", dir.path());
  CHECK(ff::test::error_of([&] { missing.load(0, bgr); }) == "cannot decode image " + (dir / "id09/0.jpg").string() +
                                                               " (listed at " + (dir / "missing.lst").string() + ":1)");
}

TEST_CASE("source paths: a synth folder needs its synthetic.json, a folder counts non-image files", "[datasets]") {
  ff::test::TempDir dir("sources");
  write_folder(dir / "faces", 2, 2);
  ff::test::write_text(dir / "faces" / "id00" / "notes.txt", "not an image");
  SourceOptions o;
  o.format = "synthetic";
  o.path = (dir / "faces").string();
  CHECK(ff::test::error_of([&] { open_source(o); }) ==
        (dir / "faces").string() + " is not a complete `faceforge data synth` output folder (no synthetic.json)");
  o.format = "folder";
  auto folder = open_source(o);
  CHECK(folder->size() == 4);
  CHECK_THAT(folder->describe(), Catch::EndsWith("(1 non-image files ignored)"));
  CHECK(source_at((dir / "faces").string()).format == "folder");
  CHECK(source_at((dir / "faces" / "id00" / "notes.txt").string()).format == "list");
  DataOptions data;
  data.sources = {o};
  data.sources[0].path = (dir / "nowhere").string();
  CHECK(ff::test::error_of([&] { open_sources(data); }) ==
        "data.sources[0] (folder0): image folder not found: " + (dir / "nowhere").string());
}

TEST_CASE("P x K orders are split between ranks batch by batch", "[datasets]") {
  std::vector<int64_t> order(7 * 4);  // 7 batches of 4
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  auto r0 = shard_batches(order, 4, Shard{0, 3});
  auto r2 = shard_batches(order, 4, Shard{2, 3});
  CHECK(r0 == std::vector<int64_t>{0, 1, 2, 3, 12, 13, 14, 15});  // batches 0 and 3; batch 6 dropped
  CHECK(r2 == std::vector<int64_t>{8, 9, 10, 11, 20, 21, 22, 23});  // batches 2 and 5
  CHECK(shard_batches(order, 4, Shard{}) == order);
}

TEST_CASE("in-pipeline alignment warps each image with its listed landmarks", "[datasets]") {
  ff::test::TempDir dir("aligned");
  fs::create_directories(dir / "faces" / "id00");
  // Dots where the template points land after scaling by 1.5 and shifting by (30, 12).
  cv::Mat image(250, 250, CV_8UC3, cv::Scalar(0, 0, 0));
  std::string points;
  for (const auto& pt : kArcFaceTemplate) {
    cv::Point2d q(1.5 * pt.x + 30, 1.5 * pt.y + 12);
    cv::circle(image, q, 2, cv::Scalar(255, 255, 255), cv::FILLED);
    points += fmt::format(",{},{}", q.x, q.y);
  }
  cv::imwrite((dir / "faces" / "id00" / "0.png").string(), image);
  cv::imwrite((dir / "faces" / "id00" / "1.png").string(), image);
  ff::test::write_text(dir / "lm.csv", "id00/0.png" + points + "\nid00/1.png" + points + "\n");
  DataOptions data;
  SourceOptions o;
  o.format = "folder";
  o.path = (dir / "faces").string();
  o.landmarks = (dir / "lm.csv").string();
  data.sources = {o};
  auto source = open_sources(data);
  cv::Mat out;
  source->load(1, out);
  REQUIRE(out.rows == 112);
  for (const auto& pt : kArcFaceTemplate)
    CHECK(out.at<cv::Vec3b>(static_cast<int>(std::lround(pt.y)), static_cast<int>(std::lround(pt.x)))[1] > 150);
  // An image without landmarks is found when the source opens.
  cv::imwrite((dir / "faces" / "id00" / "2.png").string(), image);
  CHECK_THAT(ff::test::error_of([&] { open_sources(data); }),
             Catch::Contains("has no landmarks for id00/2.png"));
}

TEST_CASE("augmentation draws depend on rank and epoch and repeat exactly for the same ones", "[datasets]") {
  DataOptions data;
  data.sources = {synthetic("s", 4, 4, 1.0)};
  data.augment.crop.p = 1;
  data.augment.erase.p = 1;
  data.workers = 2;
  auto source = open_sources(data);
  std::vector<int64_t> order(16);
  for (int64_t i = 0; i < 16; ++i) order[static_cast<size_t>(i)] = i;  // same images for every loader
  auto first_batch = [&](int rank, int64_t epoch) {
    Loader loader(*source, 8, data, 5, [&](int64_t) { return order; }, rank);
    loader.start_epoch(epoch);
    return loader.next()->images.clone();
  };
  auto a = first_batch(0, 0);
  CHECK(torch::equal(a, first_batch(0, 0)));
  CHECK_FALSE(torch::equal(a, first_batch(1, 0)));
  CHECK_FALSE(torch::equal(a, first_batch(0, 1)));
}
