// Verification metrics: every function sorts the pairs once and sweeps thresholds over distinct scores.
#include "src/eval/verification_metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "src/util/error.h"

namespace ff::eval {
namespace {

struct Entry {
  double score;
  bool genuine;
  int fold;  // -1 outside k-fold
};

struct Counts {
  std::size_t genuine = 0;
  std::size_t impostors = 0;
};

// Validation lives in one place so that every metric rejects the same inputs with the same words.
Counts validate(const char* what, std::span<const double> scores, const std::vector<bool>& is_genuine) {
  if (scores.size() != is_genuine.size()) {
    fail("{}: {} scores but {} labels; need one genuine/impostor label per score", what, scores.size(),
         is_genuine.size());
  }
  if (scores.empty()) fail("{}: no pairs", what);
  Counts counts;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (!std::isfinite(scores[i])) fail("{}: score {} is {}; scores must be finite", what, i, scores[i]);
    if (is_genuine[i]) ++counts.genuine;
    else ++counts.impostors;
  }
  if (counts.genuine == 0) fail("{}: no genuine pairs among {}; need both genuine and impostor pairs", what, scores.size());
  if (counts.impostors == 0) fail("{}: no impostor pairs among {}; need both genuine and impostor pairs", what, scores.size());
  return counts;
}

std::vector<Entry> sorted_entries(std::span<const double> scores, const std::vector<bool>& is_genuine) {
  std::vector<Entry> entries(scores.size());
  for (std::size_t i = 0; i < scores.size(); ++i) entries[i] = {scores[i], static_cast<bool>(is_genuine[i]), -1};
  // Stable so that equal scores keep pair order: results never depend on the sort implementation.
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.score < b.score; });
  return entries;
}

// The reject-all threshold: the smallest double above every score, so it stays finite and close.
double above(double max_score) { return std::nextafter(max_score, std::numeric_limits<double>::infinity()); }

// A threshold strictly above `low` and at most `high`, i.e. one that accepts `high` and rejects `low`.
// Midpoint for symmetry between neighbouring scores; adjacent doubles fall back to `high`.
double between(double low, double high) {
  double mid = low + (high - low) / 2;
  if (!std::isfinite(mid)) mid = low / 2 + high / 2;
  if (!(mid > low) || mid > high) mid = high;
  return mid;
}

std::vector<double> widen(std::span<const float> scores) { return {scores.begin(), scores.end()}; }

// The threshold that `rule` prefers over the entries whose fold differs from `held_out` (all when
// -1). Starts at accept-all and moves the threshold past one group of tied scores at a time; a
// group flips its impostors to correct and its genuine pairs to wrong. Strict improvement keeps
// the lowest threshold on ties. Youden's J = TPR - FPR is compared as the integer
// tp·I - fp·G (both over G·I), so equal J values are equal exactly.
ThresholdAccuracy sweep(const std::vector<Entry>& sorted, int held_out, ThresholdRule rule) {
  std::size_t pairs = 0;
  std::size_t genuine = 0;
  double first = 0.0;
  bool seen = false;
  for (const Entry& e : sorted) {
    if (e.fold == held_out && held_out >= 0) continue;
    if (!seen) first = e.score;
    seen = true;
    ++pairs;
    if (e.genuine) ++genuine;
  }
  const auto g = static_cast<std::int64_t>(genuine), imp = static_cast<std::int64_t>(pairs - genuine);
  std::int64_t tp = g, fp = imp;  // accepted at the current threshold
  auto objective = [&] { return rule == ThresholdRule::youden ? tp * imp - fp * g : tp + (imp - fp); };
  ThresholdAccuracy best;
  best.pairs = pairs;
  best.threshold = first;
  best.correct = genuine;
  std::int64_t best_objective = objective();
  std::size_t i = 0;
  auto skip = [&](std::size_t k) {
    while (k < sorted.size() && held_out >= 0 && sorted[k].fold == held_out) ++k;
    return k;
  };
  i = skip(i);
  while (i < sorted.size()) {
    const double value = sorted[i].score;
    while (i < sorted.size() && sorted[i].score == value) {
      if (!(held_out >= 0 && sorted[i].fold == held_out)) --(sorted[i].genuine ? tp : fp);
      ++i;
    }
    i = skip(i);
    if (objective() > best_objective) {
      best_objective = objective();
      best.correct = static_cast<std::size_t>(tp + (imp - fp));
      best.threshold = i < sorted.size() ? between(value, sorted[i].score) : above(value);
    }
  }
  best.accuracy = static_cast<double>(best.correct) / static_cast<double>(pairs);
  return best;
}

}  // namespace

