// Checks src/eval/evaluate.cpp and its parts: target detection, the embedder's flip fusion and input
// normalisation against tensors built by hand, CALFW fold order on a hand-worked case, and the
// eval.groups fairness view against direct counts.

// ATen before Catch: Debian's c10 pulls in glog, whose one-argument CHECK would otherwise replace
// Catch's when this file is compiled without the project's torch PCH.
#include <ATen/ATen.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>

#include "datasets/alignment.h"
#include "datasets/pair_lists.h"
#include "datasets/synthetic.h"
#include "datasets/synthetic_protocols.h"
#include "datasets/text_lines.h"
#include "datasets/verification_bin.h"
#include "src/eval/embedder.h"
#include "src/eval/evaluate.h"
#include "src/eval/targets.h"
#include "src/util/error.h"
#include "src/util/npy.h"
#include "support.h"
#include "tiny_net.h"

namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using ff::test::error_of;
using ff::test::write_text;

// Unit 2-D feature rows whose pair cosines are `scores`: pair i = rows 2i (1, 0) and 2i+1 (cos, sin).
void write_pair_features(const fs::path& file, const std::vector<double>& scores) {
  std::vector<float> rows;
  for (double s : scores) {
    rows.insert(rows.end(), {1.0f, 0.0f, static_cast<float>(s), static_cast<float>(std::sqrt(1 - s * s))});
  }
  ff::write_npy_matrix(file, rows.data(), static_cast<int64_t>(2 * scores.size()), 2);
}

double value_of(const ff::eval::TargetResult& r, const std::string& metric, const std::string& group = "") {
  return r.value(metric, group);
}

}  // namespace

TEST_CASE("eval targets: protocols detected from their layouts, names from the path or the spec", "[eval]") {
  ff::test::TempDir dir("targets");
  write_text(dir / "lfw.bin", "x");
  write_text(dir / "pairs_CPLFW.txt", "a.jpg 1\n");
  write_text(dir / "LFW" / "pairs.txt", "10\t300\n");
  fs::create_directories(dir / "RFW" / "test" / "txts");
  write_text(dir / "IJBC" / "meta" / "ijbc_face_tid_mid.txt", "");
  fs::create_directories(dir / "empty");
  using ff::eval::Protocol;
  auto t = ff::eval::parse_target((dir / "lfw.bin").string());
  CHECK((t.protocol == Protocol::verification_bin && t.name == "lfw"));
  t = ff::eval::parse_target("cplfw=" + (dir / "pairs_CPLFW.txt").string());
  CHECK((t.protocol == Protocol::calfw && t.name == "cplfw"));
  t = ff::eval::parse_target((dir / "LFW").string() + "/");
  CHECK((t.protocol == Protocol::lfw && t.name == "lfw"));
  t = ff::eval::parse_target((dir / "RFW").string());
  CHECK((t.protocol == Protocol::rfw && t.name == "rfw"));
  t = ff::eval::parse_target("c=" + (dir / "IJBC").string());
  CHECK((t.protocol == Protocol::ijb && t.name == "c"));
  CHECK_THAT(error_of([&] { ff::eval::parse_target((dir / "empty").string()); }),
             Contains("cannot tell the protocol of") && Contains("pairs.txt (LFW)"));
  CHECK_THAT(error_of([&] { ff::eval::parse_target("x=" + (dir / "missing.bin").string()); }),
             Contains("missing.bin does not exist"));
  CHECK(ff::eval::lookup_named({"lfw=/a/lmk.csv", "cfp=/b"}, "lfw", "eval.landmarks") == "/a/lmk.csv");
  CHECK(ff::eval::lookup_named({"lfw=/a/lmk.csv"}, "lf", "eval.landmarks").empty());
  CHECK_THAT(error_of([] { ff::eval::lookup_named({"lfw"}, "lfw", "eval.landmarks"); }),
             Contains("eval.landmarks: expected \"name=FILE\", got 'lfw'"));
}

