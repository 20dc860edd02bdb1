// Pair-verification metrics as results-store values: k-fold accuracy under a stated threshold rule
// and spread, best threshold over all pairs, EER, AUC, TAR at the FARs the impostor count supports,
// and ROC points for plots.
#pragma once
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "src/eval/eval_options.h"
#include "src/eval/verification_metrics.h"
#include "src/store/results_store.h"

namespace ff::eval {

using MetricValues = std::vector<store::Evaluation::Value>;

struct VerificationConventions {
  ThresholdRule rule = ThresholdRule::best_accuracy;
  bool standard_error = false;  // false: population std over folds ("accuracy_std"); true: "accuracy_se"
  int folds = 10;
};
VerificationConventions verification_conventions(const EvalOptions& options);
nlohmann::json to_json(const VerificationConventions& conventions);

// "1e-3" for powers of ten, else "3.16e-04": the FAR part of metric names ("tar@far=1e-3").
std::string far_label(double far);

// TAR at each FAR in `fars` that the impostor count supports (impostors * far >= 1), named
// "tar@far=<far>", then ROC points "roc@far=<far>" (TAR at 4 FARs per decade from 1 down to
// 1 / impostors) for plots.
MetricValues roc_values(const RocCurve& roc, const std::vector<double>& fars);

// Scores in fold order: fold k is the k-th contiguous block (sklearn KFold: the first N % folds
// blocks hold one pair more). Values, whole-target: accuracy (fold mean), accuracy_std or
// accuracy_se, threshold (mean fold threshold), best_threshold, best_accuracy (one threshold over
// all pairs), eer, auc, tar@far=1e-1/1e-2/1e-3 where supported, roc@far=... points.
MetricValues verification_values(std::span<const float> scores, const std::vector<bool>& genuine,
                                 const VerificationConventions& conventions);

// Permutation that puts pairs in fold order, stable within a fold. Throws ff::Error naming `source`
// when the folds, so ordered, are not the contiguous KFold blocks of `folds` (uneven fold sizes).
std::vector<size_t> fold_order(const std::vector<int>& fold_of_pair, int folds, const std::string& source);

}  // namespace ff::eval
