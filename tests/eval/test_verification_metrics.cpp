// Checks eval/verification_metrics.cpp against hand-worked cases and brute-force O(N^2) / full scans.
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <vector>

#include <catch2/catch.hpp>

#include "src/eval/verification_metrics.h"
#include "src/util/error.h"

namespace {

using ff::eval::roc_curve;
using Catch::Matchers::Contains;

struct Pairs {
  std::vector<double> scores;
  std::vector<bool> genuine;
  void add(double score, bool is_genuine) {
    scores.push_back(score);
    genuine.push_back(is_genuine);
  }
};

// Scores quantised to `levels` values so that many genuine/impostor ties occur.
Pairs random_pairs(std::uint32_t seed, int n, int levels) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> level(0, levels - 1);
  std::bernoulli_distribution coin(0.3);
  Pairs p;
  for (int i = 0; i < n; ++i) {
    const bool g = coin(rng);
    // Genuine pairs lean higher so the ROC is informative, yet overlap with impostors.
    const int l = std::min(levels - 1, level(rng) + (g ? levels / 4 : 0));
    p.add(static_cast<double>(l) / levels, g);
  }
  p.genuine[0] = true;
  p.genuine[1] = false;
  return p;
}

}  // namespace

TEST_CASE("ten-fold: a fold wrong under any threshold learnt elsewhere scores 0, the rest 1", "[eval]") {
  // Folds of 2 pairs in order. Folds 0-8: genuine 0.60+0.01f, impostor 0.30+0.01f (separable).
  // Fold 9: genuine 0.1, impostor 0.9: any threshold in (0.1, 0.9] gets both wrong.
  Pairs p;
  for (int f = 0; f < 9; ++f) {
    p.add(0.60 + 0.01 * f, true);
    p.add(0.30 + 0.01 * f, false);
  }
  p.add(0.1, true);
  p.add(0.9, false);

  const auto r = ff::eval::ten_fold_accuracy(p.scores, p.genuine);
  REQUIRE(r.fold_accuracy.size() == 10);
  for (int f = 0; f < 9; ++f) CHECK(r.fold_accuracy[f] == 1.0);
  CHECK(r.fold_accuracy[9] == 0.0);
  // Training on folds 0-8 only: the unique perfect midpoint between 0.38 and 0.60.
  CHECK(r.fold_threshold[9] == Approx(0.49));
  // Dropping fold 0 raises the lowest genuine to 0.61; dropping fold 8 lowers the top impostor to 0.37.
  CHECK(r.fold_threshold[0] == Approx(0.495));
  CHECK(r.fold_threshold[8] == Approx(0.485));
  CHECK(r.fold_threshold[4] == Approx(0.49));
  CHECK(r.mean_accuracy == Approx(0.9));
  CHECK(r.std_accuracy == Approx(0.3));      // sqrt((9 * 0.1^2 + 0.9^2) / 10)
  CHECK(r.standard_error == Approx(0.1));    // sqrt(0.9 / 9) / sqrt(10)
  CHECK(r.fold_size == std::vector<std::size_t>(10, 2));

  // float scores give the same folds.
  const std::vector<float> f(p.scores.begin(), p.scores.end());
  const auto rf = ff::eval::ten_fold_accuracy(f, p.genuine);
  CHECK(rf.fold_accuracy == r.fold_accuracy);
}

TEST_CASE("k-fold: N not divisible by k gives the first N % k folds one extra pair", "[eval]") {
  // 7 pairs, 3 folds -> sizes 3, 2, 2 (sklearn KFold). Pair 0 is a genuine below every impostor.
  Pairs p;
  p.add(0.05, true);
  p.add(0.1, false);
  p.add(0.8, true);  // fold 0
  p.add(0.2, false);
  p.add(0.7, true);  // fold 1
  p.add(0.3, false);
  p.add(0.6, true);  // fold 2
  const auto r = ff::eval::ten_fold_accuracy(p.scores, p.genuine, 3);
  CHECK(r.fold_size == std::vector<std::size_t>{3, 2, 2});
  // Fold 0 trains on {0.2 i, 0.7 g, 0.3 i, 0.6 g}: threshold 0.45, and 0.05 genuine is rejected.
  CHECK(r.fold_accuracy[0] == Approx(2.0 / 3.0));
  CHECK(r.fold_accuracy[1] == 1.0);
  CHECK(r.fold_accuracy[2] == 1.0);
  for (double t : r.fold_threshold) CHECK(t == Approx(0.45));
  CHECK(r.mean_accuracy == Approx(8.0 / 9.0));

  CHECK_THROWS_WITH(ff::eval::ten_fold_accuracy(p.scores, p.genuine, 8), Contains("folds must be in [2, number of pairs = 7], got 8"));
  CHECK_THROWS_WITH(ff::eval::ten_fold_accuracy(p.scores, p.genuine, 1), Contains("got 1"));
}