ThresholdAccuracy best_threshold(std::span<const double> scores, const std::vector<bool>& is_genuine,
                                 ThresholdRule rule) {
  validate("best_threshold", scores, is_genuine);
  return sweep(sorted_entries(scores, is_genuine), -1, rule);
}

ThresholdAccuracy best_threshold(std::span<const float> scores, const std::vector<bool>& is_genuine,
                                 ThresholdRule rule) {
  return best_threshold(std::span<const double>(widen(scores)), is_genuine, rule);
}

KFoldAccuracy ten_fold_accuracy(std::span<const double> scores, const std::vector<bool>& is_genuine, int folds,
                                ThresholdRule rule) {
  validate("ten_fold_accuracy", scores, is_genuine);
  const std::size_t n = scores.size();
  if (folds < 2 || static_cast<std::size_t>(folds) > n) {
    fail("ten_fold_accuracy: folds must be in [2, number of pairs = {}], got {}", n, folds);
  }
  const std::size_t k = static_cast<std::size_t>(folds);
  KFoldAccuracy result;
  result.fold_size.resize(k);
  std::vector<int> fold_of(n);
  std::size_t start = 0;
  for (std::size_t f = 0; f < k; ++f) {
    result.fold_size[f] = n / k + (f < n % k ? 1 : 0);
    for (std::size_t j = start; j < start + result.fold_size[f]; ++j) fold_of[j] = static_cast<int>(f);
    start += result.fold_size[f];
  }

  // One sort serves all folds: each training sweep skips its held-out fold's entries.
  std::vector<Entry> entries(n);
  for (std::size_t i = 0; i < n; ++i) entries[i] = {scores[i], static_cast<bool>(is_genuine[i]), fold_of[i]};
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.score < b.score; });

  for (std::size_t f = 0; f < k; ++f) {
    const double threshold = sweep(entries, static_cast<int>(f), rule).threshold;
    std::size_t correct = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (fold_of[i] != static_cast<int>(f)) continue;
      if ((scores[i] >= threshold) == static_cast<bool>(is_genuine[i])) ++correct;
    }
    result.fold_threshold.push_back(threshold);
    result.fold_accuracy.push_back(static_cast<double>(correct) / static_cast<double>(result.fold_size[f]));
  }

  double sum = 0.0;
  double threshold_sum = 0.0;
  for (std::size_t f = 0; f < k; ++f) {
    sum += result.fold_accuracy[f];
    threshold_sum += result.fold_threshold[f];
  }
  result.mean_accuracy = sum / static_cast<double>(k);
  result.mean_threshold = threshold_sum / static_cast<double>(k);
  double squares = 0.0;
  for (double a : result.fold_accuracy) squares += (a - result.mean_accuracy) * (a - result.mean_accuracy);
  result.std_accuracy = std::sqrt(squares / static_cast<double>(k));
  result.standard_error = std::sqrt(squares / static_cast<double>(k - 1)) / std::sqrt(static_cast<double>(k));
  return result;
}

KFoldAccuracy ten_fold_accuracy(std::span<const float> scores, const std::vector<bool>& is_genuine, int folds,
                                ThresholdRule rule) {
  return ten_fold_accuracy(std::span<const double>(widen(scores)), is_genuine, folds, rule);
}

RocCurve roc_curve(std::span<const double> scores, const std::vector<bool>& is_genuine) {
  const Counts counts = validate("roc_curve", scores, is_genuine);
  const std::vector<Entry> sorted = sorted_entries(scores, is_genuine);
  RocCurve roc;
  roc.genuine = counts.genuine;
  roc.impostors = counts.impostors;
  std::size_t true_accepts = counts.genuine;
  std::size_t false_accepts = counts.impostors;
  auto point = [&](double threshold) {
    roc.points.push_back({threshold, static_cast<double>(false_accepts) / static_cast<double>(counts.impostors),
                          static_cast<double>(true_accepts) / static_cast<double>(counts.genuine), false_accepts,
                          true_accepts});
  };
  std::size_t i = 0;
  while (i < sorted.size()) {
    const double value = sorted[i].score;
    point(value);
    for (; i < sorted.size() && sorted[i].score == value; ++i) {
      if (sorted[i].genuine) --true_accepts;
      else --false_accepts;
    }
  }
  point(above(sorted.back().score));
  return roc;
}