TEST_CASE("embedder: flip none/sum/concat and colour/normalisation equal the network on tensors built by hand",
          "[eval]") {
  torch::manual_seed(3);
  ff::test::TinyNet net;
  net.eval();
  std::vector<cv::Mat> images;
  cv::RNG rng(11);
  for (int i = 0; i < 3; ++i) {
    cv::Mat m(112, 112, CV_8UC3);
    rng.fill(m, cv::RNG::UNIFORM, 0, 256);
    images.push_back(m);
  }
  auto load = [&](int64_t i) { return images[i]; };
  // The reference input: HWC BGR bytes -> CHW float in the chosen order, (x/255 - mean) / std.
  auto by_hand = [&](bool bgr, float mean, float std, bool mirror) {
    std::vector<at::Tensor> batch;
    for (const auto& m : images) {
      at::Tensor hwc = torch::from_blob(m.data, {112, 112, 3}, torch::kUInt8).to(torch::kFloat);
      at::Tensor chw = hwc.permute({2, 0, 1});  // B, G, R planes
      if (!bgr) chw = chw.flip({0});            // R, G, B
      if (mirror) chw = chw.flip({2});
      batch.push_back((chw / 255 - mean) / std);
    }
    torch::NoGradGuard no_grad;
    return net.forward(torch::stack(batch));
  };
  at::Tensor plain = by_hand(false, 0.5f, 0.5f, false), mirrored = by_hand(false, 0.5f, 0.5f, true);
  ff::eval::EmbedderOptions o;
  o.batch_size = 2;  // 3 images: a full batch and a partial one
  o.flip = ff::eval::FlipFusion::none;
  CHECK(torch::allclose(ff::eval::embed_images(net, 3, load, o, "t"), plain, 1e-5, 1e-5));
  o.flip = ff::eval::FlipFusion::sum;
  CHECK(torch::allclose(ff::eval::embed_images(net, 3, load, o, "t"), plain + mirrored, 1e-5, 1e-5));
  o.flip = ff::eval::FlipFusion::concat;
  at::Tensor concat = ff::eval::embed_images(net, 3, load, o, "t");
  REQUIRE(concat.size(1) == 2 * net.embedding_size());
  CHECK(torch::allclose(concat, torch::cat({plain, mirrored}, 1), 1e-5, 1e-5));
  // BGR order with another normalisation.
  o.flip = ff::eval::FlipFusion::none;
  o.input = {.bgr = true, .mean = 0.4f, .std = 0.3f};
  at::Tensor bgr = ff::eval::embed_images(net, 3, load, o, "t");
  CHECK(torch::allclose(bgr, by_hand(true, 0.4f, 0.3f, false), 1e-4, 1e-4));
  CHECK_FALSE(torch::allclose(bgr, plain, 1e-2, 1e-2));
  ff::eval::EvalOptions options;
  options.flip = "concat";
  options.colour = "bgr";
  CHECK(ff::eval::embedder_options(options).flip == ff::eval::FlipFusion::concat);
  CHECK(ff::eval::embedder_options(options).input.bgr);
}

