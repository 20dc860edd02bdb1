// Demographic fairness: per-group accuracy summary and the single-threshold FRVT view, on top of verification_metrics.
#include "src/eval/fairness.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "src/util/error.h"

namespace ff::eval {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> widen(std::span<const float> scores) { return {scores.begin(), scores.end()}; }

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

// Group names become keys in the results store and labels in reports, so an empty or repeated
// name would silently merge or hide a group.
void validate_names(const char* what, const std::vector<std::string>& names) {
  std::unordered_map<std::string, std::size_t> seen;
  for (std::size_t g = 0; g < names.size(); ++g) {
    if (names[g].empty()) fail("{}: group name {} is empty; every group needs a name", what, g);
    auto [it, fresh] = seen.emplace(names[g], g);
    if (!fresh) fail("{}: group name '{}' appears twice (groups {} and {}); names must be unique", what, names[g], it->second, g);
  }
}

struct PairCounts {
  std::size_t genuine = 0;
  std::size_t impostors = 0;
  std::size_t cross_group = 0;
};

// One validation for both entry points, quoting global pair indices so a bad line can be found in
// the pair list the caller loaded.
PairCounts validate_pairs(const char* what, std::span<const double> scores, const std::vector<bool>& is_genuine,
                          std::span<const int> group, const std::vector<std::string>& names) {
  if (scores.size() != is_genuine.size()) {
    fail("{}: {} scores but {} genuine/impostor labels; need one label per score", what, scores.size(), is_genuine.size());
  }
  if (scores.size() != group.size()) {
    fail("{}: {} scores but {} group indices; need one group index per score (-1 = cross-group pair)", what,
         scores.size(), group.size());
  }
  if (scores.empty()) fail("{}: no pairs", what);
  validate_names(what, names);
  const long long n_groups = static_cast<long long>(names.size());
  PairCounts counts;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (group[i] < -1 || group[i] >= n_groups) {
      fail("{}: pair {} has group index {}; expected -1 (cross-group) or 0..{} for the {} group names", what, i,
           group[i], n_groups - 1, n_groups);
    }
    if (!std::isfinite(scores[i])) fail("{}: score {} is {}; scores must be finite", what, i, scores[i]);
    if (is_genuine[i]) ++counts.genuine;
    else ++counts.impostors;
    if (group[i] == -1) ++counts.cross_group;
  }
  return counts;
}

double rate(std::size_t events, std::size_t trials, Smoothing smoothing) {
  // With no trials even the smoothed rate (0.5 / 1) would be an invention, not a measurement.
  if (trials == 0) return kNaN;
  const double e = static_cast<double>(events);
  const double t = static_cast<double>(trials);
  return smoothing == Smoothing::add_half ? (e + 0.5) / (t + 1.0) : e / t;
}

struct Extremes {
  std::size_t max_at = 0;
  std::size_t min_at = 0;
  double max = 0.0;
  double min = 0.0;
};

// Over included groups only; the caller guarantees at least one. First index wins ties so the
// named group is stable under equal rates.
template <typename Get>
Extremes extremes(const std::vector<GroupErrorRates>& groups, Get get) {
  Extremes e;
  bool seen = false;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (!groups[g].included) continue;
    const double v = get(groups[g]);
    if (!seen || v > e.max) e.max = v, e.max_at = g;
    if (!seen || v < e.min) e.min = v, e.min_at = g;
    seen = true;
  }
  return e;
}

// max/min of one rate, or NaN plus the sentence a report should print instead of a number.
struct Ratio {
  double value = kNaN;
  std::string note;
};
Ratio ratio(const Extremes& e, const GroupErrorRates& min_group, const char* rate_name, const char* event_name,
            std::size_t events, std::size_t trials, const char* trial_name) {
  if (e.min > 0.0) return {e.max / e.min, ""};
  if (e.max == 0.0) {
    return {kNaN, fmt::format("every included group has {} 0, so max/min {} is 0/0; use smoothing add_half or more "
                              "pairs per group",
                              rate_name, rate_name)};
  }
  return {kNaN, fmt::format("group '{}' has {} 0 ({} {} in {} {}), so max/min {} is unbounded; use smoothing "
                            "add_half or more pairs per group",
                            min_group.group, rate_name, events, event_name, trials, trial_name, rate_name)};
}

}  // namespace