TEST_CASE("best threshold: exact maximum, lowest threshold on accuracy ties", "[eval]") {
  // impostor 0.2, genuine 0.4, impostor 0.6, genuine 0.8: thresholds 0.3 and 0.7 both give 3/4.
  Pairs p;
  p.add(0.2, false);
  p.add(0.4, true);
  p.add(0.6, false);
  p.add(0.8, true);
  const auto r = ff::eval::best_threshold(p.scores, p.genuine);
  CHECK(r.threshold == Approx(0.3));
  CHECK(r.correct == 3);
  CHECK(r.accuracy == Approx(0.75));

  // Best is to reject everything: the threshold sits just above the top score.
  Pairs q;
  q.add(0.1, true);
  q.add(0.5, false);
  q.add(0.6, false);
  const auto s = ff::eval::best_threshold(q.scores, q.genuine);
  CHECK(s.correct == 2);
  CHECK(s.threshold > 0.6);
  CHECK(s.threshold < 0.6 + 1e-12);
}

TEST_CASE("best threshold matches a brute-force scan of every cut", "[eval]") {
  const Pairs p = random_pairs(7, 200, 25);
  const auto r = ff::eval::best_threshold(p.scores, p.genuine);
  std::set<double> distinct(p.scores.begin(), p.scores.end());
  std::size_t best = 0;
  double best_t = 0;
  std::vector<double> cuts(distinct.begin(), distinct.end());
  cuts.push_back(std::numeric_limits<double>::infinity());
  for (double t : cuts) {
    std::size_t correct = 0;
    for (std::size_t i = 0; i < p.scores.size(); ++i) correct += (p.scores[i] >= t) == p.genuine[i];
    if (correct > best) {
      best = correct;
      best_t = t;
    }
  }
  CHECK(r.correct == best);
  // The reported threshold induces the same cut as the scan's: it lies in (previous score, best_t].
  auto it = distinct.lower_bound(best_t);
  const double previous = it == distinct.begin() ? -1e9 : *std::prev(it);
  CHECK(r.threshold > previous);
  CHECK(r.threshold <= best_t);
}

TEST_CASE("Youden threshold maximises TPR - FPR and can differ from best accuracy", "[eval]") {
  // 2 genuine (0.5, 0.9), 6 impostors (0.1, 0.2, 0.3, 0.6, 0.7, 0.8).
  // Cut above 0.8 (t in (0.8, 0.9]): TP 1, FP 0 -> accuracy 7/8, J = 1/2 - 0 = 0.5.
  // Cut at 0.5 (t in (0.3, 0.5]):   TP 2, FP 3 -> accuracy 5/8, J = 1 - 3/6 = 0.5.
  // Cut at 0.4 is the same cut. Cut at 0.6..0.8 gives J = 1/2 - k/6 < 0.5; accept-all J = 0.
  // J ties between (0.3, 0.5] and (0.8, 0.9]: the lowest threshold wins, 0.4 (midpoint of 0.3 and 0.5).
  // Best accuracy instead picks 0.85 (7/8).
  Pairs p;
  for (double s : {0.1, 0.2, 0.3, 0.6, 0.7, 0.8}) p.add(s, false);
  p.add(0.5, true);
  p.add(0.9, true);
  const auto youden = ff::eval::best_threshold(p.scores, p.genuine, ff::eval::ThresholdRule::youden);
  CHECK(youden.threshold == Approx(0.4));
  CHECK(youden.correct == 5);
  const auto accuracy = ff::eval::best_threshold(p.scores, p.genuine);
  CHECK(accuracy.threshold == Approx(0.85));
  CHECK(accuracy.correct == 7);
}

