// Builds the report page section by section from the runs' rows; every figure comes from the store.
#include "src/report/html_report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "src/report/svg_chart.h"
#include "src/store/queries.h"
#include "src/util/atomic_file.h"
#include "src/util/error.h"

namespace ff::report {

namespace {

struct RunData {
  store::RunRow run;
  std::vector<store::EvaluationRow> rows;
  std::map<store::MetricKey, store::EvaluationRow> latest;
  std::vector<store::TrainingMetricRow> curves;
  std::vector<store::DataSourceRow> sources;
  std::string label() const { return fmt::format("{} ({})", run.info.name, run.id); }
  std::optional<double> value(const std::string& target, const std::string& protocol, const std::string& metric,
                              const std::string& group = "") const {
    auto it = latest.find({target, protocol, metric, group});
    if (it == latest.end()) return std::nullopt;
    return it->second.value;
  }
};

std::string cell(std::optional<double> v, bool percent) {
  if (!v) return "<td class=\"missing\">-</td>";
  return percent ? fmt::format("<td>{:.2f}%</td>", 100 * *v) : fmt::format("<td>{:.4g}</td>", *v);
}

bool is_rate(const std::string& metric) {
  return metric.starts_with("accuracy") || metric.starts_with("tar@") || metric.starts_with("tpir@") ||
         metric.starts_with("rank") || metric == "eer" || metric == "best_accuracy" || metric == "mean_accuracy" ||
         metric == "fmr" || metric == "fnmr" || metric == "group_std";
}

// Columns of a leaderboard: the first is what the board is sorted by.
std::vector<std::string> board_columns(const std::string& protocol, const std::vector<const RunData*>& runs,
                                       const std::string& target) {
  std::vector<std::string> wanted;
  if (protocol == "verification") wanted = {"accuracy", "accuracy_std", "accuracy_se", "tar@far=1e-3", "eer", "auc"};
  else if (protocol == "rfw") wanted = {"accuracy", "group_std", "ser", "fdr", "inequity"};
  else if (protocol == "ijb_1to1")
    wanted = {"tar@far=1e-4", "tar@far=1e-5", "tar@far=1e-6", "tar@far=1e-3", "tar@far=1e-2", "tar@far=1e-1", "auc"};
  else if (protocol == "ijb_1toN") wanted = {"tpir@fpir=1e-2", "tpir@fpir=1e-1", "rank1", "rank5", "rank10"};
  std::vector<std::string> present;
  for (const auto& m : wanted)
    if (std::any_of(runs.begin(), runs.end(), [&](const RunData* r) { return r->value(target, protocol, m).has_value(); }))
      present.push_back(m);
  // A small IJB tree may lack tar@far=1e-4: the board then leads with the smallest FAR it has.
  return present;
}

std::string table_head(const std::vector<std::string>& columns) {
  std::string out = "<thead><tr>";
  for (const auto& c : columns) out += "<th>" + html_escape(c) + "</th>";
  return out + "</tr></thead>";
}

const char* kStyle = R"(
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1100px; color: #222; }
h1 { font-size: 24px; } h2 { font-size: 19px; margin-top: 36px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin-top: 20px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: right; }
th { background: #f4f4f4; text-align: left; } td.name { text-align: left; }
td.missing { color: #aaa; } tr.best td { font-weight: bold; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; } .note { color: #666; font-size: 12px; }
)";

}  // namespace

std::string render_report(store::ResultsStore& store, const ReportOptions& options) {
  std::vector<RunData> data;
  std::vector<store::RunRow> runs;
  if (options.runs.empty()) {
    runs = store.list_runs();
  } else {
    for (const auto& key : options.runs) {
      std::optional<store::RunRow> row;
      if (!key.empty() && key.find_first_not_of("0123456789") == std::string::npos) row = store.get_run(std::stoll(key));
      if (!row) row = store.get_run(key);
      if (!row) fail("report: no run with id or name '{}' in {}", key, store.location());
      runs.push_back(*row);
    }
  }
  for (const auto& run : runs) {
    RunData d{run, store.evaluations(run.id), {}, store.training_metrics(run.id), store.data_sources(run.id)};
    d.latest = store::latest_values(d.rows);
    data.push_back(std::move(d));
  }
  std::vector<const RunData*> all;
  for (const auto& d : data) all.push_back(&d);

  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
                     html_escape(options.title) + "</title><style>" + kStyle + "</style></head><body>\n";
  html += "<h1>" + html_escape(options.title) + "</h1>\n";
  html += fmt::format("<p class=\"note\">{} runs from {} &middot; generated {}</p>\n", data.size(),
                      html_escape(store.location()), store::utc_now());

  // --- Runs.
  html += "<h2 id=\"runs\">Runs</h2>\n<table class=\"runs\">" +
          table_head({"id", "name", "status", "started (UTC)", "ranks", "hardware", "last step", "last loss"}) + "<tbody>";
  for (const auto& d : data) {
    int64_t last_step = 0;
    std::optional<double> loss;
    for (const auto& m : d.curves) {
      last_step = std::max(last_step, m.step);
      if (m.name == "loss") loss = m.value;
    }
    html += fmt::format("<tr><td>{}</td><td class=\"name\">{}</td><td class=\"name\">{}</td><td class=\"name\">{}</td>"
                        "<td>{}</td><td class=\"name\">{}</td><td>{}</td>{}</tr>",
                        d.run.id, html_escape(d.run.info.name),
                        html_escape(std::string(store::displayed_status(d.run, options.stale_after))),
                        html_escape(d.run.started_at.substr(0, 19)), d.run.info.world_size,
                        html_escape(d.run.info.hardware.empty() ? "-" : d.run.info.hardware),
                        last_step ? std::to_string(last_step) : "-", cell(loss, false));
  }
  html += "</tbody></table>\n";

  // --- Leaderboards: one per (target, protocol), sorted by the first column.
  std::set<std::pair<std::string, std::string>> boards;  // (target, protocol)
  for (const auto& d : data)
    for (const auto& [key, row] : d.latest)
      if (row.protocol != "fruits" && !row.protocol.empty()) boards.insert({row.target, row.protocol});
  html += "<h2 id=\"leaderboard\">Leaderboard</h2>\n";
  if (boards.empty()) html += "<p class=\"note\">No evaluations yet.</p>\n";
  for (const auto& [target, protocol] : boards) {
    auto columns = board_columns(protocol, all, target);
    if (columns.empty()) continue;
    std::vector<const RunData*> ranked;
    for (const auto* d : all)
      if (d->value(target, protocol, columns[0])) ranked.push_back(d);
    const bool lower = store::lower_is_better(columns[0]);
    std::stable_sort(ranked.begin(), ranked.end(), [&](const RunData* a, const RunData* b) {
      double va = *a->value(target, protocol, columns[0]), vb = *b->value(target, protocol, columns[0]);
      return lower ? va < vb : va > vb;
    });
    std::vector<std::string> head = {"#", "run"};
    head.insert(head.end(), columns.begin(), columns.end());
    html += fmt::format("<h3>{} &middot; {}</h3>\n<table class=\"leaderboard\" data-target=\"{}\">", html_escape(target),
                        html_escape(protocol), html_escape(target)) +
            table_head(head) + "<tbody>";
    for (size_t i = 0; i < ranked.size(); ++i) {
      html += fmt::format("<tr{}><td>{}</td><td class=\"name\">{}</td>", i == 0 ? " class=\"best\"" : "", i + 1,
                          html_escape(ranked[i]->label()));
      for (const auto& m : columns) html += cell(ranked[i]->value(target, protocol, m), is_rate(m));
      html += "</tr>";
    }
    html += "</tbody></table>\n";
  }

  // --- Training curves.
  html += "<h2 id=\"training\">Training curves</h2>\n<div class=\"charts\">";
  std::set<std::string> curve_names;
  for (const auto& d : data)
    for (const auto& m : d.curves) curve_names.insert(m.name);
  bool any_curve = false;
  auto curve_chart = [&](const std::string& name, const std::string& title, const std::string& y_label) {
    std::vector<Series> series;
    for (const auto& d : data) {
      Series s{d.label(), {}};
      for (const auto& m : d.curves)
        if (m.name == name) s.points.push_back({static_cast<double>(m.step), m.value});
      if (!s.points.empty()) series.push_back(std::move(s));
    }
    if (series.empty()) return;
    any_curve = true;
    html += line_chart(series, {.title = title, .x_label = "step", .y_label = y_label, .css_class = "curve"});
  };
  curve_chart("loss", "Training loss", "loss");
  curve_chart("lr", "Learning rate", "lr");
  for (const auto& name : curve_names)
    if (name.starts_with("eval/") && name.ends_with("/accuracy"))
      curve_chart(name, name.substr(5, name.size() - 5 - 9) + " accuracy vs step", "accuracy");
  html += "</div>\n";
  if (!any_curve) html += "<p class=\"note\">No training curves recorded.</p>\n";

  // --- ROC curves: TAR at the stored roc@far points, per target.
  html += "<h2 id=\"roc\">ROC curves</h2>\n<div class=\"charts\">";
  std::set<std::pair<std::string, std::string>> roc_targets;
  for (const auto& d : data)
    for (const auto& [key, row] : d.latest)
      if (row.metric.starts_with("roc@far=") && row.group.empty()) roc_targets.insert({row.target, row.protocol});
  for (const auto& [target, protocol] : roc_targets) {
    std::vector<Series> series;
    for (const auto& d : data) {
      Series s{d.label(), {}};
      for (const auto& [key, row] : d.latest)
        if (row.target == target && row.protocol == protocol && row.group.empty() && row.metric.starts_with("roc@far="))
          s.points.push_back({std::stod(row.metric.substr(8)), row.value});
      std::sort(s.points.begin(), s.points.end());
      if (!s.points.empty()) series.push_back(std::move(s));
    }
    html += line_chart(series, {.title = "ROC " + target + " (" + protocol + ")", .x_label = "FAR", .y_label = "TAR",
                                .css_class = "roc", .log_x = true, .y_from_zero = true});
  }
  html += "</div>\n";
  if (roc_targets.empty()) html += "<p class=\"note\">No ROC points recorded.</p>\n";

  // --- Fairness: per-group values of RFW and grouped verification targets.
  html += "<h2 id=\"fairness\">Fairness</h2>\n";
  std::set<std::pair<std::string, std::string>> fair_targets;
  for (const auto& d : data)
    for (const auto& [key, row] : d.latest)
      if (!row.group.empty() && (row.protocol == "rfw" || row.protocol == "verification"))
        fair_targets.insert({row.target, row.protocol});
  if (fair_targets.empty()) html += "<p class=\"note\">No per-group evaluations.</p>\n";
  for (const auto& [target, protocol] : fair_targets) {
    std::vector<std::string> groups;
    for (const auto& d : data)
      for (const auto& [key, row] : d.latest)
        if (row.target == target && row.protocol == protocol && !row.group.empty() &&
            std::find(groups.begin(), groups.end(), row.group) == groups.end())
          groups.push_back(row.group);
    html += fmt::format("<h3>{} &middot; {}</h3>\n<table class=\"fairness\" data-target=\"{}\">", html_escape(target),
                        html_escape(protocol), html_escape(target)) +
            table_head({"run", "group", "accuracy", "FMR", "FNMR"}) + "<tbody>";
    for (const auto& d : data)
      for (const auto& g : groups) {
        auto acc = d.value(target, protocol, "accuracy", g), fmr = d.value(target, protocol, "fmr", g),
             fnmr = d.value(target, protocol, "fnmr", g);
        if (!acc && !fmr && !fnmr) continue;
        html += fmt::format("<tr><td class=\"name\">{}</td><td class=\"name\">{}</td>{}{}{}</tr>", html_escape(d.label()),
                            html_escape(g), cell(acc, true), cell(fmr, true), cell(fnmr, true));
      }
    html += "</tbody></table>\n<table class=\"fairness-summary\">" +
            table_head({"run", "mean accuracy", "STD", "SER", "FDR", "inequity", "threshold"}) + "<tbody>";
    for (const auto& d : data) {
      auto mean = d.value(target, protocol, "mean_accuracy");
      if (!mean && !d.value(target, protocol, "fdr")) continue;
      html += fmt::format("<tr><td class=\"name\">{}</td>{}{}{}{}{}{}</tr>", html_escape(d.label()), cell(mean, true),
                          cell(d.value(target, protocol, "group_std"), true), cell(d.value(target, protocol, "ser"), false),
                          cell(d.value(target, protocol, "fdr"), false), cell(d.value(target, protocol, "inequity"), false),
                          cell(d.value(target, protocol, "fairness_threshold"), false));
    }
    html += "</tbody></table>\n";
    // Bars: each group's accuracy per run (FNMR when the groups have no accuracy).
    const bool has_accuracy = std::any_of(all.begin(), all.end(), [&](const RunData* d) {
      return std::any_of(groups.begin(), groups.end(), [&](const std::string& g) { return d->value(target, protocol, "accuracy", g).has_value(); });
    });
    const std::string metric = has_accuracy ? "accuracy" : "fnmr";
    std::vector<std::string> names;
    std::vector<BarCategory> categories;
    for (const auto& g : groups) categories.push_back({g, {}});
    for (const auto& d : data) {
      bool any = false;
      for (size_t i = 0; i < groups.size(); ++i) {
        auto v = d.value(target, protocol, metric, groups[i]);
        categories[i].values.push_back(v ? *v : std::nan(""));
        any |= v.has_value();
      }
      if (any) names.push_back(d.label());
      else
        for (auto& c : categories) c.values.pop_back();
    }
    html += "<div class=\"charts\">" +
            bar_chart(names, categories, {.title = target + ": " + metric + " per group", .x_label = "group",
                                          .y_label = metric, .css_class = "fairness-bars"}) +
            "</div>\n";
  }

  // --- Data mix.
  html += "<h2 id=\"data\">Training data</h2>\n";
  bool any_source = false;
  for (const auto& d : data) {
    if (d.sources.empty()) continue;
    if (!any_source)
      html += "<table class=\"data-mix\">" +
              table_head({"run", "source", "kind", "format", "identities", "images", "images seen", "share", "achieved"}) +
              "<tbody>";
    any_source = true;
    for (const auto& s : d.sources)
      html += fmt::format(
          "<tr><td class=\"name\">{}</td><td class=\"name\">{}</td><td class=\"name\">{}</td><td class=\"name\">{}</td>"
          "<td>{}</td><td>{}</td><td>{}</td><td>{:.3f}</td><td>{:.3f}</td></tr>",
          html_escape(d.label()), html_escape(s.name), html_escape(s.kind), html_escape(s.format), s.identities, s.images,
          s.images_seen, s.share, s.share_achieved);
  }
  html += any_source ? "</tbody></table>\n" : "<p class=\"note\">No data sources recorded.</p>\n";

  // --- FRUITS: latency against accuracy, with the budgets.
  html += "<h2 id=\"latency\">Latency vs accuracy (FRUITS)</h2>\n";
  std::vector<Series> points;
  std::string rows;
  for (const auto& d : data) {
    Series s{d.label(), {}};
    for (const auto& [key, row] : d.latest) {
      if (row.protocol != "fruits" || row.metric != "latency_ms" || row.group != "1 thread") continue;
      // The same target's headline accuracy: verification/rfw accuracy, or IJB TAR at the smallest FAR stored.
      std::optional<double> accuracy = d.value(row.target, "verification", "accuracy");
      if (!accuracy) accuracy = d.value(row.target, "rfw", "accuracy");
      std::string accuracy_name = "accuracy";
      if (!accuracy)
        for (const char* m : {"tar@far=1e-4", "tar@far=1e-3", "tar@far=1e-2", "tar@far=1e-1"})
          if ((accuracy = d.value(row.target, "ijb_1to1", m))) {
            accuracy_name = m;
            break;
          }
      if (accuracy) s.points.push_back({row.value, *accuracy});
      rows += fmt::format("<tr><td class=\"name\">{}</td><td class=\"name\">{}</td>{}{}{}<td class=\"name\">{}</td></tr>",
                          html_escape(d.label()), html_escape(row.target), cell(row.value, false),
                          cell(d.value(row.target, "fruits", "latency_ms", "all threads"), false), cell(accuracy, true),
                          html_escape(accuracy_name));
    }
    if (!s.points.empty()) points.push_back(std::move(s));
  }
  if (rows.empty()) {
    html += "<p class=\"note\">No latency measured (eval.latency).</p>\n";
  } else {
    html += "<table class=\"latency\">" +
            table_head({"run", "target", "ms / image (1 thread)", "ms / image (all threads)", "accuracy", "metric"}) +
            "<tbody>" + rows + "</tbody></table>\n";
    html += "<div class=\"charts\">" +
            scatter_chart(points, {.title = "Accuracy vs latency (1 thread)", .x_label = "ms per image (log)",
                                   .y_label = "accuracy", .css_class = "latency-chart", .log_x = true,
                                   .x_marks = {{100, "100 ms"}, {500, "500 ms"}, {1000, "1000 ms"}}}) +
            "</div>\n";
  }
  html += "</body></html>\n";
  return html;
}

void write_report(store::ResultsStore& store, const ReportOptions& options, const std::filesystem::path& out) {
  write_file_atomically(out, render_report(store, options));
}

}  // namespace ff::report
