// Checks eval/fairness.cpp against hand-worked score sets and a brute-force threshold scan.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "src/eval/fairness.h"
#include "src/util/error.h"

namespace {

using Catch::Matchers::Contains;
using ff::eval::AccuracySummaryOptions;
using ff::eval::FairnessOptions;
using ff::eval::FairnessReport;
using ff::eval::GroupAccuracy;
using ff::eval::Smoothing;
using ff::eval::Spread;

struct Pairs {
  std::vector<float> scores;
  std::vector<bool> genuine;
  std::vector<int> group;
  void add(float score, bool is_genuine, int g) {
    scores.push_back(score);
    genuine.push_back(is_genuine);
    group.push_back(g);
  }
};

const std::vector<std::string> kABC = {"A", "B", "C"};

// The hand-worked set used by the FRVT-view tests (I = impostor, G = genuine), groups interleaved:
//   A (0): I 0.10 0.70 0.20 0.75   G 0.65 0.90 0.50 0.95
//   B (1): I 0.30 0.60 0.80 0.35   G 0.85 0.55 0.60 0.40
//   C (2): I 0.05 0.15             G 0.99 0.60
//   cross-group (-1): I 0.40 0.45
// 12 impostors in all, sorted: .05 .10 .15 .20 .30 .35 .40 .45 .60 .70 .75 .80; 10 genuine.
// At target FMR 0.25 at most 3 impostors may be accepted: thresholds in (0.60, 0.70] accept exactly
// .70 .75 .80, and the lowest score in that range is the genuine 0.65, so the threshold is 0.65
// (at the next lower score, 0.60, four impostors pass: 4/12 > 0.25).
// Without the two cross-group impostors it would be 2 of 10 -> (0.70, 0.75] -> 0.75.
// Per group at 0.65 (accept when >= 0.65):
//   A: false matches .70 .75 = 2/4 = 0.5    false non-matches .50       = 1/4 = 0.25
//   B: false matches .80     = 1/4 = 0.25   false non-matches .55 .60 .40 = 3/4 = 0.75
//   C: false matches none    = 0/2 = 0      false non-matches .60       = 1/2 = 0.5
Pairs hand_set() {
  Pairs p;
  p.add(0.10f, false, 0);
  p.add(0.85f, true, 1);
  p.add(0.40f, false, -1);
  p.add(0.65f, true, 0);
  p.add(0.30f, false, 1);
  p.add(0.05f, false, 2);
  p.add(0.70f, false, 0);
  p.add(0.55f, true, 1);
  p.add(0.99f, true, 2);
  p.add(0.90f, true, 0);
  p.add(0.60f, false, 1);
  p.add(0.20f, false, 0);
  p.add(0.45f, false, -1);
  p.add(0.80f, false, 1);
  p.add(0.50f, true, 0);
  p.add(0.60f, true, 1);
  p.add(0.15f, false, 2);
  p.add(0.75f, false, 0);
  p.add(0.35f, false, 1);
  p.add(0.95f, true, 0);
  p.add(0.40f, true, 1);
  p.add(0.60f, true, 2);
  return p;
}

FairnessReport run(const Pairs& p, const FairnessOptions& o, const std::vector<std::string>& names = kABC) {
  return ff::eval::demographic_fairness(std::span<const float>(p.scores), p.genuine, p.group, names, o);
}

FairnessOptions at_fmr(double target) {
  FairnessOptions o;
  o.target_fmr = target;
  return o;
}

}  // namespace

// ----------------------------------------------------------------------------------------------
// Accuracy summary