const char* spread_name(Spread spread) { return spread == Spread::population ? "population" : "sample"; }

const char* smoothing_name(Smoothing smoothing) { return smoothing == Smoothing::none ? "none" : "add_half"; }

AccuracySummary summarize_group_accuracy(const std::vector<GroupAccuracy>& groups, const AccuracySummaryOptions& options) {
  const char* what = "summarize_group_accuracy";
  if (groups.size() < 2) {
    fail("{}: {} group(s) given; need at least 2 to measure a spread across groups", what, groups.size());
  }
  std::vector<std::string> names;
  for (const GroupAccuracy& g : groups) names.push_back(g.group);
  validate_names(what, names);
  for (const GroupAccuracy& g : groups) {
    if (!(g.accuracy >= 0.0 && g.accuracy <= 1.0)) {
      fail("{}: group '{}' has accuracy {}; expected a fraction in [0, 1]", what, g.group, g.accuracy);
    }
    if (g.pairs == 0) fail("{}: group '{}' has 0 pairs; expected the number of pairs its accuracy was measured on", what, g.group);
  }

  AccuracySummary s;
  s.groups = groups;
  s.spread = options.spread;
  const double count = static_cast<double>(groups.size());
  double sum = 0.0;
  for (const GroupAccuracy& g : groups) sum += g.accuracy;
  s.mean_accuracy = sum / count;
  double squares = 0.0;
  for (const GroupAccuracy& g : groups) squares += (g.accuracy - s.mean_accuracy) * (g.accuracy - s.mean_accuracy);
  s.std_accuracy = std::sqrt(squares / (options.spread == Spread::population ? count : count - 1.0));
  s.trade_off = s.mean_accuracy - s.std_accuracy;

  std::size_t high = 0;
  std::size_t low = 0;
  for (std::size_t g = 1; g < groups.size(); ++g) {
    if (1.0 - groups[g].accuracy > 1.0 - groups[high].accuracy) high = g;
    if (1.0 - groups[g].accuracy < 1.0 - groups[low].accuracy) low = g;
  }
  s.highest_error_group = groups[high].group;
  s.lowest_error_group = groups[low].group;
  const double max_error = 1.0 - groups[high].accuracy;
  const double min_error = 1.0 - groups[low].accuracy;
  if (min_error > 0.0) {
    s.ser = max_error / min_error;
  } else if (max_error == 0.0) {
    s.ser = kNaN;
    s.ser_note = "every group has error 0 (accuracy 1), so SER = max error / min error is 0/0";
  } else {
    s.ser = kNaN;
    s.ser_note = fmt::format("group '{}' has error 0 (accuracy 1), so SER = max error / min error is unbounded",
                             groups[low].group);
  }
  return s;
}

GroupTenFold group_ten_fold_accuracy(std::span<const double> scores, const std::vector<bool>& is_genuine,
                                     std::span<const int> group, const std::vector<std::string>& group_names,
                                     const AccuracySummaryOptions& options, int folds) {
  const char* what = "group_ten_fold_accuracy";
  validate_pairs(what, scores, is_genuine, group, group_names);
  if (group_names.size() < 2) {
    fail("{}: {} group name(s) given; need at least 2 to measure a spread across groups", what, group_names.size());
  }
  if (folds < 2) fail("{}: folds must be >= 2, got {}", what, folds);

  const std::size_t n_groups = group_names.size();
  std::vector<std::vector<double>> group_scores(n_groups);
  std::vector<std::vector<bool>> group_genuine(n_groups);
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (group[i] < 0) continue;
    group_scores[group[i]].push_back(scores[i]);
    group_genuine[group[i]].push_back(is_genuine[i]);
  }

  GroupTenFold result;
  std::vector<GroupAccuracy> accuracies;
  for (std::size_t g = 0; g < n_groups; ++g) {
    const std::size_t n = group_scores[g].size();
    const std::size_t genuine = static_cast<std::size_t>(std::count(group_genuine[g].begin(), group_genuine[g].end(), true));
    // Checked here rather than left to ten_fold_accuracy so the message names the group.
    if (n < static_cast<std::size_t>(folds)) {
      fail("{}: group '{}' has {} pairs; need at least folds = {}", what, group_names[g], n, folds);
    }
    if (genuine == 0 || genuine == n) {
      fail("{}: group '{}' has {} genuine and {} impostor pairs; need both", what, group_names[g], genuine, n - genuine);
    }
    result.per_group.push_back(ten_fold_accuracy(group_scores[g], group_genuine[g], folds));
    accuracies.push_back({group_names[g], result.per_group.back().mean_accuracy, n});
  }
  result.summary = summarize_group_accuracy(accuracies, options);
  return result;
}

