// Demographic fairness over labelled groups (RFW races, synthetic generator groups, a user's attribute
// file): the per-group accuracy summary (mean, STD, SER, FRCSyn trade-off) and the NIST FRVT Part 3 /
// Part 8 view at one global threshold (per-group FMR/FNMR, FDR, inequity rate). PROTOCOLS.md,
// "RFW and demographic fairness".
#pragma once
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "src/eval/verification_metrics.h"

namespace ff::eval {

// Conventions shared by everything here. Accuracies, error rates and FDR are fractions in [0, 1],
// not percentages. A quantity that cannot be computed honestly (a ratio with a zero denominator,
// a spread over fewer than two groups) is NaN and the `*_note` next to it says why in one sentence;
// a note is empty exactly when its value is a number (the max differences share fdr_note). NaN is never an input error: the per-group table is
// still worth reporting. Input errors throw ff::Error with one line naming the argument.

// ---------------------------------------------------------------------------------------------
// 1. Accuracy summary over groups (RFW / FRCSyn reporting).
//
//   mean  = (1/G) Σ acc_g                      (unweighted: each group counts once, as RFW reports)
//   STD   = sqrt(Σ (acc_g - mean)² / (G - d)),  d = 0 (population, numpy's np.std default, the
//           common RFW scripts) or d = 1 (sample)
//   SER   = max_g err_g / min_g err_g,  err_g = 1 - acc_g   (skewed error ratio, >= 1)
//   TO    = mean - STD                         (FRCSyn trade-off, with the chosen STD)
//
// SER when the smallest error is 0: the ratio is unbounded (or 0/0 when every group is perfect),
// and infinity cannot go into the results store, so `ser` is NaN and `ser_note` names the group.
enum class Spread { population, sample };
const char* spread_name(Spread spread);  // "population" | "sample", for the results store

struct GroupAccuracy {
  std::string group;       // non-empty, unique within one summary
  double accuracy = 0.0;   // 10-fold mean accuracy, fraction in [0, 1]
  std::size_t pairs = 0;   // pairs the accuracy was measured on, > 0
};

struct AccuracySummaryOptions {
  Spread spread = Spread::population;
};

struct AccuracySummary {
  std::vector<GroupAccuracy> groups;  // as given
  Spread spread = Spread::population; // which STD `std_accuracy` is
  double mean_accuracy = 0.0;
  double std_accuracy = 0.0;
  double trade_off = 0.0;             // mean_accuracy - std_accuracy
  double ser = 0.0;                   // NaN when the smallest error is 0
  std::string ser_note;               // empty when `ser` is a number
  std::string highest_error_group;    // first in input order on ties
  std::string lowest_error_group;
};

// Throws when fewer than 2 groups are given (a spread over one group says nothing), a name is
// empty or repeated, an accuracy is not a finite value in [0, 1], or a pair count is 0.
AccuracySummary summarize_group_accuracy(const std::vector<GroupAccuracy>& groups,
                                         const AccuracySummaryOptions& options = {});

// Runs ten_fold_accuracy() separately on each group's pairs, taken in their original order (so a
// group's official fold blocks survive interleaving with other groups), then summarizes the
// per-group mean accuracies. group[i] is the index into group_names of pair i, or -1 for a pair
// that belongs to no group (a cross-group pair), which is left out here.
// Throws when scores, is_genuine and group differ in length, an index is outside
// [-1, group_names.size()), a score is not finite (the global pair index is quoted), a name is
// empty or repeated, fewer than 2 groups are named, or a group has fewer than `folds` pairs or lacks
// genuine or impostor pairs (the group is named).
//
//   auto r = group_ten_fold_accuracy(scores, issame, race_of_pair, {"African", "Asian", ...});
//   r.summary.ser; r.per_group[0].fold_accuracy;
struct GroupTenFold {
  std::vector<KFoldAccuracy> per_group;  // [groups], in group_names order
  AccuracySummary summary;               // accuracy = per_group[g].mean_accuracy
};
GroupTenFold group_ten_fold_accuracy(std::span<const double> scores, const std::vector<bool>& is_genuine,
                                     std::span<const int> group, const std::vector<std::string>& group_names,
                                     const AccuracySummaryOptions& options = {}, int folds = 10);
GroupTenFold group_ten_fold_accuracy(std::span<const float> scores, const std::vector<bool>& is_genuine,
                                     std::span<const int> group, const std::vector<std::string>& group_names,
                                     const AccuracySummaryOptions& options = {}, int folds = 10);

// ---------------------------------------------------------------------------------------------
// 2. NIST FRVT Part 3 / Part 8 view: one threshold for everybody, error rates per group.
//
// Threshold: the lowest threshold whose FMR over ALL impostor pairs (every group and the
// cross-group pairs, -1) is <= target_fmr: tar_at_far()'s rule on roc_curve() over all pairs, so a
// pair is accepted when score >= threshold. When no impostor may be accepted the threshold is the
// lowest score above the top impostor (just above the top impostor when no pair scores higher).
// Per group g at that threshold (a group's impostors are its within-group impostor pairs):
//   FMR_g  = false matches / impostors       false match     = impostor score >= threshold
//   FNMR_g = false non-matches / genuine     false non-match = genuine score  <  threshold
//   smoothing add_half: rate = (events + 0.5) / (trials + 1), used for FDR and inequity too; the
//   raw counts stay in the record. A rate over 0 trials is NaN whatever the smoothing.
// A group is included in FDR and inequity when genuine >= min_genuine and impostors >=
// min_impostors; otherwise it is reported with included = false and a reason.
// Over the included groups (at least 2, else NaN and a note):
//   FDR      = 1 - (fdr_alpha · max|FMR_i - FMR_j| + (1 - fdr_alpha) · max|FNMR_i - FNMR_j|)
//              (de Freitas Pereira & Marcel 2021; 1 = fair)
//   inequity = (max FMR / min FMR)^inequity_alpha · (max FNMR / min FNMR)^inequity_beta
//              (NIST's proposal as evaluated by Howard et al. 2022; 1 = fair)
// Inequity with a zero minimum rate (possible only without smoothing): that ratio is NaN with a
// note naming the group, and so is the inequity rate, unless the ratio's exponent is 0 (the factor
// is then 1 whatever the ratio, so beta = 0 gives an FMR-only inequity).
enum class Smoothing { none, add_half };
const char* smoothing_name(Smoothing smoothing);  // "none" | "add_half"

struct FairnessOptions {
  double target_fmr = 1e-3;    // in (0, 1]
  double fdr_alpha = 0.5;      // weight of the FMR term in FDR, in [0, 1] (PROTOCOLS.md default)
  // Exponents on the FMR and FNMR ratios, finite and >= 0. Neither NIST nor Howard et al. fix a
  // value that we could confirm; 0.5 / 0.5 weighs both ratios equally (a geometric mean).
  double inequity_alpha = 0.5;
  double inequity_beta = 0.5;
  std::size_t min_genuine = 1;    // >= 1: a rate needs at least one trial
  std::size_t min_impostors = 1;  // >= 1
  Smoothing smoothing = Smoothing::none;
};

struct GroupErrorRates {
  std::string group;
  std::size_t genuine = 0;
  std::size_t impostors = 0;
  std::size_t false_matches = 0;
  std::size_t false_non_matches = 0;
  double fmr = 0.0;    // smoothed when options.smoothing says so; NaN when impostors == 0
  double fnmr = 0.0;   // NaN when genuine == 0
  bool included = false;
  std::string reason;  // why excluded; empty when included
};

struct FairnessReport {
  FairnessOptions options;            // the settings that produced these numbers
  double threshold = 0.0;             // global, accept when score >= threshold
  double fmr = 0.0;                   // achieved over all impostors (raw), <= target_fmr
  double fnmr = 0.0;                  // over all genuine pairs (raw)
  std::size_t genuine = 0;            // all pairs, cross-group ones included
  std::size_t impostors = 0;
  std::size_t cross_group_pairs = 0;  // pairs with group -1
  std::vector<GroupErrorRates> groups;  // in group_names order
  std::size_t included_groups = 0;