TEST_CASE("accuracy summary: mean, population and sample std, SER and trade-off match hand arithmetic", "[eval]") {
  // RFW-like: African 0.90, Asian 0.92, Caucasian 0.96, Indian 0.92.
  // mean = 3.70 / 4 = 0.925; deviations -0.025 -0.005 +0.035 -0.005;
  // squares 0.000625 + 0.000025 + 0.001225 + 0.000025 = 0.0019.
  // population std = sqrt(0.0019 / 4) = sqrt(0.000475) = 0.0217944947
  // sample std     = sqrt(0.0019 / 3) = sqrt(0.000633333) = 0.0251661148
  // errors 0.10 0.08 0.04 0.08 -> SER = 0.10 / 0.04 = 2.5 (African worst, Caucasian best)
  const std::vector<GroupAccuracy> groups = {
      {"African", 0.90, 6000}, {"Asian", 0.92, 6000}, {"Caucasian", 0.96, 6000}, {"Indian", 0.92, 6000}};
  const auto pop = ff::eval::summarize_group_accuracy(groups);
  CHECK(pop.spread == Spread::population);
  CHECK(pop.mean_accuracy == Approx(0.925));
  CHECK(pop.std_accuracy == Approx(0.0217944947));
  CHECK(pop.trade_off == Approx(0.925 - 0.0217944947));
  CHECK(pop.ser == Approx(2.5));
  CHECK(pop.ser_note.empty());
  CHECK(pop.highest_error_group == "African");
  CHECK(pop.lowest_error_group == "Caucasian");
  CHECK(pop.groups.size() == 4);

  AccuracySummaryOptions o;
  o.spread = Spread::sample;
  const auto sample = ff::eval::summarize_group_accuracy(groups, o);
  CHECK(sample.spread == Spread::sample);
  CHECK(sample.mean_accuracy == Approx(0.925));
  CHECK(sample.std_accuracy == Approx(0.0251661148));
  CHECK(sample.trade_off == Approx(0.925 - 0.0251661148));
  CHECK(sample.ser == Approx(2.5));
  CHECK(std::string(ff::eval::spread_name(Spread::population)) == "population");
  CHECK(std::string(ff::eval::spread_name(Spread::sample)) == "sample");
}

TEST_CASE("accuracy summary: a group with error 0 makes SER NaN with a note naming it", "[eval]") {
  // errors 0.2 and 0 -> 0.2 / 0 is unbounded.
  const auto one = ff::eval::summarize_group_accuracy({{"X", 0.8, 10}, {"Y", 1.0, 10}});
  CHECK(std::isnan(one.ser));
  CHECK_THAT(one.ser_note, Contains("group 'Y' has error 0") && Contains("unbounded"));
  CHECK(one.mean_accuracy == Approx(0.9));
  CHECK(one.std_accuracy == Approx(0.1));  // sqrt((0.1^2 + 0.1^2) / 2)

  // Every group perfect: 0 / 0.
  const auto all = ff::eval::summarize_group_accuracy({{"X", 1.0, 10}, {"Y", 1.0, 10}});
  CHECK(std::isnan(all.ser));
  CHECK_THAT(all.ser_note, Contains("every group has error 0") && Contains("0/0"));
  CHECK(all.std_accuracy == 0.0);
  CHECK(all.trade_off == 1.0);
}

TEST_CASE("accuracy summary: rejects fewer than 2 groups, bad accuracies, repeated names and zero pairs", "[eval]") {
  using ff::eval::summarize_group_accuracy;
  CHECK_THROWS_WITH(summarize_group_accuracy({{"X", 0.9, 10}}), Contains("1 group(s) given; need at least 2"));
  CHECK_THROWS_WITH(summarize_group_accuracy({{"X", 0.9, 10}, {"Y", 90.0, 10}}),
                    Contains("group 'Y' has accuracy 90; expected a fraction in [0, 1]"));
  CHECK_THROWS_WITH(summarize_group_accuracy({{"X", std::nan(""), 10}, {"Y", 0.9, 10}}), Contains("group 'X' has accuracy nan"));
  CHECK_THROWS_WITH(summarize_group_accuracy({{"X", 0.9, 10}, {"X", 0.8, 10}}),
                    Contains("group name 'X' appears twice (groups 0 and 1)"));
  CHECK_THROWS_WITH(summarize_group_accuracy({{"", 0.9, 10}, {"X", 0.8, 10}}), Contains("group name 0 is empty"));
  CHECK_THROWS_WITH(summarize_group_accuracy({{"X", 0.9, 10}, {"Y", 0.8, 0}}), Contains("group 'Y' has 0 pairs"));
}

