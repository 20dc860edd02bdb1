// Verification metric values: the 10-fold protocol plus threshold-free and ROC figures.
#include "src/eval/verification.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "src/util/error.h"

namespace ff::eval {

VerificationConventions verification_conventions(const EvalOptions& o) {
  VerificationConventions c;
  c.rule = o.threshold_rule == "youden" ? ThresholdRule::youden : ThresholdRule::best_accuracy;
  c.standard_error = o.fold_spread == "standard_error";
  return c;
}

nlohmann::json to_json(const VerificationConventions& c) {
  return {{"threshold_rule", c.rule == ThresholdRule::youden ? "youden" : "best_accuracy"},
          {"fold_spread", c.standard_error ? "standard_error" : "population_std"},
          {"folds", c.folds}};
}

std::string far_label(double far) {
  double exponent = std::log10(far);
  if (std::abs(exponent - std::round(exponent)) < 1e-9) return fmt::format("1e{}", static_cast<int>(std::round(exponent)));
  return fmt::format("{:.2e}", far);
}

MetricValues roc_values(const RocCurve& roc, const std::vector<double>& fars) {
  MetricValues values;
  const double impostors = static_cast<double>(roc.impostors);
  for (double far : fars)
    if (impostors * far >= 1 - 1e-9) values.push_back({"tar@far=" + far_label(far), tar_at_far(roc, far).tar, ""});
  for (int k = 0;; ++k) {
    double far = std::pow(10.0, -k / 4.0);
    if (impostors * far < 1 - 1e-9) break;
    values.push_back({"roc@far=" + far_label(far), tar_at_far(roc, far).tar, ""});
  }
  return values;
}

MetricValues verification_values(std::span<const float> scores, const std::vector<bool>& genuine,
                                  const VerificationConventions& c) {
  KFoldAccuracy folds = ten_fold_accuracy(scores, genuine, c.folds, c.rule);
  ThresholdAccuracy best = best_threshold(scores, genuine, c.rule);
  RocCurve roc = roc_curve(scores, genuine);
  MetricValues values = {{"accuracy", folds.mean_accuracy, ""},
                         {c.standard_error ? "accuracy_se" : "accuracy_std",
                          c.standard_error ? folds.standard_error : folds.std_accuracy, ""},
                         {"threshold", folds.mean_threshold, ""},
                         {"best_threshold", best.threshold, ""},
                         {"best_accuracy", best.accuracy, ""},
                         {"eer", equal_error_rate(roc).eer, ""},
                         {"auc", roc_auc(scores, genuine), ""}};
  for (auto& v : roc_values(roc, {1e-1, 1e-2, 1e-3})) values.push_back(std::move(v));
  return values;
}

std::vector<size_t> fold_order(const std::vector<int>& fold_of_pair, int folds, const std::string& source) {
  std::vector<size_t> order(fold_of_pair.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return fold_of_pair[a] < fold_of_pair[b]; });
  const size_t n = order.size();
  if (folds < 2 || n < static_cast<size_t>(folds)) fail("{}: {} pairs cannot be split into {} folds", source, n, folds);
  size_t start = 0;
  for (int k = 0; k < folds; ++k) {
    size_t size = n / folds + (static_cast<size_t>(k) < n % folds ? 1 : 0);
    for (size_t i = start; i < start + size; ++i)
      if (fold_of_pair[order[i]] != k)
        fail("{}: fold {} does not hold {} pairs: the listed folds are not the protocol's equal contiguous blocks",
             source, k, size);
    start += size;
  }
  return order;
}

}  // namespace ff::eval
