// Subcommand implementations: thin glue from arguments to the library, plus human-readable output.
#include "src/cli/commands.h"

#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "backbones/backbone.h"
#include "src/eval/verification.h"
#include "src/store/results_store.h"
#include "src/train/checkpoint.h"
#include "src/train/run_config.h"
#include "src/train/trainer.h"
#include "src/util/error.h"

namespace ff::cli {

namespace fs = std::filesystem;

namespace {

void print_report(const eval::VerificationReport& r) {
  std::printf("%-16s pairs %-6zu accuracy %.2f%% ± %.2f  best %.2f%% @ %.3f  TAR@FAR=%g %.2f%%  EER %.2f%%  AUC %.4f\n",
              r.target.c_str(), r.pairs, 100 * r.metric("accuracy"), 100 * r.metric("accuracy_std"),
              100 * r.metric("best_accuracy"), r.metric("best_threshold"), r.metric("far"), 100 * r.metric("tar_at_far"),
              100 * r.metric("eer"), r.metric("auc"));
}

std::unique_ptr<store::ResultsStore> open_existing(const std::string& db) {
  if (!fs::exists(db)) fail("results database not found: {} (train a run first, or pass --db)", db);
  return store::open_results_store(db);
}

std::optional<store::RunRow> find_run(store::ResultsStore& store, const std::string& key) {
  bool numeric = !key.empty() && key.find_first_not_of("0123456789") == std::string::npos;
  if (numeric) {
    if (auto row = store.get_run(std::stoll(key))) return row;
  }
  return store.get_run(key);
}

}  // namespace

int run_train(const TrainArgs& args) {
  std::vector<std::string> overrides = args.overrides;
  if (!args.output.empty()) overrides.push_back("output=" + args.output);
  if (!args.resume.empty()) overrides.push_back("train.resume=" + args.resume);
  train::RunConfig config = train::load_run_config(args.config, overrides);
  backbones::register_builtin_backbones();
  train::TrainResult result = train::train(config, args.command_line);
  if (result.rank != 0) return result.interrupted ? 130 : 0;  // rank 0 reports for the run
  std::printf("\n");
  for (const auto& report : result.evaluations) print_report(report);
  std::printf("run folder: %s\nresults db: %s (run %lld)\nsteps: %lld, final loss %.4f, %.1f s%s\n",
              result.run_dir.c_str(), result.results_db.c_str(), static_cast<long long>(result.run_id),
              static_cast<long long>(result.steps), result.final_loss, result.seconds,
              result.interrupted ? " (interrupted)" : "");
  return result.interrupted ? 130 : 0;
}

int run_eval(const EvalArgs& args) {
  backbones::register_builtin_backbones();
  train::ResolvedRun run = train::resolve_run(args.run);
  train::RunConfig& config = run.config;
  {
    config::Schema schema = train::make_schema(config);
    for (const auto& o : args.overrides) {
      if (o.rfind("eval.", 0) != 0) fail("--set {}: eval accepts only eval.* keys", o);
      config::apply_override(o, schema);
    }
  }
  std::vector<std::string> targets = args.targets.empty() ? config.eval.targets : args.targets;
  if (targets.empty()) fail("no verification targets: pass --target PATH.bin (the run's eval.targets is empty)");
  for (const auto& t : targets)
    if (!fs::exists(t)) fail("verification pack not found: {}", t);
  auto backbone = backbones::make_backbone(config.model);
  auto counters = train::load_backbone_weights(run.checkpoint, *backbone);
  std::printf("checkpoint %s (step %lld)\n", run.checkpoint.c_str(), static_cast<long long>(counters.step));
  std::unique_ptr<store::ResultsStore> store;
  if (args.store && run.run_id >= 0 && !run.results_db.empty()) store = store::open_results_store(run.results_db);
  for (const auto& target : targets) {
    auto report = eval::evaluate_verification_pack(*backbone, target, config.eval);
    print_report(report);
    if (store) store->add_evaluation(run.run_id, run.checkpoint.string(), report.target, report.metrics);
  }
  if (store) std::printf("recorded in %s (run %lld)\n", run.results_db.c_str(), static_cast<long long>(run.run_id));
  return 0;
}

int run_results_list(const ResultsArgs& args) {
  auto store = open_existing(args.db);
  auto runs = store->list_runs();
  std::printf("%-5s %-28s %-11s %-20s %-10s %s\n", "id", "name", "status", "started (UTC)", "accuracy", "target");
  for (const auto& run : runs) {
    std::string accuracy = "-", target = "";
    for (const auto& e : store->evaluations(run.id))
      if (e.metric == "accuracy") {
        accuracy = fmt::format("{:.2f}%", 100 * e.value);
        target = e.target;
      }
    std::printf("%-5lld %-28s %-11s %-20s %-10s %s\n", static_cast<long long>(run.id), run.info.name.c_str(),
                std::string(store::to_string(run.status)).c_str(), run.started_at.substr(0, 19).c_str(),
                accuracy.c_str(), target.c_str());
  }
  if (runs.empty()) std::printf("(no runs in %s)\n", args.db.c_str());
  return 0;
}

int run_results_show(const ResultsArgs& args) {
  auto store = open_existing(args.db);
  auto run = find_run(*store, args.run);
  if (!run) fail("no run with id or name '{}' in {}", args.run, args.db);
  std::printf("run %lld: %s\nstatus:   %s\nstarted:  %s\nended:    %s\nhost:     %s\ncommit:   %s\nfolder:   %s\ncommand:  %s\n",
              static_cast<long long>(run->id), run->info.name.c_str(), std::string(store::to_string(run->status)).c_str(),
              run->started_at.c_str(), run->ended_at.empty() ? "-" : run->ended_at.c_str(), run->info.host.c_str(),
              run->info.git_commit.empty() ? "-" : run->info.git_commit.c_str(), run->info.run_dir.c_str(),
              run->info.command_line.c_str());
  std::printf("\nevaluations:\n");
  auto rows = store->evaluations(run->id);
  if (rows.empty()) std::printf("  (none)\n");
  for (const auto& e : rows)
    std::printf("  %-12s %-16s %12.6f  %s\n", e.target.c_str(), e.metric.c_str(), e.value, e.checkpoint.c_str());
  auto sources = store->data_sources(run->id);
  if (!sources.empty()) {
    std::printf("\ndata sources:\n  %-12s %-9s %-9s %10s %10s %12s %7s %9s  %s\n", "name", "kind", "format", "identities",
                "images", "images seen", "share", "achieved", "path");
    for (const auto& d : sources)
      std::printf("  %-12s %-9s %-9s %10lld %10lld %12lld %7.3f %9.3f  %s\n", d.name.c_str(), d.kind.c_str(),
                  d.format.c_str(), static_cast<long long>(d.identities), static_cast<long long>(d.images),
                  static_cast<long long>(d.images_seen), d.share, d.share_achieved, d.path.c_str());
  }
  std::printf("\nconfig:\n%s", run->info.config.c_str());
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