TEST_CASE("group ten-fold: each group is folded in its own pair order, cross-group pairs left out", "[eval]") {
  // Group A: 10 blocks (genuine 0.60 + 0.01k, impostor 0.30 + 0.01k), all separable -> every fold 1.
  // Group B: the same for its blocks 0..8; its block 9 (its last two pairs) is genuine 0.1, impostor
  // 0.9, wrong under any threshold learnt on the other blocks (which lies in (0.38, 0.60]) -> fold 9 is 0,
  // mean 0.9. The groups alternate pair by pair, with cross-group pairs in between that would shift
  // every fold boundary if they were counted.
  // Summary: mean (1 + 0.9) / 2 = 0.95, population std 0.05, sample std sqrt(2 * 0.05^2 / 1) = 0.0707107,
  // errors 0 and 0.1 -> SER NaN (A has error 0).
  Pairs p;
  for (int k = 0; k < 10; ++k) {
    const bool last = k == 9;
    p.add(0.60f + 0.01f * k, true, 0);
    p.add(last ? 0.1f : 0.60f + 0.01f * k, true, 1);
    p.add(0.95f, false, -1);
    p.add(0.30f + 0.01f * k, false, 0);
    p.add(last ? 0.9f : 0.30f + 0.01f * k, false, 1);
    p.add(0.05f, true, -1);
  }
  const auto r = ff::eval::group_ten_fold_accuracy(std::span<const float>(p.scores), p.genuine, p.group, {"A", "B"});
  REQUIRE(r.per_group.size() == 2);
  CHECK(r.per_group[0].fold_size == std::vector<std::size_t>(10, 2));
  CHECK(r.per_group[1].fold_size == std::vector<std::size_t>(10, 2));
  for (int f = 0; f < 10; ++f) CHECK(r.per_group[0].fold_accuracy[f] == 1.0);
  for (int f = 0; f < 9; ++f) CHECK(r.per_group[1].fold_accuracy[f] == 1.0);
  CHECK(r.per_group[1].fold_accuracy[9] == 0.0);
  CHECK(r.summary.groups[0].group == "A");
  CHECK(r.summary.groups[0].accuracy == 1.0);
  CHECK(r.summary.groups[0].pairs == 20);
  CHECK(r.summary.groups[1].accuracy == Approx(0.9));
  CHECK(r.summary.mean_accuracy == Approx(0.95));
  CHECK(r.summary.std_accuracy == Approx(0.05));
  CHECK(r.summary.trade_off == Approx(0.90));
  CHECK(std::isnan(r.summary.ser));
  CHECK_THAT(r.summary.ser_note, Contains("'A'"));
  CHECK(r.summary.highest_error_group == "B");

  AccuracySummaryOptions o;
  o.spread = Spread::sample;
  const auto s = ff::eval::group_ten_fold_accuracy(std::span<const float>(p.scores), p.genuine, p.group, {"A", "B"}, o);
  CHECK(s.summary.std_accuracy == Approx(0.0707107));
}

TEST_CASE("group ten-fold: errors name the group that is too small or lacks a class", "[eval]") {
  using ff::eval::group_ten_fold_accuracy;
  Pairs p;
  for (int k = 0; k < 12; ++k) p.add(0.5f + 0.01f * k, true, 0);  // A: genuine only
  for (int k = 0; k < 5; ++k) p.add(0.1f * k, k % 2 == 0, 1);     // B: 5 pairs
  const std::span<const float> s(p.scores);
  CHECK_THROWS_WITH(group_ten_fold_accuracy(s, p.genuine, p.group, {"A", "B"}),
                    Contains("group 'A' has 12 genuine and 0 impostor pairs; need both"));
  CHECK_THROWS_WITH(group_ten_fold_accuracy(s, p.genuine, p.group, {"B", "A"}, {}, 3),
                    Contains("group 'B' has 12 genuine and 0 impostor pairs"));
  p.genuine[0] = false;
  CHECK_THROWS_WITH(group_ten_fold_accuracy(s, p.genuine, p.group, {"A", "B"}),
                    Contains("group 'B' has 5 pairs; need at least folds = 10"));
  CHECK_THROWS_WITH(group_ten_fold_accuracy(s, p.genuine, p.group, {"A"}), Contains("pair 12 has group index 1"));
  CHECK_THROWS_WITH(group_ten_fold_accuracy(s, p.genuine, p.group, {"A", "B"}, {}, 1), Contains("folds must be >= 2, got 1"));
  p.scores[3] = std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH(group_ten_fold_accuracy(std::span<const float>(p.scores), p.genuine, p.group, {"A", "B"}),
                    Contains("score 3 is inf"));
}