TEST_CASE("CALFW from features: folds are the list's positive and negative blocks, not contiguous pairs",
          "[eval]") {
  // P = 10 positive pairs then 10 negative pairs; fold k = positive k and negative k. Genuine pairs
  // score 0.9 and impostors 0.1, except negatives 2 and 3 at 0.95. Worked by hand: every training
  // split keeps the threshold at 0.5 (midpoint of 0.1 and 0.9; above 0.95 would reject the
  // genuine pairs), so folds 2 and 3 score 1/2 and the other eight 1: mean 0.9, population std
  // sqrt((8 * 0.1^2 + 2 * 0.4^2) / 10) = 0.2. Contiguous blocks of pairs would put both errors in one
  // fold (0 and nine 1s: std 0.3).
  ff::test::TempDir dir("calfw_eval");
  std::string list;
  std::vector<double> scores;
  for (int k = 0; k < 10; ++k) {
    list += fmt::format("p{0}a.jpg {1}\np{0}b.jpg {1}\n", k, k + 1);
    scores.push_back(0.9);
  }
  for (int k = 0; k < 10; ++k) {
    list += fmt::format("n{0}a.jpg 0\nn{0}b.jpg 0\n", k);
    scores.push_back(k == 2 || k == 3 ? 0.95 : 0.1);
  }
  write_text(dir / "pairs_CALFW.txt", list);
  write_pair_features(dir / "calfw.npy", scores);
  ff::eval::FileFeatures features(dir / "calfw.npy");
  ff::eval::EvalOptions options;
  auto result = ff::eval::evaluate_target(ff::eval::parse_target((dir / "pairs_CALFW.txt").string()), features, options);
  REQUIRE(result.evaluations.size() == 1);
  const auto& e = result.evaluations[0];
  CHECK(e.protocol == "verification");
  CHECK(e.target == "pairs_calfw");
  CHECK(e.checkpoint == "features:sha256:" + features.sha256());
  CHECK(value_of(result, "accuracy") == Approx(0.9).margin(1e-12));
  CHECK(value_of(result, "accuracy_std") == Approx(0.2).margin(1e-12));
  CHECK(value_of(result, "best_accuracy") == Approx(0.9).margin(1e-12));
  CHECK(value_of(result, "threshold") == Approx(0.5).margin(1e-6));
  // 10 impostors: TAR@FAR=1e-1 (one impostor may pass: the 0.95s tie, so none does) is every genuine
  // pair strictly above 0.95 = 0; no 1e-2 or 1e-3 with 10 impostors.
  CHECK(value_of(result, "tar@far=1e-1") == 0.0);
  CHECK_FALSE(result.has("tar@far=1e-2"));
  auto conventions = nlohmann::json::parse(e.conventions);
  CHECK(conventions["threshold_rule"] == "best_accuracy");
  CHECK(conventions["fold_spread"] == "population_std");
  CHECK(conventions["features"] == "file");
  // Standard error instead: sample std / sqrt(10) = sqrt(0.4 / 9) / sqrt(10).
  options.fold_spread = "standard_error";
  result = ff::eval::evaluate_target(ff::eval::parse_target((dir / "pairs_CALFW.txt").string()), features, options);
  CHECK(value_of(result, "accuracy_se") == Approx(std::sqrt(0.4 / 9) / std::sqrt(10.0)).margin(1e-12));
  CHECK_FALSE(result.has("accuracy_std"));
  // A features file with the wrong row count names both counts.
  write_pair_features(dir / "short.npy", {0.5, 0.5});
  ff::eval::FileFeatures short_features(dir / "short.npy");
  CHECK_THAT(error_of([&] {
               ff::eval::evaluate_target(ff::eval::parse_target((dir / "pairs_CALFW.txt").string()), short_features,
                                         options);
             }),
             Contains("short.npy: 4 rows, but target pairs_calfw") && Contains("has 40 images"));
}

