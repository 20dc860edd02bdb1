// Per-group verification values for RFW and any labelled groups: each group's 10-fold accuracy,
// their mean / STD / SER / trade-off, and the NIST FRVT-style view at one global threshold
// (per-group FMR and FNMR, FDR, inequity). Undefined figures are left out with a note.
#pragma once
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "src/eval/fairness.h"
#include "src/eval/verification.h"

namespace ff::eval {

FairnessOptions fairness_options(const EvalOptions& options);
nlohmann::json to_json(const FairnessOptions& options, Spread group_spread);

struct GroupValues {
  MetricValues values;             // group = name for per-group values, "" for the summary
  std::vector<std::string> notes;  // why a figure is missing (a NaN is never stored)
};

// group[i]: index into names of pair i, -1 for a cross-group pair. Pairs within each group must be
// in that group's fold order (contiguous KFold blocks of the group's own pairs).
// Values per group: accuracy, accuracy_std|accuracy_se, fmr, fnmr (at the global threshold).
// Summary: mean_accuracy, group_std, ser, trade_off (when at least 2 groups have a 10-fold
// accuracy), fairness_threshold, fmr, fnmr, fdr, inequity, fmr_ratio, fnmr_ratio.
// with_accuracy = false skips the per-group accuracy (groups too small or one-sided for 10 folds).
GroupValues group_values(std::span<const float> scores, const std::vector<bool>& genuine, std::span<const int> group,
                         const std::vector<std::string>& names, const VerificationConventions& conventions,
                         const FairnessOptions& fairness, Spread group_spread);

}  // namespace ff::eval