// ----------------------------------------------------------------------------------------------
// FRVT view

TEST_CASE("fairness: one global threshold over all impostors including cross-group ones, per-group rates at it", "[eval]") {
  const Pairs p = hand_set();
  const auto r = run(p, at_fmr(0.25));
  CHECK(r.threshold == static_cast<double>(0.65f));
  CHECK(r.impostors == 12);
  CHECK(r.genuine == 10);
  CHECK(r.cross_group_pairs == 2);
  CHECK(r.fmr == 0.25);   // 3 / 12
  CHECK(r.fnmr == 0.5);   // false non-matches 1 + 3 + 1 = 5 of 10
  CHECK(r.options.target_fmr == 0.25);
  REQUIRE(r.groups.size() == 3);

  const auto& a = r.groups[0];
  CHECK(a.group == "A");
  CHECK(a.genuine == 4);
  CHECK(a.impostors == 4);
  CHECK(a.false_matches == 2);
  CHECK(a.false_non_matches == 1);
  CHECK(a.fmr == 0.5);
  CHECK(a.fnmr == 0.25);
  CHECK(a.included);
  CHECK(a.reason.empty());

  const auto& b = r.groups[1];
  CHECK(b.false_matches == 1);
  CHECK(b.false_non_matches == 3);
  CHECK(b.fmr == 0.25);
  CHECK(b.fnmr == 0.75);

  const auto& c = r.groups[2];
  CHECK(c.genuine == 2);
  CHECK(c.impostors == 2);
  CHECK(c.false_matches == 0);
  CHECK(c.false_non_matches == 1);
  CHECK(c.fmr == 0.0);
  CHECK(c.fnmr == 0.5);
  CHECK(r.included_groups == 3);

  // All three included: max|FMR diff| = 0.5 - 0 = 0.5 (A vs C), max|FNMR diff| = 0.75 - 0.25 = 0.5
  // (B vs A) -> FDR = 1 - (0.5 * 0.5 + 0.5 * 0.5) = 0.5.
  CHECK(r.fmr_max_difference == 0.5);
  CHECK(r.fnmr_max_difference == 0.5);
  CHECK(r.fdr == Approx(0.5));
  CHECK(r.fdr_note.empty());
}

TEST_CASE("fairness: no impostor may pass below 1/impostors, so the threshold is the lowest score above the top impostor", "[eval]") {
  // Target 0.05 < 1/12: zero false matches allowed. The top impostor is 0.80; the lowest score above it
  // is the genuine 0.85, which is the threshold. False non-matches: A .65 .50 -> 2/4, B .55 .60 .40 -> 3/4,
  // C .60 -> 1/2. Every FMR is 0, so the FMR ratio is 0/0.
  const auto r = run(hand_set(), at_fmr(0.05));
  CHECK(r.threshold == static_cast<double>(0.85f));
  CHECK(r.fmr == 0.0);
  for (const auto& g : r.groups) CHECK(g.false_matches == 0);
  CHECK(r.groups[0].fnmr == 0.5);
  CHECK(r.groups[1].fnmr == 0.75);
  CHECK(r.groups[2].fnmr == 0.5);
  CHECK(std::isnan(r.fmr_ratio));
  CHECK_THAT(r.fmr_ratio_note, Contains("every included group has FMR 0") && Contains("0/0"));
  CHECK(std::isnan(r.inequity_rate));
  CHECK_THAT(r.inequity_note, Contains("every included group has FMR 0"));
  // FMR differences are all 0; FNMR 0.75 - 0.5 -> FDR = 1 - 0.5 * 0.25 = 0.875.
  CHECK(r.fdr == Approx(0.875));

  // Target 1 accepts everything: the threshold is the lowest score, 0.05, every impostor a false match.
  const auto all = run(hand_set(), at_fmr(1.0));
  CHECK(all.threshold == static_cast<double>(0.05f));
  CHECK(all.groups[0].fmr == 1.0);
  CHECK(all.groups[0].fnmr == 0.0);
}