TEST_CASE("eval.groups on a .bin: per-group FMR and FNMR at the global threshold equal direct counts", "[eval]") {
  // 40 pairs in a .bin-like order (pair i = images 2i, 2i+1); images of pairs 0-19 in group "a",
  // 20-39 in group "b"; pair 10 mixes the groups (cross-group, counted only globally).
  ff::test::TempDir dir("groups_eval");
  std::vector<double> scores;
  std::vector<bool> genuine;
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 40; ++i) {
    genuine.push_back(i % 2 == 0);
    double s = genuine.back() ? 0.3 + 0.7 * u(rng) : 0.7 * u(rng);
    scores.push_back(i < 20 ? s : std::min(0.99, s + 0.1));  // group b scores higher
  }
  // A pack: images are not decoded when features come from a file, but the reader needs real bytes.
  ff::datasets::VerificationPack pack;
  for (int i = 0; i < 80; ++i) pack.images.push_back("img");
  pack.issame = genuine;
  ff::datasets::write_verification_bin(dir / "g.bin", pack);
  write_pair_features(dir / "g.npy", scores);
  // Image 21 (the second image of pair 10) is in "b": pair 10 is a cross-group pair.
  auto group_of_image = [](int image) { return (image / 2 < 20) != (image == 21) ? "a" : "b"; };
  std::string groups = "# image group\n";
  for (int i = 0; i < 80; ++i) groups += fmt::format("{} {}\n", i, group_of_image(i));
  write_text(dir / "groups.txt", groups);
  ff::eval::EvalOptions options;
  options.groups = {"g=" + (dir / "groups.txt").string()};
  options.target_fmr = 0.1;
  ff::eval::FileFeatures features(dir / "g.npy");
  auto result = ff::eval::evaluate_target(ff::eval::parse_target((dir / "g.bin").string()), features, options);
  // Global threshold: the lowest t with (impostors >= t) / 20 <= 0.1, i.e. the second highest
  // impostor score (two may pass). The library's cosines are float dot products of normalised rows,
  // one rounding away from the scores written here, so comparisons allow 1e-6 (the random scores
  // are further apart than that).
  const double t = value_of(result, "fairness_threshold");
  std::vector<double> impostor;
  for (int i = 0; i < 40; ++i)
    if (!genuine[i]) impostor.push_back(static_cast<float>(scores[i]));
  std::sort(impostor.rbegin(), impostor.rend());
  CHECK(t == Approx(impostor[1]).margin(1e-6));
  CHECK(impostor[2] < t - 1e-6);
  // Per group, counted directly (float scores: cosines of the stored features).
  for (std::string g : {"a", "b"}) {
    int fm = 0, imp = 0, fnm = 0, gen = 0;
    for (int i = 0; i < 40; ++i) {
      if (group_of_image(2 * i) != g || group_of_image(2 * i + 1) != g) continue;
      const double s = scores[i] + 1e-6;  // the impostor at the threshold counts as a false match
      if (genuine[i]) {
        ++gen;
        fnm += s < t;
      } else {
        ++imp;
        fm += s >= t;
      }
    }
    INFO("group " << g);
    CHECK(value_of(result, "fmr", g) == Approx(static_cast<double>(fm) / imp).margin(1e-12));
    CHECK(value_of(result, "fnmr", g) == Approx(static_cast<double>(fnm) / gen).margin(1e-12));
  }
  CHECK(result.has("accuracy", "a"));
  CHECK(result.has("fdr"));
  auto conventions = nlohmann::json::parse(result.evaluations[0].conventions);
  CHECK(conventions["groups_file"] == "groups.txt");
  CHECK(conventions["fairness"]["target_fmr"] == 0.1);
  // An unknown image in the groups file is named with its line.
  write_text(dir / "bad.txt", "0 a\n99 b\n");
  options.groups = {"g=" + (dir / "bad.txt").string()};
  CHECK_THAT(error_of([&] { ff::eval::evaluate_target(ff::eval::parse_target((dir / "g.bin").string()), features, options); }),
             Contains("bad.txt:2: image '99' is not one of the target's images"));
}