RocCurve roc_curve(std::span<const float> scores, const std::vector<bool>& is_genuine) {
  return roc_curve(std::span<const double>(widen(scores)), is_genuine);
}

TarAtFar tar_at_far(const RocCurve& roc, double target_far) {
  if (!(target_far >= 0.0 && target_far <= 1.0)) fail("tar_at_far: target FAR must be in [0, 1], got {}", target_far);
  if (roc.points.empty()) fail("tar_at_far: empty ROC curve");
  // Ascending thresholds have non-increasing FAR, so the first point within target is the lowest.
  for (const RocPoint& p : roc.points) {
    if (p.far <= target_far) return {target_far, p.threshold, p.tar, p.far, p.true_accepts, p.false_accepts};
  }
  fail("tar_at_far: ROC curve does not end at FAR 0 (malformed curve)");
}

TarAtFar tar_at_far(std::span<const double> scores, const std::vector<bool>& is_genuine, double target_far) {
  return tar_at_far(roc_curve(scores, is_genuine), target_far);
}

TarAtFar tar_at_far(std::span<const float> scores, const std::vector<bool>& is_genuine, double target_far) {
  return tar_at_far(roc_curve(scores, is_genuine), target_far);
}

EqualErrorRate equal_error_rate(const RocCurve& roc) {
  if (roc.points.empty() || roc.genuine == 0 || roc.impostors == 0) fail("equal_error_rate: empty ROC curve");
  // Rates from counts: a crossing that is exact in counts is then exact in doubles too.
  auto far = [&](const RocPoint& p) { return static_cast<double>(p.false_accepts) / static_cast<double>(roc.impostors); };
  auto frr = [&](const RocPoint& p) {
    return static_cast<double>(roc.genuine - p.true_accepts) / static_cast<double>(roc.genuine);
  };
  for (std::size_t k = 0; k < roc.points.size(); ++k) {
    const RocPoint& p = roc.points[k];
    const double d = frr(p) - far(p);
    if (d < 0.0) continue;
    if (d == 0.0 || k == 0) return {far(p), p.threshold};
    const RocPoint& q = roc.points[k - 1];
    const double d_prev = frr(q) - far(q);  // < 0
    const double lambda = -d_prev / (d - d_prev);
    return {far(q) + lambda * (far(p) - far(q)), p.threshold};
  }
  fail("equal_error_rate: ROC curve does not end at FRR 1 (malformed curve)");
}

EqualErrorRate equal_error_rate(std::span<const double> scores, const std::vector<bool>& is_genuine) {
  return equal_error_rate(roc_curve(scores, is_genuine));
}

EqualErrorRate equal_error_rate(std::span<const float> scores, const std::vector<bool>& is_genuine) {
  return equal_error_rate(roc_curve(scores, is_genuine));
}

double roc_auc(std::span<const double> scores, const std::vector<bool>& is_genuine) {
  const Counts counts = validate("roc_auc", scores, is_genuine);
  const std::vector<Entry> sorted = sorted_entries(scores, is_genuine);
  // Twice the Mann-Whitney U in integers: a genuine pair earns 2 per impostor below it and 1 per
  // tied impostor. Fits 64 bits up to ~4e9 pairs.
  std::uint64_t twice_u = 0;
  std::uint64_t impostors_below = 0;
  std::size_t i = 0;
  while (i < sorted.size()) {
    const double value = sorted[i].score;
    std::uint64_t g = 0;
    std::uint64_t m = 0;
    for (; i < sorted.size() && sorted[i].score == value; ++i) {
      if (sorted[i].genuine) ++g;
      else ++m;
    }
    twice_u += g * (2 * impostors_below + m);
    impostors_below += m;
  }
  return static_cast<double>(twice_u) /
         (2.0 * static_cast<double>(counts.genuine) * static_cast<double>(counts.impostors));
}

double roc_auc(std::span<const float> scores, const std::vector<bool>& is_genuine) {
  return roc_auc(std::span<const double>(widen(scores)), is_genuine);
}

}  // namespace ff::eval
