// Training on a real + synthetic mixture: per-source classifiers, exact batch shares, and the
// per-source counts in logs, the results store and `faceforge results show`.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "backbones/backbone.h"
#include "src/store/results_store.h"
#include "src/train/run_config.h"
#include "src/train/trainer.h"
#include "support.h"

namespace fs = std::filesystem;

TEST_CASE("a real + synthetic run with per-source classifiers records what each source supplied", "[train][slow]") {
  ff::backbones::register_builtin_backbones();
  ff::test::TempDir dir("mixed");
  ff::test::write_small_synthetic(dir / "real", 6, 5, 21);
  ff::test::write_text(
      dir / "mixed.yaml",
      fmt::format("name: mixed\nseed: 2\noutput: {0}/runs\n"
                  "model: {{backbone: mbf}}\n"
                  "data:\n"
                  "  label_space: per_source\n"
                  "  sources:\n"
                  "    - {{name: real, format: folder, path: {0}/real/images, share: 0.75}}\n"
                  "    - {{name: gen, format: synthetic, share: 0.25, weight: 0.5,\n"
                  "       synthetic: {{identities: 4, images_per_identity: 3, seed: 5}}}}\n"
                  "train: {{batch_size: 8, epochs: 1, max_steps: 4, log_every: 1, threads: 2}}\n"
                  "optim: {{lr: 0.05}}\n",
                  dir.path().string()));
  const std::string ff = ff::test::faceforge_binary();
  auto trained = ff::test::run_command(ff + " train " + (dir / "mixed.yaml").string());
  INFO(trained.output);
  REQUIRE(trained.exit_code == 0);
  // 30 real images, 6 per batch: 5 steps fill an epoch; max_steps stops at 4.
  CHECK_THAT(trained.output, Catch::Contains("5 steps/epoch, 4 steps"));
  CHECK_THAT(trained.output, Catch::Contains("source gen (synthetic): synthetic (seed 5): 4 identities x 3 images; "
                                             "share 0.25, 10 images per epoch"));

  auto store = ff::store::open_results_store((dir / "runs" / "results.db").string());
  auto run = store->get_run("mixed");
  REQUIRE(run);
  auto sources = store->data_sources(run->id);
  REQUIRE(sources.size() == 2);
  CHECK(sources[0].name == "real");
  CHECK(sources[0].kind == "real");
  CHECK(sources[0].identities == 6);
  CHECK(sources[0].images == 30);
  CHECK(sources[0].images_seen == 4 * 6);
  CHECK(sources[1].kind == "synthetic");
  CHECK(sources[1].images == 12);
  CHECK(sources[1].images_seen == 4 * 2);
  CHECK(sources[1].share_achieved == Approx(0.25));
  CHECK(sources[1].path == "(rendered)");

  // Each step's log carries both branch losses; data events carry the counts.
  std::ifstream log(fs::path(run->info.run_dir) / "train.jsonl");
  std::string line;
  int steps = 0;
  nlohmann::json last_data;
  while (std::getline(log, line)) {
    auto j = nlohmann::json::parse(line);
    if (j["event"] == "step") {
      ++steps;
      CHECK(j.contains("loss_real"));
      CHECK(j.contains("loss_gen"));
      CHECK(j["loss"].get<double>() == Approx(j["loss_real"].get<double>() + 0.5 * j["loss_gen"].get<double>()));
    }
    if (j["event"] == "data") last_data = j;
  }
  CHECK(steps == 4);
  REQUIRE(last_data.contains("sources"));
  CHECK(last_data["sources"][0]["images_seen"] == 24);

  auto shown = ff::test::run_command(ff + " results show mixed --db " + (dir / "runs" / "results.db").string());
  INFO(shown.output);
  CHECK(shown.exit_code == 0);
  CHECK_THAT(shown.output, Catch::Contains("data sources:"));
  CHECK_THAT(shown.output, Catch::Matches("(.|\n)*real +real +folder +6 +30 +24 +0\\.750 +0\\.750(.|\n)*"));
  CHECK_THAT(shown.output, Catch::Matches("(.|\n)*gen +synthetic +synthetic +4 +12 +8 +0\\.250 +0\\.250 +\\(rendered\\)(.|\n)*"));
}
