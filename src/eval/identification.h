// IJB-B/C 1:N identification metrics from a probe x gallery score matrix: NIST open-set TPIR@FPIR and closed-set CMC.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace ff::eval {

// Conventions (PROTOCOLS.md "IJB 1:1 and 1:N", NIST open-set definition):
//   - scores: row-major [P probes x G gallery templates], higher = more similar, every value
//     finite. Each gallery (IJB-C G1/G2, IJB-B S1/S2) is evaluated separately, then averaged.
//   - A probe is MATED for a gallery when its subject id occurs among the gallery's subject ids,
//     otherwise NON-MATED. A subject may own several gallery templates.
//   - top score = the row maximum. mate score = the maximum over the probe's subject's templates.
//   - mate rank = 1 + the number of NON-mate templates scoring >= the mate score. Ties are
//     pessimistic: a non-mate tying the mate is ranked above it, so a tied mate is never rank 1.
//     Further templates of the probe's own subject never push the mate down.
//   - A search is positive at threshold t when its top score >= t (the same rule as tar_at_far).
//   - Open set, per target FPIR: the threshold is the lowest t (over all reals) with
//     (non-mated probes with top score >= t) / non-mated probes <= target, compared in double: the
//     lowest non-mated top score (everything accepted) or the double just above one (std::nextafter),
//     so a search counts when it scores above the highest non-mated score left out. This is
//     tar_at_far's rule; thresholding at a non-mated score itself would drop every mate between it
//     and the next lower one.
//     TPIR = (mated probes with mate rank 1 and mate score >= t) / mated probes.
//   - Closed set: CMC(k) = (mated probes with mate rank <= k) / mated probes.
//   - Rates are fractions in [0, 1], not percentages.
//
// Undefined metrics are NaN, never guessed, and `undefined` says why (one line):
//   - no mated probes: TPIR and CMC are NaN (FPIR and thresholds are still reported);
//   - no non-mated probes: threshold, FPIR and TPIR are NaN (CMC is still reported).
// Galleries built from a subset of IJB (debug runs, tests) hit these; full IJB never does.
//
// Errors (ff::Error, one line): scores.size() != P * G, no probes, empty gallery, a non-finite
// score (its probe row and gallery column are quoted), a target FPIR outside (0, 1], a rank < 1.
//
//   auto g1 = evaluate_identification(scores_g1, probe_ids, g1_ids);
//   auto g2 = evaluate_identification(scores_g2, probe_ids, g2_ids);
//   auto ijb = average_identification({g1, g2});   // ijb.open_set[0].tpir = TPIR@FPIR=1e-2

struct IdentificationOptions {
  std::vector<double> target_fpirs = {1e-2, 1e-1};  // each in (0, 1]; reported in this order
  std::vector<int> ranks = {1, 5, 10};              // CMC ranks, each >= 1; reported in this order
  int threads = 2;                                  // over probe rows, >= 1; results do not depend on it
};

struct OpenSetPoint {
  double target_fpir = 0.0;
  double threshold = 0.0;
  double fpir = 0.0;                  // achieved, <= target_fpir
  double tpir = 0.0;
  std::size_t false_positives = 0;    // non-mated probes with top score >= threshold
  std::size_t true_positives = 0;     // mated probes with mate rank 1 and mate score >= threshold
};

struct CmcPoint {
  int rank = 1;
  double rate = 0.0;
  std::size_t hits = 0;               // mated probes with mate rank <= rank
};

// One gallery's result. Per-probe vectors are indexed by probe row.
struct GalleryIdentification {
  std::size_t probes = 0;
  std::size_t gallery_templates = 0;
  std::size_t gallery_subjects = 0;   // distinct subject ids in the gallery
  std::size_t mated = 0;
  std::size_t non_mated = 0;
  std::vector<OpenSetPoint> open_set; // one per target FPIR
  std::vector<CmcPoint> cmc;          // one per rank
  std::vector<float> top_score;       // [P]
  std::vector<float> mate_score;      // [P], NaN for non-mated probes
  std::vector<std::size_t> mate_rank; // [P], 0 for non-mated probes
  std::string undefined;              // empty when every metric is defined
};

// One gallery. probe_subjects has P entries, gallery_subjects G, scores P * G.
GalleryIdentification evaluate_identification(std::span<const float> scores,
                                              std::span<const std::int64_t> probe_subjects,
                                              std::span<const std::int64_t> gallery_subjects,
                                              const IdentificationOptions& options = {});

// The IJB figure: each rate averaged, unweighted, over galleries (mean of G1 and G2). A NaN in any
// gallery makes that mean NaN. Galleries must share targets and ranks (same options) and at
// least one is required.
struct MeanOpenSetPoint {
  double target_fpir = 0.0;
  double fpir = 0.0;
  double tpir = 0.0;
};
struct MeanCmcPoint {
  int rank = 1;
  double rate = 0.0;
};
struct IdentificationSummary {
  std::vector<GalleryIdentification> galleries;  // as given, in order
  std::vector<MeanOpenSetPoint> open_set;
  std::vector<MeanCmcPoint> cmc;
  std::string undefined;                         // "gallery <i>: <reason>" joined by "; "
};
IdentificationSummary average_identification(std::vector<GalleryIdentification> galleries);

}  // namespace ff::eval
