// End-to-end smoke: synthetic data -> a few training steps -> checkpoint -> evaluation -> results
// store, through the library and through the CLI.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "backbones/backbone.h"
#include "src/store/results_store.h"
#include "src/train/checkpoint.h"
#include "src/train/trainer.h"
#include "src/util/atomic_file.h"
#include "src/util/torch_compat.h"
#include "support.h"

namespace fs = std::filesystem;

namespace {
void make_tiny_dataset(const fs::path& dir) {
  ff::test::write_small_synthetic(dir, 6, 4, 11);
}

std::string tiny_config(const fs::path& dir) {
  return fmt::format(
      "name: tiny\nseed: 3\noutput: {0}/runs\n"
      "data: {{sources: [{{format: folder, path: {0}/data/images}}], workers: 2}}\n"
      "train: {{batch_size: 8, epochs: 2, max_steps: 4, log_every: 1, threads: 2}}\n"
      "optim: {{lr: 0.05, warmup_epochs: 0.5}}\n"
      "eval: {{targets: [{0}/data/verification.bin], batch_size: 16}}\n",
      dir.string());
}
}  // namespace

TEST_CASE("a tiny run writes a run folder, checkpoints, logs and a results row", "[train][slow]") {
  ff::backbones::register_builtin_backbones();
  ff::test::TempDir dir("e2e");
  make_tiny_dataset(dir / "data");
  ff::test::write_text(dir / "tiny.yaml", tiny_config(dir.path()));
  auto config = ff::train::load_run_config((dir / "tiny.yaml").string(), {});
  auto result = ff::train::train(config, "test");

  CHECK(result.steps == 4);
  CHECK_FALSE(result.interrupted);
  CHECK(fs::exists(result.run_dir / "config.yaml"));
  CHECK(fs::exists(result.run_dir / "checkpoints" / "step_3.pt"));  // end of epoch 1 (24 images / 8)
  CHECK(fs::exists(result.run_dir / "checkpoints" / "step_4.pt"));  // max_steps reached
  CHECK(result.checkpoint == result.run_dir / "checkpoints" / "step_4.pt");
  for (const auto& entry : fs::directory_iterator(result.run_dir / "checkpoints"))
    CHECK(entry.path().extension() == ".pt");  // no temp files left behind

  // The saved config is the resolved one and loads again.
  auto saved = ff::train::load_run_config((result.run_dir / "config.yaml").string(), {});
  CHECK(ff::train::to_yaml(saved) == ff::train::to_yaml(config));

  // JSON lines: one step record per step, an eval record, an end record.
  std::ifstream log(result.run_dir / "train.jsonl");
  std::string line;
  int steps = 0, evals = 0, ends = 0;
  while (std::getline(log, line)) {
    auto j = nlohmann::json::parse(line);
    if (j["event"] == "step") {
      ++steps;
      CHECK(j["loss"].get<double>() > 0);
      CHECK(j.contains("images_per_second"));
      CHECK(j.contains("eta_seconds"));
    }
    if (j["event"] == "eval") ++evals;
    if (j["event"] == "end") ++ends;
    // train.device auto: this rank's GPU when LibTorch sees one.
    if (j["event"] == "start") CHECK(j["device"] == (ff::compat::cuda_available() ? "cuda:0" : "cpu"));
  }
  CHECK(steps == 4);
  CHECK(evals == 1);
  CHECK(ends == 1);

  // The store holds the run, finished, with the evaluation's metrics.
  auto store = ff::store::open_results_store(result.results_db.string());
  auto run = store->get_run(result.run_id);
  REQUIRE(run);
  CHECK(run->status == ff::store::RunStatus::finished);
  CHECK(run->info.name == "tiny");
  CHECK(run->info.config == ff::train::to_yaml(config));
  CHECK_FALSE(run->ended_at.empty());
  auto rows = store->evaluations(result.run_id);
  REQUIRE(result.evaluations.size() == 1);
  REQUIRE(result.evaluations[0].evaluations.size() == 1);
  const auto& evaluation = result.evaluations[0].evaluations[0];
  REQUIRE(rows.size() == evaluation.values.size());
  CHECK(rows[0].protocol == "verification");
  CHECK(rows[0].checkpoint == result.checkpoint.string());
  auto conventions = nlohmann::json::parse(rows[0].conventions);
  CHECK(conventions["threshold_rule"] == "best_accuracy");
  CHECK(conventions["flip"] == "sum");
  CHECK(rows[0].target == "verification");
  CHECK(rows[0].metric == "accuracy");
  CHECK(rows[0].value == Approx(result.evaluations[0].value("accuracy")));
  CHECK(rows[0].value >= 0.0);
  CHECK(rows[0].value <= 1.0);

  // The checkpoint reloads into a fresh backbone with identical weights.
  auto fresh = ff::backbones::make_backbone(config.model);
  auto counters = ff::train::load_backbone_weights(result.checkpoint, *fresh);
  CHECK(counters.step == 4);
  auto resolved = ff::train::resolve_run(result.run_dir);
  CHECK(resolved.checkpoint == result.checkpoint);
  CHECK(resolved.run_id == result.run_id);
}