TEST_CASE("fairness: min-count exclusion leaves a group in the table but out of FDR and inequity", "[eval]") {
  const Pairs p = hand_set();
  FairnessOptions o = at_fmr(0.25);
  o.min_impostors = 3;  // C has 2 impostors
  const auto r = run(p, o);
  CHECK(r.threshold == static_cast<double>(0.65f));  // exclusion never moves the global threshold
  CHECK_FALSE(r.groups[2].included);
  CHECK_THAT(r.groups[2].reason, Contains("2 impostor pairs < min_impostors 3"));
  CHECK(r.groups[2].fnmr == 0.5);  // still reported
  CHECK(r.included_groups == 2);
  // A and B only: FMR 0.5 vs 0.25 -> diff 0.25, ratio 2; FNMR 0.25 vs 0.75 -> diff 0.5, ratio 3.
  // FDR = 1 - (0.5 * 0.25 + 0.5 * 0.5) = 0.625; inequity = 2^0.5 * 3^0.5 = sqrt(6) = 2.4494897.
  CHECK(r.fmr_max_difference == 0.25);
  CHECK(r.fnmr_max_difference == 0.5);
  CHECK(r.fdr == Approx(0.625));
  CHECK(r.fmr_ratio == Approx(2.0));
  CHECK(r.fnmr_ratio == Approx(3.0));
  CHECK(r.inequity_rate == Approx(2.4494897));
  CHECK(r.inequity_note.empty());

  // fdr_alpha 0.25: 1 - (0.25 * 0.25 + 0.75 * 0.5) = 0.5625. Exponents (1, 0) -> 2, (0, 1) -> 3, (2, 1) -> 12.
  o.fdr_alpha = 0.25;
  o.inequity_alpha = 1.0;
  o.inequity_beta = 0.0;
  CHECK(run(p, o).fdr == Approx(0.5625));
  CHECK(run(p, o).inequity_rate == Approx(2.0));
  o.inequity_alpha = 0.0;
  o.inequity_beta = 1.0;
  CHECK(run(p, o).inequity_rate == Approx(3.0));
  o.inequity_alpha = 2.0;
  CHECK(run(p, o).inequity_rate == Approx(12.0));

  // Both minimums failing are both named.
  o.min_genuine = 3;  // C has 2 genuine
  CHECK_THAT(run(p, o).groups[2].reason, Contains("2 genuine pairs < min_genuine 3") && Contains("min_impostors 3"));
}

TEST_CASE("fairness: a zero minimum FMR makes the inequity rate NaN with a note, unless its exponent is 0", "[eval]") {
  const Pairs p = hand_set();
  FairnessOptions o = at_fmr(0.25);
  const auto r = run(p, o);
  // C has FMR 0 (0 false matches in 2 impostors) -> max/min FMR unbounded.
  CHECK(std::isnan(r.fmr_ratio));
  CHECK_THAT(r.fmr_ratio_note, Contains("group 'C' has FMR 0 (0 false matches in 2 impostor pairs)"));
  CHECK(r.fnmr_ratio == Approx(3.0));  // 0.75 / 0.25
  CHECK(r.fnmr_ratio_note.empty());
  CHECK(std::isnan(r.inequity_rate));
  CHECK_THAT(r.inequity_note, Contains("group 'C' has FMR 0") && Contains("add_half"));
  CHECK(r.fdr == Approx(0.5));  // FDR has no ratio, it stays a number

  o.inequity_alpha = 0.0;  // FNMR-only: 3^1
  o.inequity_beta = 1.0;
  const auto fnmr_only = run(p, o);
  CHECK(fnmr_only.inequity_rate == Approx(3.0));
  CHECK(fnmr_only.inequity_note.empty());
  CHECK(std::isnan(fnmr_only.fmr_ratio));  // still honest about the ratio itself
}

