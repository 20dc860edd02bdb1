// Checks eval/identification.cpp against hand-worked galleries and a brute force (full row sorts, direct threshold scans).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <tuple>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "src/eval/identification.h"
#include "src/util/error.h"

namespace {

using Catch::Matchers::Contains;
using ff::eval::evaluate_identification;
using ff::eval::IdentificationOptions;
using Ids = std::vector<std::int64_t>;

double above(float x) { return std::nextafter(static_cast<double>(x), std::numeric_limits<double>::infinity()); }

// The probes of the hand-worked case: subjects 10, 20, 30 live in G1, 40, 50, 60 in G2, 70 in neither.
const Ids kProbes = {10, 20, 30, 10, 40, 50, 60, 70};

// G1 = [10, 20, 30, 20] (subject 20 owns two templates).
const Ids kG1 = {10, 20, 30, 20};
const std::vector<float> kScoresG1 = {
    0.9f, 0.3f,  0.2f,  0.1f,    // p0 (10): mate 0.9, rank 1
    0.5f, 0.55f, 0.1f,  0.55f,   // p1 (20): both own templates 0.55, non-mates 0.5 0.1 -> rank 1
    0.6f, 0.2f,  0.6f,  0.3f,    // p2 (30): mate 0.6 tied by non-mate 0.6 -> rank 2 (pessimistic)
    0.4f, 0.8f,  0.3f,  0.5f,    // p3 (10): mate 0.4 below 0.8 and 0.5 -> rank 3
    0.2f, 0.5f,  0.3f,  0.1f,    // p4 non-mated, top 0.5
    0.6f, 0.1f,  0.2f,  0.3f,    // p5 non-mated, top 0.6
    0.3f, 0.2f,  0.55f, 0.35f,   // p6 non-mated, top 0.55
    0.1f, 0.2f,  0.3f,  0.2f,    // p7 non-mated, top 0.3
};

// G2 = [40, 50, 60].
const Ids kG2 = {40, 50, 60};
const std::vector<float> kScoresG2 = {
    0.2f, 0.1f,  0.3f,    // p0 non-mated, top 0.3
    0.4f, 0.2f,  0.1f,    // p1 non-mated, top 0.4
    0.1f, 0.7f,  0.2f,    // p2 non-mated, top 0.7
    0.3f, 0.3f,  0.2f,    // p3 non-mated, top 0.3
    0.8f, 0.2f,  0.1f,    // p4 (40): mate 0.8, rank 1
    0.5f, 0.45f, 0.3f,    // p5 (50): mate 0.45 below 0.5 -> rank 2
    0.2f, 0.3f,  0.65f,   // p6 (60): mate 0.65, rank 1
    0.5f, 0.1f,  0.2f,    // p7 non-mated, top 0.5
};

struct BruteProbe {
  float top = 0;
  float mate = std::numeric_limits<float>::quiet_NaN();
  std::size_t rank = 0;
};

// Full descending sort of each row; on equal scores non-mates go first, which is the pessimistic
// tie rule written as an ordering instead of a count.
std::vector<BruteProbe> brute_rows(const std::vector<float>& s, const Ids& probes, const Ids& gallery) {
  const std::size_t G = gallery.size();
  std::vector<BruteProbe> out(probes.size());
  for (std::size_t r = 0; r < probes.size(); ++r) {
    std::vector<std::pair<float, bool>> row;  // (score, is mate)
    for (std::size_t c = 0; c < G; ++c) row.push_back({s[r * G + c], gallery[c] == probes[r]});
    std::sort(row.begin(), row.end(), [](const auto& a, const auto& b) {
      if (a.first != b.first) return a.first > b.first;
      return !a.second && b.second;
    });
    out[r].top = row[0].first;
    for (std::size_t k = 0; k < row.size(); ++k) {
      if (row[k].second) {
        out[r].mate = row[k].first;
        out[r].rank = k + 1;
        break;
      }
    }
  }
  return out;
}

// Random gallery with duplicate subjects, probes partly outside it, and scores on a coarse grid so
// that mates tie non-mates and non-mated top scores tie each other.
struct RandomCase {
  Ids probes;
  Ids gallery;
  std::vector<float> scores;
};
RandomCase random_case(std::uint32_t seed, std::size_t P, std::size_t G) {
  std::mt19937 rng(seed);
  RandomCase c;
  std::uniform_int_distribution<std::int64_t> gallery_subject(0, static_cast<std::int64_t>(G * 4 / 5));
  std::uniform_int_distribution<std::int64_t> probe_subject(0, static_cast<std::int64_t>(G));
  for (std::size_t j = 0; j < G; ++j) c.gallery.push_back(gallery_subject(rng));
  for (std::size_t i = 0; i < P; ++i) c.probes.push_back(probe_subject(rng));
  std::uniform_int_distribution<int> ceiling(20, 49);
  std::uniform_int_distribution<int> mate_level(10, 55);
  for (std::size_t i = 0; i < P; ++i) {
    // A per-probe ceiling spreads the non-mated top scores; mates land anywhere around it.
    std::uniform_int_distribution<int> level(0, ceiling(rng));
    for (std::size_t j = 0; j < G; ++j) {
      const int l = c.gallery[j] == c.probes[i] ? mate_level(rng) : level(rng);
      c.scores.push_back(static_cast<float>(l) / 50.0f);
    }
  }
  return c;
}

bool same_float(float a, float b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

}  // namespace

TEST_CASE("open set: hand-worked thresholds, FPIR and TPIR per gallery and their mean", "[eval]") {
  IdentificationOptions options;
  options.target_fpirs = {0.1, 0.25, 0.7, 1.0, 0.8};  // reported in this order, not sorted
  options.ranks = {1, 2, 3};

  // G1: mated p0-p3 (ranks 1 1 2 3, mates 0.9 0.55 0.6 0.4), non-mated tops sorted 0.3 0.5 0.55 0.6.
  // The threshold is the lowest real with FPIR <= target: 0.3 (accept all) or just above a
  // non-mated top, so a search counts when it scores above the highest non-mated top left out.
  //   FPIR 0.1:  no false positive allowed -> just above 0.6, 0 FP; TPIR: p0 only -> 1/4
  //   FPIR 0.25: one allowed -> just above 0.55 (0.6 passes) -> FPIR 0.25; TPIR: p0 (p1's 0.55 is not
  //              above 0.55) -> 1/4
  //   FPIR 0.7:  two allowed (3/4 > 0.7) -> just above 0.5 -> FPIR 0.5; TPIR: p0, p1 -> 2/4
  //   FPIR 1.0:  accept all at 0.3 -> FPIR 1; TPIR: p0, p1 -> 2/4 (p2 tied, so rank 2; p3 rank 3)
  //   FPIR 0.8:  three allowed -> just above 0.3 -> FPIR 0.75; TPIR: p0, p1 -> 2/4
  const auto g1 = evaluate_identification(kScoresG1, kProbes, kG1, options);
  CHECK(g1.mated == 4);
  CHECK(g1.non_mated == 4);
  CHECK(g1.gallery_templates == 4);
  CHECK(g1.gallery_subjects == 3);
  CHECK(g1.mate_rank == std::vector<std::size_t>{1, 1, 2, 3, 0, 0, 0, 0});
  CHECK(g1.top_score == std::vector<float>{0.9f, 0.55f, 0.6f, 0.8f, 0.5f, 0.6f, 0.55f, 0.3f});
  CHECK(g1.mate_score[1] == 0.55f);
  CHECK(std::isnan(g1.mate_score[4]));
  REQUIRE(g1.open_set.size() == 5);
  CHECK(g1.open_set[0].threshold == above(0.6f));
  CHECK(g1.open_set[0].false_positives == 0);
  CHECK(g1.open_set[0].fpir == 0.0);
  CHECK(g1.open_set[0].tpir == 0.25);
  CHECK(g1.open_set[1].threshold == above(0.55f));
  CHECK(g1.open_set[1].fpir == 0.25);
  CHECK(g1.open_set[1].true_positives == 1);
  CHECK(g1.open_set[2].threshold == above(0.5f));
  CHECK(g1.open_set[2].false_positives == 2);
  CHECK(g1.open_set[2].tpir == 0.5);
  CHECK(g1.open_set[3].threshold == static_cast<double>(0.3f));
  CHECK(g1.open_set[3].fpir == 1.0);
  CHECK(g1.open_set[3].tpir == 0.5);
  CHECK(g1.open_set[4].target_fpir == 0.8);
  CHECK(g1.open_set[4].threshold == above(0.3f));
  CHECK(g1.open_set[4].fpir == 0.75);
  CHECK(g1.open_set[4].tpir == 0.5);
  // CMC: ranks 1 1 2 3 -> 2/4, 3/4, 4/4.
  REQUIRE(g1.cmc.size() == 3);
  CHECK(g1.cmc[0].rate == 0.5);
  CHECK(g1.cmc[1].rate == 0.75);
  CHECK(g1.cmc[2].rate == 1.0);
  CHECK(g1.undefined.empty());

  // G2: mated p4-p6 (ranks 1 2 1, mates 0.8 0.45 0.65), non-mated tops sorted 0.3 0.3 0.4 0.5 0.7
  // (the two 0.3s are never split).
  //   FPIR 0.1:  none allowed -> just above 0.7, 0 FP; TPIR: p4 -> 1/3
  //   FPIR 0.25: one allowed -> just above 0.5 (0.7 passes) -> FPIR 0.2; TPIR: p4 0.8, p6 0.65 -> 2/3
  //   FPIR 0.7:  three allowed -> just above 0.3 -> FPIR 0.6; TPIR: p4, p6 -> 2/3
  //   FPIR 1.0:  accept all at 0.3 -> FPIR 1; TPIR 2/3
  //   FPIR 0.8:  four allowed, but the two 0.3s go together -> just above 0.3, 3 FP -> FPIR 0.6; TPIR 2/3
  const auto g2 = evaluate_identification(kScoresG2, kProbes, kG2, options);
  CHECK(g2.mated == 3);
  CHECK(g2.non_mated == 5);
  CHECK(g2.mate_rank == std::vector<std::size_t>{0, 0, 0, 0, 1, 2, 1, 0});
  CHECK(g2.open_set[0].threshold == above(0.7f));
  CHECK(g2.open_set[0].tpir == Approx(1.0 / 3));
  CHECK(g2.open_set[1].threshold == above(0.5f));
  CHECK(g2.open_set[1].fpir == 0.2);
  CHECK(g2.open_set[1].tpir == Approx(2.0 / 3));
  CHECK(g2.open_set[2].threshold == above(0.3f));
  CHECK(g2.open_set[2].false_positives == 3);
  CHECK(g2.open_set[2].tpir == Approx(2.0 / 3));
  CHECK(g2.open_set[3].threshold == static_cast<double>(0.3f));
  CHECK(g2.open_set[3].false_positives == 5);
  CHECK(g2.open_set[3].true_positives == 2);
  CHECK(g2.open_set[4].threshold == above(0.3f));
  CHECK(g2.open_set[4].false_positives == 3);
  // CMC: ranks 1 2 1 -> 2/3, 1, 1.
  CHECK(g2.cmc[0].rate == Approx(2.0 / 3));
  CHECK(g2.cmc[1].rate == 1.0);

  // Mean of G1 and G2: TPIR (1/4 + 1/3) / 2 = 7/24 at 0.1, (1/4 + 2/3) / 2 = 11/24 at 0.25, (1/2 + 2/3) / 2 = 7/12 at 0.7
  // 1.0 and 0.8; FPIR 0, (0.25 + 0.2) / 2 = 0.225, (0.5 + 0.6) / 2 = 0.55, 1, (0.75 + 0.6) / 2 = 0.675;
  // CMC 7/12, 7/8, 1.
  const auto ijb = ff::eval::average_identification({g1, g2});
  REQUIRE(ijb.open_set.size() == 5);
  REQUIRE(ijb.galleries.size() == 2);
  CHECK(ijb.galleries[1].mate_rank == g2.mate_rank);
  CHECK(ijb.open_set[0].target_fpir == 0.1);
  CHECK(ijb.open_set[0].tpir == Approx(7.0 / 24));
  CHECK(ijb.open_set[0].fpir == 0.0);
  CHECK(ijb.open_set[1].tpir == Approx(11.0 / 24));
  CHECK(ijb.open_set[1].fpir == Approx(0.225));
  CHECK(ijb.open_set[2].tpir == Approx(7.0 / 12));
  CHECK(ijb.open_set[2].fpir == Approx(0.55));
  CHECK(ijb.open_set[3].tpir == Approx(7.0 / 12));
  CHECK(ijb.open_set[3].fpir == 1.0);
  CHECK(ijb.open_set[4].tpir == Approx(7.0 / 12));
  CHECK(ijb.open_set[4].fpir == Approx(0.675));
  CHECK(ijb.cmc[0].rank == 1);
  CHECK(ijb.cmc[0].rate == Approx(7.0 / 12));
  CHECK(ijb.cmc[1].rate == Approx(0.875));
  CHECK(ijb.cmc[2].rate == 1.0);
  CHECK(ijb.undefined.empty());
}

TEST_CASE("CMC: mate rank counts non-mates at or above the mate, default ranks 1 5 10", "[eval]") {
  // Gallery: subjects 0..11, one template each. Every row except p6 scores column j as (j + 1) / 100,
  // so a mate in column s has the 11 - s columns to its right above it: rank 12 - s.
  //   p0 s=11 -> 1, p1 s=7 -> 5, p2 s=6 -> 6, p3 s=2 -> 10, p4 s=1 -> 11, p5 s=0 -> 12.
  //   p6 s=3 scores 0.5 everywhere: all 11 non-mates tie the mate -> rank 12.
  //   p7 s=99 is not in the gallery: non-mated, outside the CMC.
  // 7 mated: rank <= 1: 1, <= 5: 2, <= 10: 4.
  const Ids gallery = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  const Ids probes = {11, 7, 6, 2, 1, 0, 3, 99};
  std::vector<float> scores;
  for (std::size_t r = 0; r < probes.size(); ++r) {
    for (std::size_t c = 0; c < gallery.size(); ++c) {
      scores.push_back(r == 6 ? 0.5f : static_cast<float>(c + 1) / 100.0f);
    }
  }
  const auto g = evaluate_identification(scores, probes, gallery);
  CHECK(g.mate_rank == std::vector<std::size_t>{1, 5, 6, 10, 11, 12, 12, 0});
  CHECK(g.mated == 7);
  REQUIRE(g.cmc.size() == 3);
  CHECK(g.cmc[0].rank == 1);
  CHECK(g.cmc[0].hits == 1);
  CHECK(g.cmc[0].rate == Approx(1.0 / 7));
  CHECK(g.cmc[1].rank == 5);
  CHECK(g.cmc[1].hits == 2);
  CHECK(g.cmc[2].rank == 10);
  CHECK(g.cmc[2].hits == 4);
  CHECK(g.cmc[2].rate == Approx(4.0 / 7));
  // One non-mated probe with top 0.12: FPIR 1e-2 and 1e-1 both allow none -> just above 0.12,
  // which only p0's mate (0.12) misses -> TPIR 0.
  CHECK(g.open_set[0].threshold == above(0.12f));
  CHECK(g.open_set[1].tpir == 0.0);
}

TEST_CASE("random galleries match a brute force of full row sorts and a direct threshold scan", "[eval]") {
  // The second shape is large enough (1.2M scores) to run on two threads.
  for (const auto& [seed, P, G] : {std::tuple{7u, 200u, 30u}, std::tuple{8u, 600u, 2000u}}) {
    const RandomCase c = random_case(seed, P, G);
    const auto brute = brute_rows(c.scores, c.probes, c.gallery);
    std::vector<double> non_mated_top;
    std::size_t mated = 0;
    for (const BruteProbe& b : brute) {
      if (b.rank == 0) non_mated_top.push_back(b.top);
      else ++mated;
    }
    const double n = static_cast<double>(non_mated_top.size());
    REQUIRE(mated > 20);
    REQUIRE(non_mated_top.size() > 20);

    IdentificationOptions options;
    options.target_fpirs = {1e-3, 1e-2, 3.0 / n, 0.05, 0.1, 0.25, 0.5, 1.0};
    options.ranks = {1, 2, 5, 10, 50, 100000};
    const auto g = evaluate_identification(c.scores, c.probes, c.gallery, options);

    REQUIRE(g.mated == mated);
    for (std::size_t r = 0; r < P; ++r) {
      INFO("probe row " << r);
      CHECK(g.top_score[r] == brute[r].top);
      CHECK(same_float(g.mate_score[r], brute[r].mate));
      CHECK(g.mate_rank[r] == brute[r].rank);
    }
    std::size_t rank_one = 0;
    for (const BruteProbe& b : brute) rank_one += b.rank == 1 ? 1 : 0;
    REQUIRE(rank_one > 5);  // the open-set TPIR below is not trivially 0

    // Lowest candidate (the lowest non-mated top, or just above any non-mated top) whose directly
    // counted FPIR is within target; no sorting involved.
    std::vector<double> candidates = {*std::min_element(non_mated_top.begin(), non_mated_top.end())};
    for (double s : non_mated_top) candidates.push_back(std::nextafter(s, std::numeric_limits<double>::infinity()));
    for (std::size_t t = 0; t < options.target_fpirs.size(); ++t) {
      const double target = options.target_fpirs[t];
      double best = std::numeric_limits<double>::infinity();
      for (double candidate : candidates) {
        const auto fp = std::count_if(non_mated_top.begin(), non_mated_top.end(), [&](double s) { return s >= candidate; });
        if (static_cast<double>(fp) / n <= target) best = std::min(best, candidate);
      }
      std::size_t fp = 0, tp = 0;
      for (const BruteProbe& b : brute) {
        if (b.rank == 0 && b.top >= best) ++fp;
        if (b.rank == 1 && b.mate >= best) ++tp;
      }
      INFO("target FPIR " << target);
      CHECK(g.open_set[t].threshold == best);
      CHECK(g.open_set[t].false_positives == fp);
      CHECK(g.open_set[t].true_positives == tp);
      CHECK(g.open_set[t].fpir == static_cast<double>(fp) / n);
      CHECK(g.open_set[t].tpir == static_cast<double>(tp) / static_cast<double>(mated));
    }
    for (std::size_t k = 0; k < options.ranks.size(); ++k) {
      const auto hits = std::count_if(brute.begin(), brute.end(), [&](const BruteProbe& b) {
        return b.rank >= 1 && b.rank <= static_cast<std::size_t>(options.ranks[k]);
      });
      CHECK(g.cmc[k].hits == static_cast<std::size_t>(hits));
    }

    // Splitting rows over threads changes nothing.
    options.threads = 1;
    const auto single = evaluate_identification(c.scores, c.probes, c.gallery, options);
    CHECK(single.mate_rank == g.mate_rank);
    CHECK(single.top_score == g.top_score);
  }
}

TEST_CASE("undefined rates are NaN with a reason, and NaN carries into the gallery mean", "[eval]") {
  const std::vector<float> scores = {0.9f, 0.1f, 0.2f, 0.8f};  // 2 probes x 2 templates
  IdentificationOptions options;
  options.ranks = {1};

  // Every probe mated: no FPIR can be measured, CMC still can (both rank 1).
  const auto all_mated = evaluate_identification(scores, Ids{1, 2}, Ids{1, 2}, options);
  CHECK(std::isnan(all_mated.open_set[0].threshold));
  CHECK(std::isnan(all_mated.open_set[0].fpir));
  CHECK(std::isnan(all_mated.open_set[0].tpir));
  CHECK(all_mated.cmc[0].rate == 1.0);
  CHECK_THAT(all_mated.undefined, Contains("no non-mated probes"));

  // No probe mated: FPIR is measurable (top scores 0.9 and 0.8; 1e-1 allows none -> above 0.9),
  // TPIR and CMC are not.
  const auto none_mated = evaluate_identification(scores, Ids{3, 4}, Ids{1, 2}, options);
  CHECK(none_mated.open_set[1].threshold == above(0.9f));
  CHECK(none_mated.open_set[1].fpir == 0.0);
  CHECK(std::isnan(none_mated.open_set[1].tpir));
  CHECK(std::isnan(none_mated.cmc[0].rate));
  CHECK_THAT(none_mated.undefined, Contains("no mated probes"));

  const auto mean = ff::eval::average_identification({all_mated, none_mated});
  CHECK(std::isnan(mean.open_set[0].tpir));
  CHECK(std::isnan(mean.cmc[0].rate));
  CHECK_THAT(mean.undefined, Contains("gallery 0: no non-mated") && Contains("gallery 1: no mated"));
}

TEST_CASE("invalid identification input is refused with a one-line reason", "[eval]") {
  const std::vector<float> six(6, 0.5f);
  const Ids probes = {1, 2};
  const Ids gallery = {1, 3, 4};
  CHECK_THROWS_WITH(evaluate_identification(std::span<const float>(six).first(5), probes, gallery),
                    Contains("score matrix has 5 values, expected probes x gallery templates = 2 x 3"));
  CHECK_THROWS_WITH(evaluate_identification({}, probes, Ids{}), Contains("empty gallery"));
  CHECK_THROWS_WITH(evaluate_identification({}, Ids{}, gallery), Contains("no probes"));

  IdentificationOptions zero;
  zero.target_fpirs = {0.1, 0.0};
  CHECK_THROWS_WITH(evaluate_identification(six, probes, gallery, zero),
                    Contains("target FPIR 0 (target_fpirs[1]) must be in (0, 1]"));
  IdentificationOptions big;
  big.target_fpirs = {1.5};
  CHECK_THROWS_WITH(evaluate_identification(six, probes, gallery, big), Contains("target FPIR 1.5 (target_fpirs[0])"));
  IdentificationOptions rank;
  rank.ranks = {1, 0};
  CHECK_THROWS_WITH(evaluate_identification(six, probes, gallery, rank), Contains("CMC rank 0 (ranks[1]) must be >= 1"));

  std::vector<float> bad = six;
  bad[1 * 3 + 2] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH(evaluate_identification(bad, probes, gallery), Contains("probe row 1 gallery column 2 is nan"));
  bad[0 * 3 + 1] = std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH(evaluate_identification(bad, probes, gallery), Contains("probe row 0 gallery column 1 is inf"));

  // On the two-thread path the first bad row in row order is named, whichever thread found it.
  const RandomCase c = random_case(3, 600, 2000);
  std::vector<float> big_bad = c.scores;
  big_bad[500 * 2000 + 7] = std::numeric_limits<float>::quiet_NaN();
  big_bad[100 * 2000 + 9] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH(evaluate_identification(big_bad, c.probes, c.gallery), Contains("probe row 100 gallery column 9"));

  CHECK_THROWS_WITH(ff::eval::average_identification({}), Contains("no galleries"));
  IdentificationOptions other;
  other.target_fpirs = {0.5, 0.1};
  const auto a = evaluate_identification(six, probes, gallery);
  const auto b = evaluate_identification(six, probes, gallery, other);
  CHECK_THROWS_WITH(ff::eval::average_identification({a, b}),
                    Contains("gallery 1 target FPIR 0 is 0.5 but gallery 0's is 0.01"));
}
