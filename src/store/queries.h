// Questions asked of the results store by `faceforge results` and `faceforge report`: the latest
// value of each metric, --where filters, which direction is better, config differences.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "src/store/results_store.h"

namespace ff::store {

// (target, protocol, metric, group): one figure of a run.
using MetricKey = std::tuple<std::string, std::string, std::string, std::string>;

// The newest row of each key (later rows win: a re-evaluation replaces the figure shown).
std::map<MetricKey, EvaluationRow> latest_values(const std::vector<EvaluationRow>& rows);

// The run's latest whole-target value of `metric` for `target` ("" = the first target, in
// evaluation order, that has it); nullopt when it has none. `target_found` gets the target used.
std::optional<double> metric_value(const std::vector<EvaluationRow>& rows, const std::string& metric,
                                   const std::string& target = "", std::string* target_found = nullptr,
                                   const std::string& group = "");

// True for error-like metrics where smaller wins: eer, fmr, fnmr, ser, group_std, inequity and
// the ratios, latencies, loss, thresholds excluded; accuracies, TAR/TPIR, AUC, rank-k, FDR win high.
bool lower_is_better(const std::string& metric);

// `--where key=value`; value may use shell-style wildcards (* ?). Keys: id, name, status (as
// displayed: a stale running run is failed), host, target, protocol, checkpoint.
struct Where {
  std::string key;
  std::string pattern;
};
Where parse_where(const std::string& text);  // ff::Error naming the accepted keys
// `stale_after`: seconds without a heartbeat before a running run counts as failed (status key).
bool run_matches(const RunRow& run, const std::vector<EvaluationRow>& rows, const std::vector<Where>& where,
                 double stale_after = 600);
// For row-level output (export): run keys as above, evaluation keys compared with the row itself.
bool row_matches(const RunRow& run, const EvaluationRow& row, const std::vector<Where>& where, double stale_after = 600);

// A YAML document flattened to dotted keys -> scalar text ("optim.lr" -> "0.1", lists indexed:
// "data.sources[0].path"); ff::Error naming `source` when the text is not YAML.
std::vector<std::pair<std::string, std::string>> flatten_yaml(const std::string& text, const std::string& source);

}  // namespace ff::store