TEST_CASE("CLI: train, eval from the run folder, results list/show, and one-line errors", "[cli][slow]") {
  ff::test::TempDir dir("cli");
  make_tiny_dataset(dir / "data");
  ff::test::write_text(dir / "tiny.yaml", tiny_config(dir.path()));
  const std::string ff = ff::test::faceforge_binary();
  auto trained = ff::test::run_command(ff + " train " + (dir / "tiny.yaml").string() + " --set train.max_steps=2");
  INFO(trained.output);
  REQUIRE(trained.exit_code == 0);
  CHECK(trained.output.find("verification") != std::string::npos);

  fs::path runs = dir / "runs";
  fs::path run_dir;
  for (const auto& entry : fs::directory_iterator(runs))
    if (entry.is_directory()) run_dir = entry.path();
  REQUIRE_FALSE(run_dir.empty());

  auto evaluated = ff::test::run_command(ff + " eval " + run_dir.string() + " --set eval.flip=none");
  INFO(evaluated.output);
  REQUIRE(evaluated.exit_code == 0);
  CHECK(evaluated.output.find("step_2.pt") != std::string::npos);
  auto store = ff::store::open_results_store((runs / "results.db").string());
  // Training's evaluation and the CLI's: the same metrics twice, the second with flip none recorded.
  auto rows = store->evaluations(1);
  REQUIRE(rows.size() % 2 == 0);
  REQUIRE(rows.size() >= 16);
  const size_t half = rows.size() / 2;
  for (size_t i = 0; i < half; ++i) CHECK(rows[i].metric == rows[half + i].metric);
  CHECK(nlohmann::json::parse(rows[0].conventions)["flip"] == "sum");
  CHECK(nlohmann::json::parse(rows[half].conventions)["flip"] == "none");

  auto listed = ff::test::run_command(ff + " results list --db " + (runs / "results.db").string());
  CHECK(listed.exit_code == 0);
  CHECK(listed.output.find("tiny") != std::string::npos);
  CHECK(listed.output.find("finished") != std::string::npos);
  auto shown = ff::test::run_command(ff + " results show tiny --db " + (runs / "results.db").string());
  CHECK(shown.exit_code == 0);
  CHECK(shown.output.find("accuracy") != std::string::npos);

  auto shown_config = ff::test::run_command(ff + " config show " + (dir / "tiny.yaml").string() + " --set optim.lr=0.25");
  CHECK(shown_config.exit_code == 0);
  CHECK(shown_config.output.find("optim:\n  optimizer: \"sgd\"\n  lr: 0.25\n") != std::string::npos);
  auto keys = ff::test::run_command(ff + " config keys");
  CHECK(keys.exit_code == 0);
  CHECK(keys.output.find("| `train.batch_size` | int | `128` |") != std::string::npos);

  ff::test::write_text(dir / "bad.yaml", "train:\n  batch_sise: 8\n");
  auto bad = ff::test::run_command(ff + " train " + (dir / "bad.yaml").string());
  CHECK(bad.exit_code == 1);
  CHECK(bad.output == "error: " + (dir / "bad.yaml").string() +
                          ":2: unknown key 'train.batch_sise' (did you mean 'train.batch_size'?)\n");
  auto missing = ff::test::run_command(ff + " eval " + (dir / "nope").string());
  CHECK(missing.exit_code == 1);
  CHECK(missing.output == "error: not a run folder or checkpoint file: " + (dir / "nope").string() + "\n");
}