TEST_CASE("LFW layout with an eval.landmarks file: images are aligned before embedding", "[eval]") {
  // An LFW-style folder made from the synthetic RFW tree's African loose crops (RFW names images
  // <id>/<id>_NNNN.jpg like LFW), with its landmarks rewritten as a CSV keyed by those paths.
  ff::test::TempDir dir("lfw_align");
  ff::datasets::SyntheticOptions o;
  o.identities = 4;
  o.images_per_identity = 2;
  o.pair_identities = 8;
  o.pairs = 20;
  ff::datasets::SyntheticRfwOptions rfw;
  rfw.identities_per_race = 8;
  rfw.images_per_identity = 3;
  rfw.pairs = 20;
  ff::datasets::write_synthetic_rfw(o, rfw, dir / "rfw");
  auto list = ff::datasets::read_rfw(dir / "rfw", {.races = {"African"}});
  const fs::path lfw = dir / "rfw" / "test" / "data" / "African";
  // RFW's 10 blocks of (1 genuine, 1 impostor) are LFW's 10 folds of 1 matched + 1 mismatched line.
  std::string pairs = "10\t1\n" + ff::datasets::read_whole_file(dir / "rfw" / "test" / "txts" / "African" / "African_pairs.txt");
  write_text(lfw / "pairs.txt", pairs);
  std::string csv;
  std::map<std::string, ff::datasets::FivePoints> points;
  for (size_t i = 0; i < list.images.size(); ++i) {
    std::string relative = fs::path(list.images[i]).lexically_relative("test/data/African").generic_string();
    csv += relative;
    for (float v : list.landmarks[i]) csv += fmt::format(",{}", v);
    csv += "\n";
    for (int k = 0; k < 5; ++k) points[relative][k] = {list.landmarks[i][2 * k], list.landmarks[i][2 * k + 1]};
  }
  write_text(dir / "lmk.csv", csv);

  torch::manual_seed(4);
  ff::test::TinyNet net;
  ff::eval::EvalOptions options;
  options.flip = "none";
  options.landmarks = {"african=" + (dir / "lmk.csv").string()};
  ff::eval::ModelFeatures aligned_source(net, ff::eval::embedder_options(options), "tiny", dir / "aligned");
  auto target = ff::eval::parse_target("african=" + lfw.string());
  REQUIRE(target.protocol == ff::eval::Protocol::lfw);
  auto result = ff::eval::evaluate_target(target, aligned_source, options);
  CHECK(nlohmann::json::parse(result.evaluations[0].conventions)["aligned"] == true);
  auto lfw_list = ff::datasets::read_lfw_pairs(lfw);
  // The same images aligned here with the library's align_face and the CSV's points.
  auto expected = ff::eval::embed_images(
      net, static_cast<int64_t>(lfw_list.images.size()),
      [&](int64_t i) {
        cv::Mat image = cv::imread((lfw / lfw_list.images[i]).string()), out;
        ff::datasets::align_face(image, points.at(lfw_list.images[i]), out);
        return out;
      },
      ff::eval::embedder_options(options), "expected");
  auto saved = ff::read_npy_matrix(dir / "aligned" / "african.npy");
  REQUIRE(saved.rows == expected.size(0));
  at::Tensor got = torch::from_blob(saved.data.data(), {saved.rows, saved.cols}, torch::kFloat);
  // The CSV holds the float points as shortest decimals, read back as doubles: the warps differ in
  // the 7th digit, the features by ~1e-5 of 0.04 here. Unaligned crops differ by far more (below).
  const double aligned_gap = (got - expected).abs().max().item<float>();
  CHECK(aligned_gap < 1e-4);
  // Without landmarks the loose crops are only resized: other features.
  options.landmarks.clear();
  ff::eval::ModelFeatures loose_source(net, ff::eval::embedder_options(options), "tiny", dir / "loose");
  result = ff::eval::evaluate_target(target, loose_source, options);
  CHECK(nlohmann::json::parse(result.evaluations[0].conventions)["aligned"] == false);
  auto loose = ff::read_npy_matrix(dir / "loose" / "african.npy");
  const double loose_gap =
      (torch::from_blob(loose.data.data(), {loose.rows, loose.cols}, torch::kFloat) - expected).abs().max().item<float>();
  CHECK(loose_gap > 100 * aligned_gap);
  CHECK(loose_gap > 1e-3);
  // A landmark file missing an image names it.
  write_text(dir / "short.csv", csv.substr(0, csv.find('\n') + 1));
  options.landmarks = {"african=" + (dir / "short.csv").string()};
  CHECK_THAT(error_of([&] { ff::eval::evaluate_target(target, loose_source, options); }),
             Contains("short.csv: no landmarks for image"));
}
