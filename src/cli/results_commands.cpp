// `faceforge results list | show | compare | export | best` and `faceforge report`: the results store as
// aligned tables, JSON, CSV or an HTML page.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "src/cli/commands.h"
#include "src/report/html_report.h"
#include "src/store/queries.h"
#include "src/store/results_store.h"
#include "src/util/error.h"
#include "src/util/table.h"

namespace ff::cli {

namespace fs = std::filesystem;

namespace {

std::unique_ptr<store::ResultsStore> open_existing(const std::string& db) {
  const std::string path = store::store_path_from_url(db);
  if (path != ":memory:" && !fs::exists(path)) fail("results database not found: {} (train a run first, or pass --db)", path);
  return store::open_results_store(path);
}

store::RunRow find_run(store::ResultsStore& store, const std::string& key) {
  const bool numeric = !key.empty() && key.find_first_not_of("0123456789") == std::string::npos;
  if (numeric)
    if (auto row = store.get_run(std::stoll(key))) return *row;
  if (auto row = store.get_run(key)) return *row;
  fail("no run with id or name '{}' in {}", key, store.location());
}

void check_format(const std::string& format, std::initializer_list<const char*> allowed) {
  for (const char* a : allowed)
    if (format == a) return;
  std::string list;
  for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  fail("--format {}: expected one of {}", format, list);
}

std::string number(double v) {
  if (std::abs(v) >= 1e5 || (v != 0 && std::abs(v) < 1e-4)) return fmt::format("{:.4g}", v);
  return fmt::format("{:.6g}", v);
}

std::string status_of(const store::RunRow& run, double stale_after) {
  std::string s(store::displayed_status(run, stale_after));
  if (store::is_stale(run, stale_after)) s += " (no heartbeat since " + (run.heartbeat_at.empty() ? run.started_at : run.heartbeat_at).substr(0, 19) + ")";
  return s;
}

nlohmann::json run_json(const store::RunRow& run, double stale_after) {
  return {{"id", run.id},
          {"name", run.info.name},
          {"status", std::string(store::displayed_status(run, stale_after))},
          {"stored_status", std::string(store::to_string(run.status))},
          {"started_at", run.started_at},
          {"ended_at", run.ended_at},
          {"heartbeat_at", run.heartbeat_at},
          {"host", run.info.host},
          {"hardware", run.info.hardware},
          {"world_size", run.info.world_size},
          {"git_commit", run.info.git_commit},
          {"run_dir", run.info.run_dir},
          {"config_hash", run.info.config_hash}};
}

}  // namespace

int run_results_list(const ResultsArgs& args) {
  check_format(args.format, {"table", "json"});
  auto store = open_existing(args.db);
  std::vector<store::Where> where;
  for (const auto& w : args.where) where.push_back(store::parse_where(w));
  std::string target_filter;
  for (const auto& w : where)
    if (w.key == "target" && w.pattern.find_first_of("*?[") == std::string::npos) target_filter = w.pattern;
  const std::string metric = args.sort.empty() ? "accuracy" : args.sort;
  struct Listed {
    store::RunRow run;
    std::optional<double> value;
    std::string target;
  };
  std::vector<Listed> listed;
  for (const auto& run : store->list_runs()) {
    auto rows = store->evaluations(run.id);
    if (!store::run_matches(run, rows, where, args.stale_after)) continue;
    Listed l{run, {}, {}};
    l.value = store::metric_value(rows, metric, target_filter, &l.target);
    listed.push_back(std::move(l));
  }
  if (!args.sort.empty()) {
    const bool ascending = args.ascending || store::lower_is_better(metric);
    // Runs without the metric go last whatever the direction.
    std::stable_sort(listed.begin(), listed.end(), [&](const Listed& a, const Listed& b) {
      if (!a.value || !b.value) return a.value.has_value() && !b.value.has_value();
      return ascending ? *a.value < *b.value : *a.value > *b.value;
    });
  }
  if (args.limit > 0 && listed.size() > static_cast<size_t>(args.limit)) listed.resize(static_cast<size_t>(args.limit));
  if (args.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& l : listed) {
      nlohmann::json j = run_json(l.run, args.stale_after);
      j["metric"] = metric;
      j["target"] = l.target;
      j["value"] = l.value ? nlohmann::json(*l.value) : nlohmann::json(nullptr);
      out.push_back(j);
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& l : listed)
    rows.push_back({std::to_string(l.run.id), l.run.info.name, status_of(l.run, args.stale_after),
                    l.run.started_at.substr(0, 19), std::to_string(l.run.info.world_size),
                    l.value ? number(*l.value) : "-", l.target});
  std::printf("%s", format_table({"id", "name", "status", "started (UTC)", "ranks", metric, "target"}, rows).c_str());
  if (listed.empty()) std::printf("(no runs%s in %s)\n", where.empty() ? "" : " match", store->location().c_str());
  return 0;
}

int run_results_show(const ResultsArgs& args) {
  check_format(args.format, {"table", "json"});
  if (args.runs.size() != 1) fail("results show takes one run (id or name), got {}", args.runs.size());
  auto store = open_existing(args.db);
  const store::RunRow run = find_run(*store, args.runs[0]);
  const auto rows = store->evaluations(run.id);
  const auto checkpoints = store->checkpoints(run.id);
  const auto curves = store->training_metrics(run.id);
  const auto sources = store->data_sources(run.id);
  if (args.format == "json") {
    nlohmann::json j = run_json(run, args.stale_after);
    j["command_line"] = run.info.command_line;
    j["config"] = run.info.config;
    j["evaluations"] = nlohmann::json::array();
    for (const auto& e : rows)
      j["evaluations"].push_back({{"checkpoint", e.checkpoint}, {"target", e.target}, {"protocol", e.protocol},
                                  {"metric", e.metric}, {"group", e.group}, {"value", e.value},
                                  {"conventions", nlohmann::json::parse(e.conventions)}, {"created_at", e.created_at}});
    j["checkpoints"] = nlohmann::json::array();
    for (const auto& c : checkpoints)
      j["checkpoints"].push_back({{"step", c.step}, {"path", c.path}, {"sha256", c.sha256}, {"best", c.best}});
    j["training_metrics"] = nlohmann::json::array();
    for (const auto& m : curves) j["training_metrics"].push_back({{"step", m.step}, {"name", m.name}, {"value", m.value}});
    j["data_sources"] = nlohmann::json::array();
    for (const auto& d : sources)
      j["data_sources"].push_back({{"name", d.name}, {"kind", d.kind}, {"format", d.format}, {"identities", d.identities},
                                   {"images", d.images}, {"images_seen", d.images_seen}, {"share", d.share},
                                   {"share_achieved", d.share_achieved}, {"path", d.path}});
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("run %lld: %s\nstatus:    %s\nstarted:   %s\nended:     %s\nheartbeat: %s\nhost:      %s\nhardware:  %s\n"
              "ranks:     %lld\ncommit:    %s\nfolder:    %s\ncommand:   %s\n",
              static_cast<long long>(run.id), run.info.name.c_str(), status_of(run, args.stale_after).c_str(),
              run.started_at.c_str(), run.ended_at.empty() ? "-" : run.ended_at.c_str(),
              run.heartbeat_at.empty() ? "-" : run.heartbeat_at.c_str(), run.info.host.c_str(),
              run.info.hardware.empty() ? "-" : run.info.hardware.c_str(), static_cast<long long>(run.info.world_size),
              run.info.git_commit.empty() ? "-" : run.info.git_commit.c_str(), run.info.run_dir.c_str(),
              run.info.command_line.c_str());
  std::printf("\nevaluations (latest of each; ROC points omitted):\n");
  std::vector<std::vector<std::string>> table;
  size_t roc_points = 0;
  for (const auto& [key, e] : store::latest_values(rows)) {
    if (e.metric.starts_with("roc@")) {
      ++roc_points;
      continue;
    }
    table.push_back({e.target, e.protocol, e.metric, e.group, number(e.value), fs::path(e.checkpoint).filename().string()});
  }
  if (table.empty()) std::printf("  (none)\n");
  else std::printf("%s", format_table({"target", "protocol", "metric", "group", "value", "checkpoint"}, table).c_str());
  if (roc_points) std::printf("(%zu ROC points: results export or report)\n", roc_points);
  if (!checkpoints.empty()) {
    std::printf("\ncheckpoints:\n");
    std::vector<std::vector<std::string>> t;
    // train.keep_checkpoints removes old files; their rows stay as the run's history.
    for (const auto& c : checkpoints)
      t.push_back({std::to_string(c.step), c.sha256.substr(0, 16), fs::exists(c.path) ? "yes" : "removed",
                   c.best ? "best" : "", c.path});
    std::printf("%s", format_table({"step", "sha256", "on disk", "", "path"}, t).c_str());
  }
  if (!curves.empty()) {
    std::optional<double> loss;
    int64_t last_step = 0;
    for (const auto& m : curves) {
      last_step = std::max(last_step, m.step);
      if (m.name == "loss") loss = m.value;
    }
    std::printf("\ntraining: %zu logged values up to step %lld; last loss %s\n", curves.size(),
                static_cast<long long>(last_step), loss ? number(*loss).c_str() : "-");
  }
  if (!sources.empty()) {
    std::printf("\ndata sources:\n");
    std::vector<std::vector<std::string>> t;
    for (const auto& d : sources)
      t.push_back({d.name, d.kind, d.format, std::to_string(d.identities), std::to_string(d.images),
                   std::to_string(d.images_seen), fmt::format("{:.3f}", d.share), fmt::format("{:.3f}", d.share_achieved),
                   d.path});
    std::printf("%s", format_table({"name", "kind", "format", "identities", "images", "images seen", "share", "achieved", "path"}, t).c_str());
  }
  std::printf("\nconfig:\n%s", run.info.config.c_str());
  return 0;
}

int run_results_compare(const ResultsArgs& args) {
  check_format(args.format, {"table", "json"});
  if (args.runs.size() < 2) fail("results compare needs at least two runs, got {}", args.runs.size());
  auto store = open_existing(args.db);
  std::vector<store::RunRow> runs;
  for (const auto& key : args.runs) runs.push_back(find_run(*store, key));
  // Config: keys whose values differ between the runs (a missing key shows as "-").
  std::vector<std::map<std::string, std::string>> configs;
  std::set<std::string> keys;
  for (const auto& run : runs) {
    std::map<std::string, std::string> flat;
    for (auto& [k, v] : store::flatten_yaml(run.info.config, fmt::format("run {}", run.id))) flat[k] = v;
    for (const auto& [k, v] : flat) keys.insert(k);
    configs.push_back(std::move(flat));
  }
  std::vector<std::pair<std::string, std::vector<std::string>>> config_rows;
  for (const auto& k : keys) {
    std::vector<std::string> values;
    for (const auto& c : configs) values.push_back(c.count(k) ? c.at(k) : "-");
    if (std::adjacent_find(values.begin(), values.end(), std::not_equal_to<>()) != values.end())
      config_rows.push_back({k, values});
  }
  // Metrics: the latest whole-target value of every (target, metric) any run has; ROC points left out.
  std::vector<std::map<store::MetricKey, store::EvaluationRow>> latest;
  std::set<std::pair<std::string, std::string>> metric_keys;  // (target, metric)
  for (const auto& run : runs) {
    latest.push_back(store::latest_values(store->evaluations(run.id)));
    for (const auto& [key, row] : latest.back())
      if (row.group.empty() && !row.metric.starts_with("roc@")) metric_keys.insert({row.target, row.metric});
  }
  auto value_of = [&](size_t r, const std::pair<std::string, std::string>& tm) -> std::optional<double> {
    std::optional<double> v;
    for (const auto& [key, row] : latest[r])
      if (row.target == tm.first && row.metric == tm.second && row.group.empty()) v = row.value;
    return v;
  };
  if (args.format == "json") {
    nlohmann::json out = {{"runs", nlohmann::json::array()}, {"config_differences", nlohmann::json::object()},
                          {"metrics", nlohmann::json::array()}};
    for (const auto& run : runs) out["runs"].push_back({{"id", run.id}, {"name", run.info.name}});
    for (const auto& [k, values] : config_rows) out["config_differences"][k] = values;
    for (const auto& tm : metric_keys) {
      nlohmann::json values = nlohmann::json::array();
      for (size_t r = 0; r < runs.size(); ++r) {
        auto v = value_of(r, tm);
        values.push_back(v ? nlohmann::json(*v) : nlohmann::json(nullptr));
      }
      out["metrics"].push_back({{"target", tm.first}, {"metric", tm.second}, {"values", values}});
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::vector<std::string> header = {"config key"};
  for (const auto& run : runs) header.push_back(fmt::format("{} ({})", run.info.name, run.id));
  std::vector<std::vector<std::string>> t;
  for (const auto& [k, values] : config_rows) {
    std::vector<std::string> row = {k};
    row.insert(row.end(), values.begin(), values.end());
    t.push_back(row);
  }
  std::printf("config differences:\n%s", t.empty() ? "  (none)\n" : format_table(header, t).c_str());
  header[0] = "target / metric";
  t.clear();
  for (const auto& tm : metric_keys) {
    std::vector<std::optional<double>> values;
    for (size_t r = 0; r < runs.size(); ++r) values.push_back(value_of(r, tm));
    // The best value of the row is marked with '*'.
    std::optional<double> best;
    for (const auto& v : values)
      if (v && (!best || (store::lower_is_better(tm.second) ? *v < *best : *v > *best))) best = v;
    std::vector<std::string> row = {tm.first + " / " + tm.second};
    for (const auto& v : values) row.push_back(v ? number(*v) + (values.size() > 1 && *v == *best ? " *" : "") : "-");
    t.push_back(row);
  }
  std::printf("\nmetrics (latest, whole target; * = best):\n%s", t.empty() ? "  (none)\n" : format_table(header, t).c_str());
  return 0;
}

int run_results_export(const ResultsArgs& args) {
  check_format(args.format, {"csv", "json"});
  auto store = open_existing(args.db);
  std::vector<store::Where> where;
  for (const auto& w : args.where) where.push_back(store::parse_where(w));
  std::string text;
  nlohmann::json json = nlohmann::json::array();
  if (args.format == "csv")
    text = "run_id,run_name,checkpoint,target,protocol,metric,group,value,created_at,conventions\n";
  for (const auto& run : store->list_runs()) {
    for (const auto& e : store->evaluations(run.id)) {
      if (!store::row_matches(run, e, where, args.stale_after)) continue;
      if (args.format == "csv") {
        text += fmt::format("{},{},{},{},{},{},{},{},{},{}\n", run.id, csv_field(run.info.name), csv_field(e.checkpoint),
                            csv_field(e.target), csv_field(e.protocol), csv_field(e.metric), csv_field(e.group),
                            fmt::format("{:.17g}", e.value), e.created_at, csv_field(e.conventions));
      } else {
        json.push_back({{"run_id", run.id}, {"run_name", run.info.name}, {"checkpoint", e.checkpoint},
                        {"target", e.target}, {"protocol", e.protocol}, {"metric", e.metric}, {"group", e.group},
                        {"value", e.value}, {"created_at", e.created_at},
                        {"conventions", nlohmann::json::parse(e.conventions)}});
      }
    }
  }
  if (args.format == "json") text = json.dump(2) + "\n";
  if (args.out.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else {
    std::ofstream f(args.out, std::ios::binary);
    if (!(f << text)) fail("--out {}: cannot write", args.out);
  }
  return 0;
}

int run_results_best(const ResultsArgs& args) {
  check_format(args.format, {"table", "json"});
  if (args.target.empty() || args.metric.empty()) fail("results best needs --target and --metric");
  auto store = open_existing(args.db);
  const bool lower = args.ascending || store::lower_is_better(args.metric);
  std::optional<store::RunRow> best_run;
  double best = 0;
  size_t candidates = 0;
  for (const auto& run : store->list_runs()) {
    auto v = store::metric_value(store->evaluations(run.id), args.metric, args.target, nullptr, args.group);
    if (!v) continue;
    ++candidates;
    if (!best_run || (lower ? *v < best : *v > best)) {
      best_run = run;
      best = *v;
    }
  }
  if (!best_run)
    fail("no run in {} has metric '{}' for target '{}'{}", store->location(), args.metric, args.target,
         args.group.empty() ? "" : " group " + args.group);
  if (args.format == "json") {
    nlohmann::json j = run_json(*best_run, args.stale_after);
    j["target"] = args.target;
    j["metric"] = args.metric;
    j["group"] = args.group;
    j["value"] = best;
    j["direction"] = lower ? "lower" : "higher";
    j["candidates"] = candidates;
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("%s", format_table({"id", "name", "target", "metric", "value", "of runs"},
                                 {{std::to_string(best_run->id), best_run->info.name, args.target, args.metric,
                                   number(best), std::to_string(candidates)}})
                        .c_str());
  return 0;
}

int run_report(const ReportArgs& args) {
  auto store = open_existing(args.db);
  report::ReportOptions options;
  options.runs = args.runs;
  options.title = args.title;
  report::write_report(*store, options, args.out);
  std::printf("wrote %s\n", args.out.c_str());
  return 0;
}

}  // namespace ff::cli