TEST_CASE("eval.every evaluates each step's checkpoint, marks the best one and train.keep_checkpoints keeps it",
          "[train][slow]") {
  ff::backbones::register_builtin_backbones();
  ff::test::TempDir dir("e2e-every");
  make_tiny_dataset(dir / "data");
  ff::test::write_text(dir / "tiny.yaml", tiny_config(dir.path()));
  // 24 images / 8 = 3 steps per epoch; every evaluation gets a checkpoint of its step.
  auto config = ff::train::load_run_config(
      (dir / "tiny.yaml").string(), {"eval.every=1", "eval.flip=none", "train.max_steps=3", "train.keep_checkpoints=1"});
  auto result = ff::train::train(config, "test");
  REQUIRE(result.steps == 3);
  auto store = ff::store::open_results_store(result.results_db.string());
  std::vector<std::string> evaluated;  // checkpoint of each evaluation, in order
  std::vector<double> accuracy;
  for (const auto& row : store->evaluations(result.run_id))
    if (row.metric == "accuracy") {
      evaluated.push_back(row.checkpoint);
      accuracy.push_back(row.value);
    }
  auto at_step = [&](int step) { return (result.run_dir / "checkpoints" / fmt::format("step_{}.pt", step)).string(); };
  REQUIRE(evaluated == std::vector<std::string>{at_step(1), at_step(2), at_step(3)});
  std::ifstream log(result.run_dir / "train.jsonl");
  std::string line;
  std::vector<int64_t> eval_steps;
  while (std::getline(log, line)) {
    auto j = nlohmann::json::parse(line);
    if (j["event"] == "eval") {
      eval_steps.push_back(j["step"].get<int64_t>());
      CHECK(j.contains("accuracy"));
    }
  }
  CHECK(eval_steps == std::vector<int64_t>{1, 2, 3});

  // Best (default: the first target's accuracy; the earliest of equals): marked in the store and
  // run.json.
  const size_t best = static_cast<size_t>(std::max_element(accuracy.begin(), accuracy.end()) - accuracy.begin());
  INFO("accuracies " << accuracy[0] << " " << accuracy[1] << " " << accuracy[2]);
  for (const auto& c : store->checkpoints(result.run_id)) CHECK(c.best == (c.path == evaluated[best]));
  auto run_json = nlohmann::json::parse(ff::read_file(result.run_dir / "run.json"));
  CHECK(run_json["best"]["step"] == static_cast<int64_t>(best) + 1);
  CHECK(run_json["best"]["metric"] == "accuracy");
  CHECK(run_json["best"]["value"].get<double>() == accuracy[best]);
  CHECK(run_json["status"] == "finished");
  // Pruning runs at each checkpoint: step 3's kept itself and the best so far (a best found by the
  // final evaluation replaces it in the marks; the file goes at the next checkpoint).
  CHECK(fs::exists(at_step(3)));
  CHECK(fs::exists(evaluated[best]));
  CHECK(fs::exists(at_step(1)) + fs::exists(at_step(2)) == 1);

  // eval.best must name a target of the run.
  auto bad = ff::train::load_run_config((dir / "tiny.yaml").string(), {"eval.best=lfw/accuracy"});
  CHECK_THROWS_WITH(ff::train::train(bad, "test"),
                    "eval.best 'lfw/accuracy': expected TARGET/METRIC with TARGET one of eval.targets (verification)");
  // train.device cuda on a machine without a GPU: one line before any work (auto trains on the CPU).
  if (!ff::compat::cuda_available()) {
    auto gpu = ff::train::load_run_config((dir / "tiny.yaml").string(), {"train.device=cuda", "name=gpu"});
    CHECK_THROWS_WITH(ff::train::train(gpu, "test"),
                      Catch::StartsWith("train.device cuda: this LibTorch (") &&
                          Catch::EndsWith(") sees no CUDA device; use train.device=cpu or auto"));
    for (const auto& entry : fs::directory_iterator(dir / "runs"))
      CHECK(entry.path().filename().string().rfind("gpu", 0) != 0);  // no run folder was made
  }
}