TEST_CASE("fairness: add-half smoothing gives (events + 0.5) / (trials + 1) everywhere downstream", "[eval]") {
  FairnessOptions o = at_fmr(0.25);
  o.smoothing = Smoothing::add_half;
  const auto r = run(hand_set(), o);
  // A: FMR (2 + .5) / 5 = 0.5   FNMR (1 + .5) / 5 = 0.3
  // B: FMR (1 + .5) / 5 = 0.3   FNMR (3 + .5) / 5 = 0.7
  // C: FMR (0 + .5) / 3 = 1/6   FNMR (1 + .5) / 3 = 0.5
  CHECK(r.groups[0].fmr == Approx(0.5));
  CHECK(r.groups[0].fnmr == Approx(0.3));
  CHECK(r.groups[1].fmr == Approx(0.3));
  CHECK(r.groups[1].fnmr == Approx(0.7));
  CHECK(r.groups[2].fmr == Approx(1.0 / 6.0));
  CHECK(r.groups[2].fnmr == Approx(0.5));
  CHECK(r.groups[2].false_matches == 0);  // raw counts untouched
  CHECK(r.fmr == 0.25);                   // the global operating point is raw
  // FMR diff 0.5 - 1/6 = 1/3, FNMR diff 0.7 - 0.3 = 0.4 -> FDR = 1 - (1/6 + 0.2) = 0.6333333.
  CHECK(r.fmr_max_difference == Approx(1.0 / 3.0));
  CHECK(r.fnmr_max_difference == Approx(0.4));
  CHECK(r.fdr == Approx(0.6333333));
  // Inequity = (0.5 / (1/6))^0.5 * (0.7 / 0.3)^0.5 = sqrt(3 * 7/3) = sqrt(7) = 2.6457513.
  CHECK(r.fmr_ratio == Approx(3.0));
  CHECK(r.fnmr_ratio == Approx(7.0 / 3.0));
  CHECK(r.inequity_rate == Approx(2.6457513));
  CHECK(std::string(ff::eval::smoothing_name(r.options.smoothing)) == "add_half");
}

TEST_CASE("fairness: fewer than 2 included groups give NaN FDR and inequity with notes, and empty groups NaN rates", "[eval]") {
  // A: impostor 0.1, genuine 0.9; B: genuine 0.8 only; D is named but has no pairs.
  Pairs p;
  p.add(0.1f, false, 0);
  p.add(0.9f, true, 0);
  p.add(0.8f, true, 1);
  const auto r = run(p, at_fmr(1.0), {"A", "B", "D"});
  CHECK(r.groups[0].included);
  CHECK_FALSE(r.groups[1].included);
  CHECK_THAT(r.groups[1].reason, Contains("0 impostor pairs < min_impostors 1"));
  CHECK(std::isnan(r.groups[1].fmr));
  CHECK(r.groups[1].fnmr == 0.0);
  CHECK(std::isnan(r.groups[2].fmr));
  CHECK(std::isnan(r.groups[2].fnmr));
  CHECK_THAT(r.groups[2].reason, Contains("0 genuine pairs") && Contains("0 impostor pairs"));
  CHECK(r.included_groups == 1);
  CHECK(std::isnan(r.fdr));
  CHECK(std::isnan(r.fmr_max_difference));
  CHECK(std::isnan(r.inequity_rate));
  CHECK(std::isnan(r.fmr_ratio));
  CHECK_THAT(r.fdr_note, Contains("at least 2 included groups, got 1 of 3"));
  CHECK_THAT(r.inequity_note, Contains("got 1 of 3"));
  CHECK_THAT(r.fnmr_ratio_note, Contains("got 1 of 3"));
}