GroupTenFold group_ten_fold_accuracy(std::span<const float> scores, const std::vector<bool>& is_genuine,
                                     std::span<const int> group, const std::vector<std::string>& group_names,
                                     const AccuracySummaryOptions& options, int folds) {
  return group_ten_fold_accuracy(std::span<const double>(widen(scores)), is_genuine, group, group_names, options, folds);
}

FairnessReport demographic_fairness(std::span<const double> scores, const std::vector<bool>& is_genuine,
                                    std::span<const int> group, const std::vector<std::string>& group_names,
                                    const FairnessOptions& options) {
  const char* what = "demographic_fairness";
  if (!(options.target_fmr > 0.0 && options.target_fmr <= 1.0)) {
    fail("{}: target_fmr must be in (0, 1], got {}", what, options.target_fmr);
  }
  if (!(options.fdr_alpha >= 0.0 && options.fdr_alpha <= 1.0)) {
    fail("{}: fdr_alpha must be in [0, 1], got {}", what, options.fdr_alpha);
  }
  if (!(std::isfinite(options.inequity_alpha) && options.inequity_alpha >= 0.0)) {
    fail("{}: inequity_alpha must be finite and >= 0, got {}", what, options.inequity_alpha);
  }
  if (!(std::isfinite(options.inequity_beta) && options.inequity_beta >= 0.0)) {
    fail("{}: inequity_beta must be finite and >= 0, got {}", what, options.inequity_beta);
  }
  if (options.min_genuine == 0) fail("{}: min_genuine must be >= 1 (a rate needs at least one trial), got 0", what);
  if (options.min_impostors == 0) fail("{}: min_impostors must be >= 1 (a rate needs at least one trial), got 0", what);

  const PairCounts counts = validate_pairs(what, scores, is_genuine, group, group_names);
  if (counts.impostors == 0) {
    fail("{}: no impostor pairs among {}; the global threshold is set on impostor scores", what, scores.size());
  }
  if (counts.genuine == 0) fail("{}: no genuine pairs among {}; FNMR needs genuine pairs", what, scores.size());

  FairnessReport r;
  r.options = options;
  r.genuine = counts.genuine;
  r.impostors = counts.impostors;
  r.cross_group_pairs = counts.cross_group;
  // Cross-group impostors take part here on purpose: the deployed threshold sees every comparison.
  const TarAtFar global = tar_at_far(scores, is_genuine, options.target_fmr);
  r.threshold = global.threshold;
  r.fmr = static_cast<double>(global.false_accepts) / static_cast<double>(counts.impostors);
  r.fnmr = static_cast<double>(counts.genuine - global.true_accepts) / static_cast<double>(counts.genuine);

  r.groups.resize(group_names.size());
  for (std::size_t g = 0; g < group_names.size(); ++g) r.groups[g].group = group_names[g];
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (group[i] < 0) continue;
    GroupErrorRates& g = r.groups[group[i]];
    const bool accepted = scores[i] >= r.threshold;
    if (is_genuine[i]) {
      ++g.genuine;
      if (!accepted) ++g.false_non_matches;
    } else {
      ++g.impostors;
      if (accepted) ++g.false_matches;
    }
  }
  for (GroupErrorRates& g : r.groups) {
    g.fmr = rate(g.false_matches, g.impostors, options.smoothing);
    g.fnmr = rate(g.false_non_matches, g.genuine, options.smoothing);
    std::vector<std::string> reasons;
    if (g.genuine < options.min_genuine) reasons.push_back(fmt::format("{} genuine pairs < min_genuine {}", g.genuine, options.min_genuine));
    if (g.impostors < options.min_impostors) {
      reasons.push_back(fmt::format("{} impostor pairs < min_impostors {}", g.impostors, options.min_impostors));
    }
    g.included = reasons.empty();
    g.reason = join(reasons);
    if (g.included) ++r.included_groups;
  }

  if (r.included_groups < 2) {
    const std::string why = fmt::format("needs at least 2 included groups, got {} of {} (see each group's reason)",
                                        r.included_groups, r.groups.size());
    r.fmr_max_difference = r.fnmr_max_difference = r.fdr = kNaN;
    r.fmr_ratio = r.fnmr_ratio = r.inequity_rate = kNaN;
    r.fdr_note = "FDR " + why;
    r.fmr_ratio_note = "FMR ratio " + why;
    r.fnmr_ratio_note = "FNMR ratio " + why;
    r.inequity_note = "inequity rate " + why;
    return r;
  }

  const Extremes fmr = extremes(r.groups, [](const GroupErrorRates& g) { return g.fmr; });
  const Extremes fnmr = extremes(r.groups, [](const GroupErrorRates& g) { return g.fnmr; });
  // max over pairs of |x_i - x_j| is max - min; no pairwise loop needed.
  r.fmr_max_difference = fmr.max - fmr.min;
  r.fnmr_max_difference = fnmr.max - fnmr.min;
  r.fdr = 1.0 - (options.fdr_alpha * r.fmr_max_difference + (1.0 - options.fdr_alpha) * r.fnmr_max_difference);

  const GroupErrorRates& fmr_low = r.groups[fmr.min_at];
  const GroupErrorRates& fnmr_low = r.groups[fnmr.min_at];
  const Ratio fmr_ratio = ratio(fmr, fmr_low, "FMR", "false matches", fmr_low.false_matches, fmr_low.impostors, "impostor pairs");
  const Ratio fnmr_ratio = ratio(fnmr, fnmr_low, "FNMR", "false non-matches", fnmr_low.false_non_matches,
                                 fnmr_low.genuine, "genuine pairs");
  r.fmr_ratio = fmr_ratio.value;
  r.fmr_ratio_note = fmr_ratio.note;
  r.fnmr_ratio = fnmr_ratio.value;
  r.fnmr_ratio_note = fnmr_ratio.note;
  // A zero exponent removes its factor entirely, so an undefined ratio there must not poison the product.
  const bool fmr_counts = options.inequity_alpha != 0.0;
  const bool fnmr_counts = options.inequity_beta != 0.0;
  std::vector<std::string> undefined;
  if (fmr_counts && !fmr_ratio.note.empty()) undefined.push_back(fmr_ratio.note);
  if (fnmr_counts && !fnmr_ratio.note.empty()) undefined.push_back(fnmr_ratio.note);
  if (!undefined.empty()) {
    r.inequity_rate = kNaN;
    r.inequity_note = "inequity rate undefined: " + join(undefined);
  } else {
    r.inequity_rate = (fmr_counts ? std::pow(r.fmr_ratio, options.inequity_alpha) : 1.0) *
                      (fnmr_counts ? std::pow(r.fnmr_ratio, options.inequity_beta) : 1.0);
  }
  return r;
}

FairnessReport demographic_fairness(std::span<const float> scores, const std::vector<bool>& is_genuine,
                                    std::span<const int> group, const std::vector<std::string>& group_names,
                                    const FairnessOptions& options) {
  return demographic_fairness(std::span<const double>(widen(scores)), is_genuine, group, group_names, options);
}

}  // namespace ff::eval