TEST_CASE("Youden threshold matches a brute-force scan of every cut", "[eval]") {
  const Pairs p = random_pairs(11, 300, 30);
  const auto r = ff::eval::best_threshold(p.scores, p.genuine, ff::eval::ThresholdRule::youden);
  const double g = static_cast<double>(std::count(p.genuine.begin(), p.genuine.end(), true));
  const double imp = static_cast<double>(p.genuine.size()) - g;
  std::set<double> distinct(p.scores.begin(), p.scores.end());
  std::vector<double> cuts(distinct.begin(), distinct.end());
  cuts.push_back(std::numeric_limits<double>::infinity());
  double best_j = -2, best_t = 0;
  for (double t : cuts) {
    double tp = 0, fp = 0;
    for (std::size_t i = 0; i < p.scores.size(); ++i)
      if (p.scores[i] >= t) (p.genuine[i] ? tp : fp) += 1;
    const double j = tp / g - fp / imp;
    if (j > best_j + 1e-12) {
      best_j = j;
      best_t = t;
    }
  }
  double tp = 0, fp = 0;
  for (std::size_t i = 0; i < p.scores.size(); ++i)
    if (p.scores[i] >= r.threshold) (p.genuine[i] ? tp : fp) += 1;
  CHECK(tp / g - fp / imp == Approx(best_j).margin(1e-12));
  auto it = distinct.lower_bound(best_t);
  const double previous = it == distinct.begin() ? -1e9 : *std::prev(it);
  CHECK(r.threshold > previous);
  CHECK(r.threshold <= best_t);

  // Ten folds under Youden: each fold's threshold is the Youden cut of the other nine.
  const auto folds = ff::eval::ten_fold_accuracy(p.scores, p.genuine, 10, ff::eval::ThresholdRule::youden);
  for (int f = 0; f < 10; ++f) {
    Pairs train;
    for (std::size_t i = 0; i < p.scores.size(); ++i)
      if (static_cast<int>(i) / 30 != f) train.add(p.scores[i], p.genuine[i]);
    CHECK(folds.fold_threshold[f] ==
          ff::eval::best_threshold(train.scores, train.genuine, ff::eval::ThresholdRule::youden).threshold);
  }
}

TEST_CASE("TAR@FAR: ties are never split by a threshold", "[eval]") {
  // genuine 0.9, 0.8, 0.7, 0.6; impostors 0.8, 0.5, 0.4, 0.3, 0.2 (a tie at 0.8).
  Pairs p;
  for (double g : {0.9, 0.8, 0.7, 0.6}) p.add(g, true);
  for (double i : {0.8, 0.5, 0.4, 0.3, 0.2}) p.add(i, false);

  const auto at20 = ff::eval::tar_at_far(p.scores, p.genuine, 0.2);  // FAR 1/5 reached at t = 0.6
  CHECK(at20.threshold == 0.6);
  CHECK(at20.tar == 1.0);
  CHECK(at20.far == 0.2);
  CHECK(at20.false_accepts == 1);

  // FAR 0 needs a threshold above the tied 0.8 pair: only the 0.9 genuine survives.
  const auto at10 = ff::eval::tar_at_far(p.scores, p.genuine, 0.1);
  CHECK(at10.threshold == 0.9);
  CHECK(at10.tar == 0.25);
  CHECK(at10.far == 0.0);

  const auto all = ff::eval::tar_at_far(p.scores, p.genuine, 1.0);
  CHECK(all.threshold == 0.2);
  CHECK(all.tar == 1.0);

  CHECK_THROWS_WITH(ff::eval::tar_at_far(p.scores, p.genuine, 1.5), Contains("target FAR must be in [0, 1], got 1.5"));
}

TEST_CASE("TAR@FAR matches a brute-force threshold scan", "[eval]") {
  const Pairs p = random_pairs(11, 400, 40);
  const auto roc = roc_curve(p.scores, p.genuine);
  const double impostors = static_cast<double>(roc.impostors);
  std::vector<double> thresholds(p.scores.begin(), p.scores.end());
  thresholds.push_back(std::numeric_limits<double>::infinity());
  std::sort(thresholds.begin(), thresholds.end());
  for (double target : {0.0, 1.0 / impostors, 3.0 / impostors, 0.01, 0.1, 0.37, 0.5, 1.0}) {
    // Brute force: the lowest candidate threshold whose FAR is within the target.
    double tar = -1;
    double chosen = 0;
    for (double t : thresholds) {
      std::size_t fa = 0, ta = 0;
      for (std::size_t i = 0; i < p.scores.size(); ++i) {
        if (p.scores[i] < t) continue;
        if (p.genuine[i]) ++ta;
        else ++fa;
      }
      if (static_cast<double>(fa) / impostors <= target) {
        tar = static_cast<double>(ta) / static_cast<double>(roc.genuine);
        chosen = t;
        break;
      }
    }
    INFO("target FAR " << target);
    const auto r = ff::eval::tar_at_far(roc, target);
    CHECK(r.tar == tar);
    CHECK(r.far <= target);
    if (std::isfinite(chosen)) CHECK(r.threshold == chosen);
    else CHECK(r.threshold > *std::max_element(p.scores.begin(), p.scores.end()));
  }
}

