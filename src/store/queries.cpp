// Latest values, filters and config flattening over rows read from any ResultsStore.
#include "src/store/queries.h"

#include <fnmatch.h>

#include <algorithm>
#include <array>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "src/util/error.h"

namespace ff::store {

std::map<MetricKey, EvaluationRow> latest_values(const std::vector<EvaluationRow>& rows) {
  std::map<MetricKey, EvaluationRow> latest;
  for (const auto& r : rows) latest[{r.target, r.protocol, r.metric, r.group}] = r;  // rows come in insertion order
  return latest;
}

std::optional<double> metric_value(const std::vector<EvaluationRow>& rows, const std::string& metric,
                                   const std::string& target, std::string* target_found, const std::string& group) {
  std::string chosen = target;
  if (chosen.empty())
    for (const auto& r : rows)
      if (r.metric == metric && r.group == group) {
        chosen = r.target;
        break;
      }
  std::optional<double> value;
  for (const auto& r : rows)
    if (r.target == chosen && r.metric == metric && r.group == group) value = r.value;
  if (value && target_found) *target_found = chosen;
  return value;
}

bool lower_is_better(const std::string& metric) {
  static constexpr std::array<std::string_view, 11> kLower = {"eer",       "fmr",          "fnmr",           "ser",
                                                              "group_std", "inequity",     "fmr_ratio",      "fnmr_ratio",
                                                              "loss",      "accuracy_std", "accuracy_se"};
  if (std::find(kLower.begin(), kLower.end(), metric) != kLower.end()) return true;
  return metric.starts_with("latency");
}

Where parse_where(const std::string& text) {
  static constexpr std::array<std::string_view, 7> kKeys = {"id", "name", "status", "host", "target", "protocol",
                                                            "checkpoint"};
  auto eq = text.find('=');
  std::string key = eq == std::string::npos ? "" : text.substr(0, eq);
  if (eq == std::string::npos || std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end())
    fail("--where '{}': expected KEY=VALUE with KEY one of id, name, status, host, target, protocol, checkpoint", text);
  return {key, text.substr(eq + 1)};
}

namespace {

bool glob(const std::string& pattern, const std::string& text) { return ::fnmatch(pattern.c_str(), text.c_str(), 0) == 0; }

// nullopt when `key` is not a run key.
std::optional<bool> run_key_matches(const RunRow& run, const Where& w, double stale_after) {
  if (w.key == "id") return glob(w.pattern, std::to_string(run.id));
  if (w.key == "name") return glob(w.pattern, run.info.name);
  if (w.key == "status") return glob(w.pattern, std::string(displayed_status(run, stale_after)));
  if (w.key == "host") return glob(w.pattern, run.info.host);
  return std::nullopt;
}

const std::string& row_field(const EvaluationRow& row, const std::string& key) {
  return key == "target" ? row.target : key == "protocol" ? row.protocol : row.checkpoint;
}

}  // namespace

bool run_matches(const RunRow& run, const std::vector<EvaluationRow>& rows, const std::vector<Where>& where,
                 double stale_after) {
  for (const auto& w : where) {
    if (auto m = run_key_matches(run, w, stale_after)) {
      if (!*m) return false;
      continue;
    }
    bool any = std::any_of(rows.begin(), rows.end(), [&](const EvaluationRow& r) { return glob(w.pattern, row_field(r, w.key)); });
    if (!any) return false;
  }
  return true;
}

bool row_matches(const RunRow& run, const EvaluationRow& row, const std::vector<Where>& where, double stale_after) {
  for (const auto& w : where) {
    auto m = run_key_matches(run, w, stale_after);
    if (!(m ? *m : glob(w.pattern, row_field(row, w.key)))) return false;
  }
  return true;
}

namespace {

void flatten(const YAML::Node& node, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out) {
  if (node.IsMap()) {
    for (const auto& entry : node) flatten(entry.second, prefix.empty() ? entry.first.as<std::string>() : prefix + "." + entry.first.as<std::string>(), out);
  } else if (node.IsSequence()) {
    if (node.size() == 0) out.emplace_back(prefix, "[]");
    for (std::size_t i = 0; i < node.size(); ++i) flatten(node[i], prefix + "[" + std::to_string(i) + "]", out);
  } else if (node.IsScalar()) {
    out.emplace_back(prefix, node.Scalar());
  } else {
    out.emplace_back(prefix, "");
  }
}

}  // namespace

std::vector<std::pair<std::string, std::string>> flatten_yaml(const std::string& text, const std::string& source) {
  std::vector<std::pair<std::string, std::string>> out;
  try {
    flatten(YAML::Load(text), "", out);
  } catch (const YAML::Exception& e) {
    fail("{}: the stored config is not YAML: {}", source, e.what());
  }
  return out;
}

}  // namespace ff::store
