// `faceforge eval` end to end: a trained checkpoint on RFW, IJB (1:1 and 1:N) and a .bin from a suite
// file, FRUITS latency, saved features scored again from the .npy, and the IJB and .bin figures
// recomputed independently by NumPy from those features.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "src/store/results_store.h"
#include "support.h"

namespace fs = std::filesystem;

namespace {

// (protocol, metric, group) -> value for one run's evaluations with this checkpoint.
using Values = std::map<std::tuple<std::string, std::string, std::string>, double>;
Values values_of(ff::store::ResultsStore& store, int64_t run, const std::string& target) {
  Values v;
  for (const auto& e : store.evaluations(run))
    if (e.target == target) v[{e.protocol, e.metric, e.group}] = e.value;
  return v;
}

}  // namespace

TEST_CASE("faceforge eval: suite of RFW, IJB and .bin from a checkpoint, saved features rescored, NumPy agrees",
          "[cli][eval][slow]") {
  ff::test::TempDir dir("eval-cli");
  const std::string ff = ff::test::faceforge_binary();
  const fs::path data = dir / "data";
  auto synth = ff::test::run_command(
      ff + " data synth --identities 12 --images-per-identity 4 --pair-identities 8 --pairs 40 --rfw "
           "--rfw-identities 20 --rfw-pairs 40 --ijb --ijb-subjects 12 --ijb-genuine 30 --ijb-impostors 120 --out " +
      data.string());
  INFO(synth.output);
  REQUIRE(synth.exit_code == 0);
  ff::test::write_text(dir / "tiny.yaml", fmt::format("name: tiny\nseed: 1\noutput: {0}/runs\n"
                                                      "data: {{sources: [{{name: s, format: synthetic, path: {0}/data}}], workers: 1}}\n"
                                                      "model: {{backbone: mbf, embedding_size: 64}}\n"
                                                      "loss: {{head: arcface, scale: 16, margin: 0.2}}\n"
                                                      "train: {{batch_size: 8, epochs: 1, max_steps: 1}}\n",
                                                      dir.path().string()));
  auto trained = ff::test::run_command(ff + " train " + (dir / "tiny.yaml").string());
  INFO(trained.output);
  REQUIRE(trained.exit_code == 0);
  fs::path run_dir;
  for (const auto& entry : fs::directory_iterator(dir / "runs"))
    if (entry.is_directory()) run_dir = entry.path();
  REQUIRE_FALSE(run_dir.empty());

  ff::test::write_text(dir / "suite.yaml", fmt::format("eval:\n  targets: [rfw={0}/rfw, ijbc={0}/ijb, {0}/verification.bin]\n"
                                                       "  latency: true\n  latency_images: 2\n",
                                                       data.string()));
  auto evaluated = ff::test::run_command(ff + " eval --checkpoint " + run_dir.string() + " --suite " +
                                         (dir / "suite.yaml").string() + " --save-features " + (dir / "feats").string() +
                                         " --json " + (dir / "eval.jsonl").string());
  INFO(evaluated.output);
  REQUIRE(evaluated.exit_code == 0);
  for (const char* name : {"rfw.npy", "ijbc.npy", "verification.npy"}) CHECK(fs::exists(dir / "feats" / name));

  auto store = ff::store::open_results_store((dir / "runs" / "results.db").string());
  const auto rows = store->evaluations(1);
  std::set<std::string> protocols;
  for (const auto& r : rows) {
    protocols.insert(r.protocol);
    CHECK(r.checkpoint.find("step_1.pt") != std::string::npos);
    auto conventions = nlohmann::json::parse(r.conventions);
    CHECK(conventions["flip"] == "sum");
    if (r.protocol == "ijb_1to1") CHECK((conventions["N"] == false && conventions["D"] == false && conventions["F"] == true));
    if (r.protocol == "rfw") CHECK(conventions["fairness"]["target_fmr"] == 1e-3);
  }
  CHECK(protocols == std::set<std::string>{"verification", "rfw", "ijb_1to1", "ijb_1toN", "fruits"});
  Values rfw = values_of(*store, 1, "rfw");
  for (const char* race : {"African", "Asian", "Caucasian", "Indian"}) {
    CHECK(rfw.count({"rfw", "accuracy", race}) == 1);
    CHECK(rfw.count({"rfw", "fnmr", race}) == 1);
  }
  double mean = (rfw[{"rfw", "accuracy", "African"}] + rfw[{"rfw", "accuracy", "Asian"}] +
                 rfw[{"rfw", "accuracy", "Caucasian"}] + rfw[{"rfw", "accuracy", "Indian"}]) / 4;
  CHECK(rfw[{"rfw", "accuracy", ""}] == Approx(mean).margin(1e-12));
  Values fruits = values_of(*store, 1, "ijbc");
  CHECK(fruits.count({"fruits", "latency_ms", "1 thread"}) == 1);
  CHECK(fruits[{"fruits", "meets_1000ms", "1 thread"}] == (fruits[{"fruits", "latency_ms", "1 thread"}] <= 1000 ? 1 : 0));
  // JSON lines: one per evaluation.
  auto jsonl = ff::test::run_command("wc -l < " + (dir / "eval.jsonl").string());
  CHECK(std::stoi(jsonl.output) == 7);  // rfw + fruits, ijb 1:1 + 1:N + fruits, verification + fruits

  // The saved IJB features scored again give the model's numbers exactly, under a features run.
  auto rescored = ff::test::run_command(ff + " eval --features " + (dir / "feats" / "ijbc.npy").string() +
                                        " --target ijbc=" + (data / "ijb").string() + " --db " +
                                        (dir / "features.db").string());
  INFO(rescored.output);
  REQUIRE(rescored.exit_code == 0);
  auto features_store = ff::store::open_results_store((dir / "features.db").string());
  auto features_run = features_store->get_run("features:ijbc");
  REQUIRE(features_run);
  CHECK(features_run->status == ff::store::RunStatus::finished);
  Values from_file = values_of(*features_store, features_run->id, "ijbc");
  Values from_model = values_of(*store, 1, "ijbc");
  size_t compared = 0;
  for (const auto& [key, value] : from_file) {
    REQUIRE(from_model.count(key) == 1);
    CHECK(from_model[key] == value);
    ++compared;
  }
  CHECK(compared >= 10);
  for (const auto& r : features_store->evaluations(features_run->id)) CHECK(r.checkpoint.rfind("features:sha256:", 0) == 0);

  // NumPy's own templates, scores, TAR@FAR, AUC, rank-1 and TPIR from the saved features.
  auto reference = ff::test::run_command(
      ff::test::python() + " " + (ff::test::source_dir() / "tests" / "python" / "eval_reference.py").string() + " " +
      (data / "ijb").string() + " " + (dir / "feats" / "ijbc.npy").string() + " " +
      (data / "verification.bin").string() + " " + (dir / "feats" / "verification.npy").string());
  INFO(reference.output);
  REQUIRE(reference.exit_code == 0);
  auto expected = nlohmann::json::parse(reference.output);
  CHECK(from_model[{"ijb_1to1", "tar@far=1e-1", ""}] == Approx(expected["tar@far=1e-1"].get<double>()).margin(1e-9));
  CHECK(from_model[{"ijb_1to1", "tar@far=1e-2", ""}] == Approx(expected["tar@far=1e-2"].get<double>()).margin(1e-9));
  CHECK(from_model[{"ijb_1to1", "auc", ""}] == Approx(expected["auc"].get<double>()).margin(1e-6));
  CHECK(from_model[{"ijb_1toN", "rank1", ""}] == Approx(expected["rank1"].get<double>()).margin(1e-9));
  CHECK(from_model[{"ijb_1toN", "tpir@fpir=1e-1", ""}] == Approx(expected["tpir@fpir=1e-1"].get<double>()).margin(1e-9));
  Values pack = values_of(*store, 1, "verification");
  CHECK(pack[{"verification", "best_accuracy", ""}] == Approx(expected["best_accuracy"].get<double>()).margin(1e-9));

  // A features file for another target: one line naming the file, both counts and the target.
  auto mismatched = ff::test::run_command(ff + " eval --features " + (dir / "feats" / "ijbc.npy").string() +
                                          " --target " + (data / "verification.bin").string() + " --no-store");
  CHECK(mismatched.exit_code != 0);
  CHECK_THAT(mismatched.output, Catch::Contains("ijbc.npy:") && Catch::Contains("rows, but target verification") &&
                                    Catch::Contains("has 80 images"));
  auto nothing = ff::test::run_command(ff + " eval --target " + (data / "verification.bin").string());
  CHECK(nothing.exit_code != 0);
  CHECK_THAT(nothing.output, Catch::Contains("pass --checkpoint RUN_OR_FILE"));
}