TEST_CASE("EER: exact crossing at a ROC point and interpolated crossing on a diagonal step", "[eval]") {
  // genuine 0.9 0.8 0.6 0.4, impostor 0.7 0.5 0.3 0.2: at t = 0.6 FAR = FRR = 1/4.
  Pairs p;
  for (double g : {0.9, 0.8, 0.6, 0.4}) p.add(g, true);
  for (double i : {0.7, 0.5, 0.3, 0.2}) p.add(i, false);
  const auto e = ff::eval::equal_error_rate(p.scores, p.genuine);
  CHECK(e.eer == Approx(0.25));
  CHECK(e.threshold == 0.6);

  // genuine 0.9 0.5, impostor 0.5 0.1. ROC (FAR, FRR): t=0.5 -> (1/2, 0), t=0.9 -> (0, 1/2).
  // The segment between them crosses FAR = FRR at 1/4; min over thresholds of max(FAR, FRR)
  // would say 1/2, so this pins the interpolated definition.
  Pairs q;
  q.add(0.9, true);
  q.add(0.5, true);
  q.add(0.5, false);
  q.add(0.1, false);
  const auto d = ff::eval::equal_error_rate(q.scores, q.genuine);
  CHECK(d.eer == Approx(0.25));
  CHECK(d.threshold == 0.9);
}

TEST_CASE("AUC equals the brute-force Mann-Whitney pair count with ties as 1/2", "[eval]") {
  Pairs hand;  // genuine 0.9 0.5 vs impostor 0.5 0.1: (1 + 1 + 0.5 + 1) / 4
  hand.add(0.9, true);
  hand.add(0.5, true);
  hand.add(0.5, false);
  hand.add(0.1, false);
  CHECK(ff::eval::roc_auc(hand.scores, hand.genuine) == Approx(0.875));

  for (std::uint32_t seed : {1u, 2u, 3u}) {
    const Pairs p = random_pairs(seed, 300, 12);
    double wins = 0;
    double comparisons = 0;
    for (std::size_t a = 0; a < p.scores.size(); ++a) {
      if (!p.genuine[a]) continue;
      for (std::size_t b = 0; b < p.scores.size(); ++b) {
        if (p.genuine[b]) continue;
        comparisons += 1;
        if (p.scores[a] > p.scores[b]) wins += 1;
        else if (p.scores[a] == p.scores[b]) wins += 0.5;
      }
    }
    const double auc = ff::eval::roc_auc(p.scores, p.genuine);
    CHECK(auc == Approx(wins / comparisons).epsilon(1e-12));

    // The same area by trapezoids over the ROC points.
    const auto roc = roc_curve(p.scores, p.genuine);
    double area = 0;
    for (std::size_t k = 1; k < roc.points.size(); ++k) {
      const auto& hi = roc.points[k - 1];
      const auto& lo = roc.points[k];
      area += (hi.far - lo.far) * (hi.tar + lo.tar) / 2;
    }
    CHECK(area == Approx(auc).epsilon(1e-12));
  }
}

TEST_CASE("ROC curve: one point per distinct score plus reject-all", "[eval]") {
  Pairs p;
  p.add(0.5, true);
  p.add(0.5, false);
  p.add(0.7, true);
  p.add(0.2, false);
  const auto roc = roc_curve(p.scores, p.genuine);
  REQUIRE(roc.points.size() == 4);  // 0.2, 0.5, 0.7, above 0.7
  CHECK(roc.points[0].far == 1.0);
  CHECK(roc.points[0].tar == 1.0);
  CHECK(roc.points[1].threshold == 0.5);
  CHECK(roc.points[1].far == 0.5);
  CHECK(roc.points[1].tar == 1.0);
  CHECK(roc.points[2].far == 0.0);
  CHECK(roc.points[2].tar == 0.5);
  CHECK(roc.points[3].tar == 0.0);
  CHECK(roc.points[3].threshold > 0.7);
}

TEST_CASE("invalid input is refused with a one-line reason", "[eval]") {
  const std::vector<double> s{0.1, 0.2, 0.3};
  CHECK_THROWS_AS(ff::eval::roc_auc(s, {true, false}), ff::Error);
  CHECK_THROWS_WITH(ff::eval::roc_auc(s, {true, false}), Contains("3 scores but 2 labels"));
  CHECK_THROWS_WITH(ff::eval::best_threshold(s, {true, true, true}), Contains("no impostor pairs among 3"));
  CHECK_THROWS_WITH(ff::eval::roc_curve(s, {false, false, false}), Contains("no genuine pairs among 3"));
  const std::vector<double> with_nan{0.1, std::nan(""), 0.3};
  CHECK_THROWS_WITH(ff::eval::ten_fold_accuracy(with_nan, {true, false, true}, 3),
                    Contains("ten_fold_accuracy: score 1 is nan"));
  const std::vector<float> with_inf{0.1f, 0.2f, std::numeric_limits<float>::infinity()};
  CHECK_THROWS_WITH(ff::eval::equal_error_rate(with_inf, {true, false, true}), Contains("score 2 is inf"));
  CHECK_THROWS_WITH(ff::eval::roc_auc(std::vector<double>{}, {}), Contains("no pairs"));
}