TEST_CASE("fairness: input and option errors are one-line messages naming the problem", "[eval]") {
  using ff::eval::demographic_fairness;
  const std::vector<float> s = {0.1f, 0.9f, 0.5f};
  const std::vector<bool> g = {false, true, false};
  const std::vector<int> grp = {0, 1, -1};
  const std::vector<std::string> names = {"A", "B"};
  auto call = [&](const std::vector<float>& scores, const std::vector<bool>& gen, const std::vector<int>& group,
                  const std::vector<std::string>& n, const FairnessOptions& o) {
    return demographic_fairness(std::span<const float>(scores), gen, group, n, o);
  };
  const FairnessOptions ok = at_fmr(0.5);
  CHECK_NOTHROW(call(s, g, grp, names, ok));
  CHECK_THROWS_WITH(call(s, {false, true}, grp, names, ok), Contains("3 scores but 2 genuine/impostor labels"));
  CHECK_THROWS_WITH(call(s, g, {0, 1}, names, ok), Contains("3 scores but 2 group indices"));
  CHECK_THROWS_WITH(call(s, g, {0, 2, -1}, names, ok),
                    Contains("pair 1 has group index 2; expected -1 (cross-group) or 0..1"));
  CHECK_THROWS_WITH(call(s, g, {0, -2, -1}, names, ok), Contains("pair 1 has group index -2"));
  CHECK_THROWS_WITH(call(s, {true, true, true}, grp, names, ok), Contains("no impostor pairs among 3"));
  CHECK_THROWS_WITH(call(s, {false, false, false}, grp, names, ok), Contains("no genuine pairs among 3"));
  CHECK_THROWS_WITH(call({}, {}, {}, names, ok), Contains("no pairs"));
  CHECK_THROWS_WITH(call({0.1f, std::nanf(""), 0.5f}, g, grp, names, ok), Contains("score 1 is nan"));
  CHECK_THROWS_WITH(call(s, g, grp, {"A", "A"}, ok), Contains("group name 'A' appears twice"));
  CHECK_THROWS_WITH(call(s, g, grp, names, at_fmr(0.0)), Contains("target_fmr must be in (0, 1], got 0"));
  CHECK_THROWS_WITH(call(s, g, grp, names, at_fmr(1.5)), Contains("target_fmr must be in (0, 1], got 1.5"));
  CHECK_THROWS_WITH(call(s, g, grp, names, at_fmr(std::nan(""))), Contains("target_fmr must be in (0, 1], got nan"));
  FairnessOptions o = ok;
  o.fdr_alpha = 1.5;
  CHECK_THROWS_WITH(call(s, g, grp, names, o), Contains("fdr_alpha must be in [0, 1], got 1.5"));
  o = ok;
  o.inequity_alpha = -1.0;
  CHECK_THROWS_WITH(call(s, g, grp, names, o), Contains("inequity_alpha must be finite and >= 0, got -1"));
  o = ok;
  o.inequity_beta = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(call(s, g, grp, names, o), Contains("inequity_beta must be finite and >= 0, got inf"));
  o = ok;
  o.min_genuine = 0;
  CHECK_THROWS_WITH(call(s, g, grp, names, o), Contains("min_genuine must be >= 1"));
  o = ok;
  o.min_impostors = 0;
  CHECK_THROWS_WITH(call(s, g, grp, names, o), Contains("min_impostors must be >= 1"));
  // One line each: the CLI prints what() after "error: ".
  try {
    call(s, g, {0, 2, -1}, names, ok);
  } catch (const ff::Error& e) {
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
  }
}