TEST_CASE("a run with a cosine schedule, clipping, no decay on BN/bias, train.keep_checkpoints and fp16 asked on CPU", "[train][slow]") {
  ff::backbones::register_builtin_backbones();
  ff::test::TempDir dir("e2e-recipe");
  make_tiny_dataset(dir / "data");
  ff::test::write_text(dir / "tiny.yaml", tiny_config(dir.path()));
  // 3 steps per epoch x 2 epochs = 6 scheduled steps, warmup round(0.5 x 3) = 2; stop after 4.
  auto config = ff::train::load_run_config(
      (dir / "tiny.yaml").string(),
      {"optim.schedule=cosine", "optim.min_lr=0.01", "optim.clip_grad_norm=1", "optim.no_decay_bn_bias=true",
       "train.checkpoint_every=1", "train.keep_checkpoints=2", "eval.targets=[]", "model.autocast=fp16",
       "train.device=cpu"});
  auto result = ff::train::train(config, "test");
  REQUIRE(result.steps == 4);
  std::ifstream log(result.run_dir / "train.jsonl");
  std::vector<double> lrs;
  std::string line;
  while (std::getline(log, line)) {
    auto j = nlohmann::json::parse(line);
    // fp16 needs CUDA: this CPU run trained in fp32, without loss scaling, and said so.
    if (j["event"] == "start") {
      CHECK(j["device"] == "cpu");
      CHECK(j["precision"] == "fp32");
      CHECK(j["loss_scaling"] == false);
    }
    if (j["event"] == "note") CHECK(j["message"].get<std::string>().find("fp16 needs CUDA") != std::string::npos);
    if (j["event"] != "step") continue;
    CHECK_FALSE(j.contains("loss_scale"));
    lrs.push_back(j["lr"].get<double>());
    CHECK(j["grad_norm"].get<double>() > 0);  // the norm before clipping is logged
  }
  // Steps 0..3 (logged as 1..4): warmup 0.05/2, 0.05; then p = 0 and 1/4 of the 4 decay steps.
  REQUIRE(lrs.size() == 4);
  CHECK(lrs[0] == Approx(0.025));
  CHECK(lrs[1] == Approx(0.05));
  CHECK(lrs[2] == Approx(0.05));
  CHECK(lrs[3] == Approx(0.01 + 0.04 * (1 + std::cos(M_PI / 4)) / 2));
  std::set<std::string> kept;
  for (const auto& entry : fs::directory_iterator(result.run_dir / "checkpoints"))
    if (entry.path().filename().string().find(".classifier-") == std::string::npos) kept.insert(entry.path().filename().string());
  CHECK(kept == std::set<std::string>{"step_3.pt", "step_4.pt"});
  // The store still lists every checkpoint written, oldest first.
  auto store = ff::store::open_results_store(result.results_db.string());
  CHECK(store->checkpoints(result.run_id).size() == 4);
}