  double fmr_max_difference = 0.0;    // max|FMR_i - FMR_j| over included groups, NaN if < 2
  double fnmr_max_difference = 0.0;
  double fdr = 0.0;
  std::string fdr_note;
  double fmr_ratio = 0.0;             // max FMR / min FMR over included groups
  std::string fmr_ratio_note;         // why fmr_ratio is NaN (< 2 groups, or a minimum of 0)
  double fnmr_ratio = 0.0;            // max FNMR / min FNMR over included groups
  std::string fnmr_ratio_note;
  double inequity_rate = 0.0;
  std::string inequity_note;
};

// Throws when scores, is_genuine and group differ in length, there are no pairs, an index is
// outside [-1, group_names.size()), a score is not finite, a name is empty or repeated, there is
// no impostor pair or no genuine pair at all, or an option is out of range (target_fmr outside
// (0, 1], fdr_alpha outside [0, 1], a negative or non-finite exponent, a minimum count of 0).
//
//   FairnessOptions o; o.target_fmr = 1e-4; o.smoothing = Smoothing::add_half;
//   auto r = demographic_fairness(scores, issame, race_of_pair, {"African", "Asian", ...}, o);
FairnessReport demographic_fairness(std::span<const double> scores, const std::vector<bool>& is_genuine,
                                    std::span<const int> group, const std::vector<std::string>& group_names,
                                    const FairnessOptions& options = {});
FairnessReport demographic_fairness(std::span<const float> scores, const std::vector<bool>& is_genuine,
                                    std::span<const int> group, const std::vector<std::string>& group_names,
                                    const FairnessOptions& options = {});

}  // namespace ff::eval
