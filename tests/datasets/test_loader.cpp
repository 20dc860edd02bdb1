// Loader: deterministic batches for a seed and epoch whatever the thread count, complete disjoint
// coverage per epoch (drop_last), labels that travel with their images, and clean mid-epoch stops.
#include <catch2/catch.hpp>

#include <set>

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include "datasets/image_folder.h"
#include "datasets/loader.h"
#include "datasets/synthetic_source.h"
#include "datasets/transforms.h"
#include "src/util/error.h"
#include "support.h"

using namespace ff::datasets;

namespace {
SyntheticOptions tiny() {
  SyntheticOptions o;
  o.identities = 5;
  o.images_per_identity = 6;
  o.seed = 2;
  return o;
}

std::vector<Batch> epoch_batches(const Source& source, int workers, int64_t epoch) {
  DataOptions options;
  options.workers = workers;
  options.prefetch = 2;
  Loader loader(source, 4, options, 99);
  loader.start_epoch(epoch);
  std::vector<Batch> out;
  while (auto b = loader.next()) out.push_back(*b);
  return out;
}
}  // namespace

TEST_CASE("loader batches are deterministic and cover each image at most once per epoch", "[datasets]") {
  auto source = make_synthetic_source(tiny());
  auto one = epoch_batches(*source, 1, 0);
  auto three = epoch_batches(*source, 3, 0);
  auto next_epoch = epoch_batches(*source, 2, 1);
  REQUIRE(one.size() == 7);  // 30 images, batch 4, drop_last
  REQUIRE(three.size() == 7);
  bool epochs_differ = false;
  std::multiset<int64_t> labels;
  for (size_t i = 0; i < one.size(); ++i) {
    CHECK(one[i].index == static_cast<int64_t>(i));
    CHECK(torch::equal(one[i].images, three[i].images));
    CHECK(torch::equal(one[i].labels, three[i].labels));
    if (!torch::equal(one[i].labels, next_epoch[i].labels)) epochs_differ = true;
    for (int j = 0; j < 4; ++j) labels.insert(one[i].labels[j].item<int64_t>());
  }
  CHECK(epochs_differ);
  for (int64_t label = 0; label < 5; ++label) CHECK(labels.count(label) <= 6);
  CHECK(labels.size() == 28);
}

TEST_CASE("each loader image is its source image, normalised, and mirrored or not", "[datasets]") {
  auto source = make_synthetic_source(tiny());
  auto batches = epoch_batches(*source, 2, 0);
  cv::Mat bgr;
  std::vector<float> plain(3 * kImageSize * kImageSize), mirrored(plain.size());
  int matched = 0;
  for (const auto& batch : batches)
    for (int j = 0; j < 4; ++j) {
      auto image = batch.images[j].contiguous();
      int64_t label = batch.labels[j].item<int64_t>();
      bool found = false;
      for (int k = 0; k < 6 && !found; ++k) {
        source->load(label * 6 + k, bgr);
        bgr_to_input(bgr, plain.data(), false);
        bgr_to_input(bgr, mirrored.data(), true);
        auto a = torch::from_blob(plain.data(), image.sizes());
        auto b = torch::from_blob(mirrored.data(), image.sizes());
        found = torch::equal(image, a) || torch::equal(image, b);
      }
      matched += found;
    }
  CHECK(matched == 28);
  // Hand-checked normalisation: a BGR pixel (0, 127.5-ish, 255) becomes RGB (1, ~0, -1).
  cv::Mat one(kImageSize, kImageSize, CV_8UC3, cv::Scalar(0, 255, 51));
  bgr_to_input(one, plain.data(), false);
  CHECK(plain[0] == Approx(51 / 127.5 - 1));
  CHECK(plain[kImageSize * kImageSize] == Approx(1.0));
  CHECK(plain[2 * kImageSize * kImageSize] == Approx(-1.0));
}

TEST_CASE("destroying a loader mid-epoch stops its workers cleanly", "[datasets]") {
  auto source = make_synthetic_source(tiny());
  for (int round = 0; round < 5; ++round) {
    DataOptions options;
    options.workers = 3;
    Loader loader(*source, 2, options, static_cast<uint64_t>(round));
    loader.start_epoch(0);
    CHECK(loader.next().has_value());
    loader.start_epoch(1);  // restart while workers are busy
    CHECK(loader.next().has_value());
  }  // destructor joins with batches still queued
}

TEST_CASE("image folder errors name the path", "[datasets]") {
  ff::test::TempDir dir("folder");
  CHECK_THROWS_WITH(ImageFolderSource(dir / "missing"), "image folder not found: " + (dir / "missing").string());
  CHECK_THROWS_WITH(ImageFolderSource(dir.path()), "image folder " + dir.path().string() + " has no identity sub-folders");
  std::filesystem::create_directories(dir / "alice");
  ff::test::write_text(dir / "alice" / "notes.txt", "x");
  CHECK_THROWS_WITH(ImageFolderSource(dir.path()),
                    "identity folder " + (dir / "alice").string() + " contains no images (.jpg, .jpeg, .png, .bmp)");
  ff::test::write_text(dir / "alice" / "broken.jpg", "not a jpeg");
  ImageFolderSource source(dir.path());
  cv::Mat bgr;
  CHECK_THROWS_WITH(source.load(0, bgr), "cannot decode image " + (dir / "alice" / "broken.jpg").string() +
                                             " (record 0 of " + dir.path().string() + ")");
}
