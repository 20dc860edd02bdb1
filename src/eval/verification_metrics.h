// Verification metrics over scored pairs: k-fold accuracy (LFW protocol), best threshold, ROC, TAR@FAR, EER, AUC.
#pragma once
#include <cstddef>
#include <span>
#include <vector>

namespace ff::eval {

// Every function here receives one similarity score per pair (higher = more alike; float or
// double) and a parallel flag per pair, true = genuine (same identity), false = impostor, in the
// benchmark's official pair order. A pair is accepted when score >= threshold.
// Input is validated once per call; ff::Error (one line) is thrown when
//   - scores and labels differ in length, or there are no pairs,
//   - a score is NaN or infinite (the index and value are quoted),
//   - there is no genuine pair or no impostor pair.
// Accuracies, rates and AUC are fractions in [0, 1], not percentages.

// ---------------------------------------------------------------------------------------------
// Which threshold a training split picks: the one maximising accuracy (insightface's LFW/CFP/AgeDB
// evaluation) or Youden's J = TPR - FPR (FaceX-Zoo). They differ when genuine and impostor counts
// are unequal or when accuracy has several maxima.
enum class ThresholdRule { best_accuracy, youden };

// Best single threshold under `rule` (default: maximises accuracy = (genuine accepted +
// impostors rejected) / N; `accuracy` and `correct` are always those at the chosen threshold).
//
// Candidates (exact, no grid): with s_1 < ... < s_m the distinct scores, the thresholds s_1
// (accept all), the midpoints (s_i + s_{i+1}) / 2 (accept exactly those >= s_{i+1}) and the double
// just above s_m (reject all). Every way a threshold can split the sorted scores is covered, so
// the returned accuracy is the true maximum. Ties in accuracy go to the lowest threshold, as
// insightface's argmax over an ascending grid does.
struct ThresholdAccuracy {
  double threshold = 0.0;
  double accuracy = 0.0;
  std::size_t correct = 0;  // pairs classified correctly at `threshold`
  std::size_t pairs = 0;
};
ThresholdAccuracy best_threshold(std::span<const double> scores, const std::vector<bool>& is_genuine,
                                 ThresholdRule rule = ThresholdRule::best_accuracy);
ThresholdAccuracy best_threshold(std::span<const float> scores, const std::vector<bool>& is_genuine,
                                 ThresholdRule rule = ThresholdRule::best_accuracy);

// ---------------------------------------------------------------------------------------------
// k-fold accuracy, insightface's LFW/CFP/AgeDB convention (sklearn KFold without shuffling):
// folds are contiguous blocks in pair order; when N is not divisible by k the first N % k folds
// hold one pair more (KFold's rule). For each fold the threshold is best_threshold() over the
// other k-1 folds (under `rule`), and the fold's accuracy is measured at that threshold on the fold itself.
// Requires 2 <= folds <= N. Only the whole input must hold both classes; a training split
// without one class still yields a threshold (accept all or reject all).
//
//   auto r = ten_fold_accuracy(scores, issame);   // r.mean_accuracy = 0.9978, r.std_accuracy ...
struct KFoldAccuracy {
  std::vector<double> fold_accuracy;   // [folds], accuracy on each held-out fold
  std::vector<double> fold_threshold;  // [folds], threshold chosen on the other folds
  std::vector<std::size_t> fold_size;  // [folds], pairs in each held-out fold
  double mean_accuracy = 0.0;          // unweighted mean over folds (insightface)
  double std_accuracy = 0.0;           // population std over folds, ddof = 0 (insightface)
  double standard_error = 0.0;         // sample std (ddof = 1) / sqrt(folds) (FaceX-Zoo)
  double mean_threshold = 0.0;
};
KFoldAccuracy ten_fold_accuracy(std::span<const double> scores, const std::vector<bool>& is_genuine,
                                int folds = 10, ThresholdRule rule = ThresholdRule::best_accuracy);
KFoldAccuracy ten_fold_accuracy(std::span<const float> scores, const std::vector<bool>& is_genuine,
                                int folds = 10, ThresholdRule rule = ThresholdRule::best_accuracy);

// ---------------------------------------------------------------------------------------------
// ROC over all pairs. One point per distinct score s (threshold = s, accepting every pair with
// score >= s) plus a final reject-all point (threshold = the double just above the maximum,
// far = tar = 0). Points are in ascending threshold order, so far and tar are non-increasing;
// the first point accepts everything (far = tar = 1). Tied scores are never split: a threshold
// accepts all pairs with a given score or none.
struct RocPoint {
  double threshold = 0.0;
  double far = 0.0;  // false_accepts / impostors
  double tar = 0.0;  // true_accepts / genuine
  std::size_t false_accepts = 0;
  std::size_t true_accepts = 0;
};
struct RocCurve {
  std::size_t genuine = 0;
  std::size_t impostors = 0;
  std::vector<RocPoint> points;
};
RocCurve roc_curve(std::span<const double> scores, const std::vector<bool>& is_genuine);
RocCurve roc_curve(std::span<const float> scores, const std::vector<bool>& is_genuine);

// TAR at the lowest threshold whose FAR does not exceed target_far (PROTOCOLS.md rule; not
// insightface's IJB "nearest FPR on sklearn's thinned ROC"). target_far must be in [0, 1].
// FAR is compared as false_accepts / impostors <= target_far in double, so a target equal to
// k / impostors is reached exactly. When no impostor may be accepted (target below
// 1 / impostors) the threshold lies above every impostor score, and TAR counts the genuine pairs
// strictly above the top impostor.
struct TarAtFar {
  double target_far = 0.0;
  double threshold = 0.0;
  double tar = 0.0;
  double far = 0.0;  // achieved FAR, <= target_far
  std::size_t true_accepts = 0;
  std::size_t false_accepts = 0;
};
TarAtFar tar_at_far(const RocCurve& roc, double target_far);
TarAtFar tar_at_far(std::span<const double> scores, const std::vector<bool>& is_genuine, double target_far);
TarAtFar tar_at_far(std::span<const float> scores, const std::vector<bool>& is_genuine, double target_far);

// ---------------------------------------------------------------------------------------------
// Equal error rate, interpolated: FRR = 1 - TAR and FAR are joined linearly between consecutive
// ROC points, and EER is the value where the two meet (the same number as the common
// brentq(1 - x - interp(fpr, tpr)(x)) recipe on scikit-learn's ROC). When a ROC point has FAR ==
// FRR exactly, that value is returned. `threshold` is the lowest ROC threshold with FRR >= FAR,
// the operating point one would actually deploy at the crossing.
struct EqualErrorRate {
  double eer = 0.0;
  double threshold = 0.0;
};
EqualErrorRate equal_error_rate(const RocCurve& roc);
EqualErrorRate equal_error_rate(std::span<const double> scores, const std::vector<bool>& is_genuine);
EqualErrorRate equal_error_rate(std::span<const float> scores, const std::vector<bool>& is_genuine);

// Area under the ROC, exact: the Mann-Whitney statistic
//   AUC = (#{(g, i): s_g > s_i} + 0.5 #{(g, i): s_g == s_i}) / (genuine * impostors)
// over all genuine g and impostor i, i.e. the trapezoidal area of roc_curve()'s points.
double roc_auc(std::span<const double> scores, const std::vector<bool>& is_genuine);
double roc_auc(std::span<const float> scores, const std::vector<bool>& is_genuine);

}  // namespace ff::eval
