// Subcommand implementations: thin glue from arguments to the library, plus human-readable output.
#include "src/cli/commands.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "backbones/backbone.h"
#include "src/config/schema.h"
#include "src/eval/evaluate.h"
#include "src/store/results_store.h"
#include "src/train/checkpoint.h"
#include "src/train/run_config.h"
#include "src/train/trainer.h"
#include "src/util/error.h"
#include "src/util/host.h"

namespace ff::cli {

namespace fs = std::filesystem;

int run_train(const TrainArgs& args) {
  std::vector<std::string> overrides = args.overrides;
  if (!args.output.empty()) overrides.push_back("output=" + args.output);
  if (!args.resume.empty()) overrides.push_back("train.resume=" + args.resume);
  train::RunConfig config = train::load_run_config(args.config, overrides);
  backbones::register_builtin_backbones();
  train::TrainResult result = train::train(config, args.command_line);
  if (result.rank != 0) return result.interrupted ? 130 : 0;  // rank 0 reports for the run
  std::printf("\n");
  for (const auto& evaluated : result.evaluations)
    for (const auto& line : evaluated.lines) std::printf("%s\n", line.c_str());
  std::printf("run folder: %s\nresults db: %s (run %lld)\nsteps: %lld, final loss %.4f, %.1f s%s\n",
              result.run_dir.c_str(), result.results_db.c_str(), static_cast<long long>(result.run_id),
              static_cast<long long>(result.steps), result.final_loss, result.seconds,
              result.interrupted ? " (interrupted)" : "");
  return result.interrupted ? 130 : 0;
}

int run_eval(const EvalArgs& args) {
  backbones::register_builtin_backbones();
  if (args.checkpoint.empty() && args.features.empty())
    fail("nothing to evaluate: pass --checkpoint RUN_OR_FILE (a model) or --features FILE.npy");
  if (!args.features.empty() && !args.save_features.empty())
    fail("--save-features writes a model's features; with --features they are already in {}", args.features);
  std::optional<train::ResolvedRun> run;
  eval::EvalOptions options;
  if (!args.checkpoint.empty()) {
    run = train::resolve_run(args.checkpoint);
    options = run->config.eval;
  }
  {
    // Settings in order: the run's eval section, the suite file, then --set.
    config::Schema schema;
    eval::bind_schema(schema, options);
    if (!args.suite.empty()) {
      options.targets.clear();  // a suite names its own targets
      config::load_yaml_file(args.suite, schema);
    }
    for (const auto& o : args.overrides) {
      if (o.rfind("eval.", 0) != 0) fail("--set {}: eval accepts only eval.* keys", o);
      config::apply_override(o, schema);
    }
  }
  if (!args.targets.empty()) options.targets = args.targets;
  if (options.targets.empty())
    fail("no evaluation targets: pass --target [name=]PATH or --suite FILE{}",
         run ? " (the run's eval.targets is empty)" : "");
  std::vector<eval::Target> targets;
  for (const auto& spec : options.targets) targets.push_back(eval::parse_target(spec));
  if (!args.features.empty() && targets.size() != 1)
    fail("--features holds one target's images; {} targets given", targets.size());

  std::shared_ptr<backbones::Backbone> backbone;
  std::unique_ptr<eval::FeatureSource> source;
  if (!args.features.empty()) {
    source = std::make_unique<eval::FileFeatures>(args.features);
  } else {
    backbone = backbones::make_backbone(run->config.model);
    auto counters = train::load_backbone_weights(run->checkpoint, *backbone);
    std::printf("checkpoint %s (step %lld)\n", run->checkpoint.c_str(), static_cast<long long>(counters.step));
    source = std::make_unique<eval::ModelFeatures>(*backbone, eval::embedder_options(options), run->checkpoint.string(),
                                                   args.save_features);
  }

  // Where results go: the run's own store, or (features without a run) a run named after them.
  std::unique_ptr<store::ResultsStore> store;
  int64_t run_id = -1;
  bool opened_run = false;
  if (args.store) {
    if (run && run->run_id >= 0 && !run->results_db.empty()) {
      store = store::open_results_store(run->results_db);
      run_id = run->run_id;
    } else if (run) {
      std::printf("(not recorded: %s has no results store entry)\n", args.checkpoint.c_str());
    } else {
      std::string db = args.db.empty() ? "runs/results.db" : args.db;
      if (auto parent = fs::path(db).parent_path(); !parent.empty()) fs::create_directories(parent);
      store = store::open_results_store(db);
      std::string name = args.run_name.empty() ? "features:" + fs::path(args.features).stem().string() : args.run_name;
      if (auto existing = store->get_run(name)) {
        run_id = existing->id;
        store->resume_run(run_id);
      } else {
        store::RunInfo info;
        info.name = name;
        info.command_line = args.command_line;
        info.host = host_name();
        info.config = "features: " + fs::absolute(args.features).string() + "\n";
        run_id = store->begin_run(info);
      }
      opened_run = true;
    }
  }
  std::ofstream json;
  if (!args.json.empty()) {
    json.open(args.json, std::ios::app);
    if (!json) fail("--json: cannot open {} for appending", args.json);
  }
  try {
    for (const auto& target : targets) {
      eval::TargetResult result = eval::evaluate_target(target, *source, options);
      for (const auto& line : result.lines) std::printf("%s\n", line.c_str());
      for (const auto& e : result.evaluations) {
        if (store) store->add_evaluation(run_id, e);
        if (json.is_open()) {
          nlohmann::json record = {{"event", "eval"}, {"checkpoint", e.checkpoint}, {"target", e.target},
                                   {"protocol", e.protocol}, {"conventions", nlohmann::json::parse(e.conventions)}};
          nlohmann::json values = nlohmann::json::array();
          for (const auto& v : e.values) values.push_back({{"metric", v.metric}, {"group", v.group}, {"value", v.value}});
          record["values"] = values;
          json << record.dump() << "\n";
        }
      }
      std::fflush(stdout);
    }
  } catch (...) {
    if (opened_run) store->finish_run(run_id, store::RunStatus::failed);
    throw;
  }
  if (opened_run) store->finish_run(run_id, store::RunStatus::finished);
  if (store) std::printf("recorded in %s (run %lld)\n", store->location().c_str(), static_cast<long long>(run_id));
  if (!args.save_features.empty()) std::printf("features written to %s/<target>.npy\n", args.save_features.c_str());
  return 0;
}

int run_config_show(const ConfigArgs& args) {
  backbones::register_builtin_backbones();
  std::printf("%s", train::to_yaml(train::load_run_config(args.config, args.overrides)).c_str());
  return 0;
}

int run_config_keys() {
  backbones::register_builtin_backbones();
  train::RunConfig config;
  std::printf("%s", train::make_schema(config).to_markdown().c_str());
  return 0;
}

}  // namespace ff::cli