TEST_CASE("fairness: threshold, per-group counts, FDR and inequity match a brute-force scan", "[eval]") {
  std::mt19937 rng(20240611);
  std::uniform_int_distribution<int> level(0, 59);
  std::bernoulli_distribution is_gen(0.3);
  std::discrete_distribution<int> which({1.0, 3.0, 3.0, 3.0});  // 0 -> cross-group, 1..3 -> groups 0..2
  Pairs p;
  for (int i = 0; i < 3000; ++i) {
    const bool gen = is_gen(rng);
    const int g = which(rng) - 1;
    // Quantised (ties between genuine and impostor), genuine shifted up, each group a little differently.
    const int l = std::min(59, level(rng) + (gen ? 15 + 5 * std::max(g, 0) : 0));
    p.add(static_cast<float>(l) / 60.0f, gen, g);
  }
  for (int k = 0; k < 6; ++k) p.add(0.3f + 0.1f * k, k < 3, 3);  // group 3: 3 genuine, 3 impostors
  const std::vector<std::string> names = {"g0", "g1", "g2", "small"};

  for (double target : {1e-3, 0.01, 0.05, 0.2, 0.5, 1.0}) {
    for (Smoothing sm : {Smoothing::none, Smoothing::add_half}) {
      FairnessOptions o = at_fmr(target);
      o.min_impostors = 5;  // excludes "small"
      o.smoothing = sm;
      o.fdr_alpha = 0.3;
      o.inequity_alpha = 0.7;
      o.inequity_beta = 0.4;
      const auto r = run(p, o, names);

      // Brute force: try every pair's score as a threshold; keep the smallest with FMR <= target.
      std::size_t impostors = 0;
      double top = -1.0;
      for (std::size_t i = 0; i < p.scores.size(); ++i) {
        if (!p.genuine[i]) ++impostors;
        top = std::max(top, static_cast<double>(p.scores[i]));
      }
      double best = std::numeric_limits<double>::infinity();
      for (float candidate : p.scores) {
        std::size_t passed = 0;
        for (std::size_t i = 0; i < p.scores.size(); ++i) passed += !p.genuine[i] && p.scores[i] >= candidate;
        if (static_cast<double>(passed) / static_cast<double>(impostors) <= target) best = std::min(best, static_cast<double>(candidate));
      }
      INFO("target " << target);
      if (std::isinf(best)) CHECK(r.threshold > top);  // only reject-all reaches the target
      else CHECK(r.threshold == best);

      // Per group by a plain loop over the pairs of that group.
      std::vector<double> fmr, fnmr;
      for (int g = 0; g < 4; ++g) {
        std::size_t gen = 0, imp = 0, fm = 0, fnm = 0;
        for (std::size_t i = 0; i < p.scores.size(); ++i) {
          if (p.group[i] != g) continue;
          if (p.genuine[i]) gen++, fnm += p.scores[i] < r.threshold;
          else imp++, fm += p.scores[i] >= r.threshold;
        }
        const auto& rg = r.groups[g];
        CHECK(rg.genuine == gen);
        CHECK(rg.impostors == imp);
        CHECK(rg.false_matches == fm);
        CHECK(rg.false_non_matches == fnm);
        const double add = sm == Smoothing::add_half ? 0.5 : 0.0;
        const double den = sm == Smoothing::add_half ? 1.0 : 0.0;
        CHECK(rg.fmr == Approx((fm + add) / (imp + den)));
        CHECK(rg.fnmr == Approx((fnm + add) / (gen + den)));
        CHECK(rg.included == (imp >= 5));
        if (imp >= 5) {
          fmr.push_back((fm + add) / (imp + den));
          fnmr.push_back((fnm + add) / (gen + den));
        }
      }
      REQUIRE(fmr.size() == 3);
      // FDR and inequity over every ordered pair of included groups.
      double a = 0.0, b = 0.0, fmr_ratio = 0.0, fnmr_ratio = 0.0;
      for (std::size_t i = 0; i < fmr.size(); ++i) {
        for (std::size_t j = 0; j < fmr.size(); ++j) {
          a = std::max(a, std::abs(fmr[i] - fmr[j]));
          b = std::max(b, std::abs(fnmr[i] - fnmr[j]));
          fmr_ratio = std::max(fmr_ratio, fmr[i] / fmr[j]);  // inf or NaN when a rate is 0
          fnmr_ratio = std::max(fnmr_ratio, fnmr[i] / fnmr[j]);
        }
      }
      CHECK(r.fdr == Approx(1.0 - (0.3 * a + 0.7 * b)));
      const bool zero = std::count(fmr.begin(), fmr.end(), 0.0) + std::count(fnmr.begin(), fnmr.end(), 0.0) > 0;
      if (zero) {
        CHECK(std::isnan(r.inequity_rate));
        CHECK_FALSE(r.inequity_note.empty());
      } else {
        CHECK(r.inequity_rate == Approx(std::pow(fmr_ratio, 0.7) * std::pow(fnmr_ratio, 0.4)));
      }
      if (sm == Smoothing::add_half) CHECK_FALSE(zero);

      // The double overload sees the same widened scores.
      const std::vector<double> d(p.scores.begin(), p.scores.end());
      const auto rd = ff::eval::demographic_fairness(std::span<const double>(d), p.genuine, p.group, names, o);
      CHECK(rd.threshold == r.threshold);
      CHECK(rd.groups[1].false_matches == r.groups[1].false_matches);
    }
  }
}
