// 1:N identification: one pass per probe row for top score, mate score and mate rank, then thresholds from the sorted non-mated top scores.
#include "src/eval/identification.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>
#include <utility>

#include "src/util/error.h"

namespace ff::eval {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// The gallery's (subject, column) pairs sorted by subject: a probe's mate columns are one
// equal_range, found once per probe instead of per score.
using Template = std::pair<std::int64_t, std::size_t>;

struct RowSpan {
  std::size_t begin = 0;  // into the sorted templates; begin == end for a non-mated probe
  std::size_t end = 0;
};

struct Shared {
  std::span<const float> scores;
  std::size_t columns = 0;
  const std::vector<Template>* templates = nullptr;
  const std::vector<RowSpan>* mates = nullptr;
  GalleryIdentification* out = nullptr;
};

// Rows [first, last). Returns the first row holding a non-finite score, or `last` when none; the
// caller reports it so that the message is the same whatever the thread split.
std::size_t scan_rows(const Shared& s, std::size_t first, std::size_t last) {
  constexpr float kMax = std::numeric_limits<float>::max();
  constexpr std::size_t kLanes = 16;
  for (std::size_t r = first; r < last; ++r) {
    const float* row = s.scores.data() + r * s.columns;
    const RowSpan m = (*s.mates)[r];
    // Comparing against -inf for a non-mated probe keeps one loop shape; its count is unused.
    float mate = -std::numeric_limits<float>::infinity();
    for (std::size_t k = m.begin; k < m.end; ++k) mate = std::max(mate, row[(*s.templates)[k].second]);
    // Independent lanes let the compiler vectorise without -ffast-math: each lane is its own
    // max/count chain, so nothing is reassociated. 32-bit counters match the float width (one
    // lane counts at most G / kLanes + 1 scores, far below 2^32).
    float lane_top[kLanes];
    std::uint32_t lane_count[kLanes] = {};
    std::uint32_t lane_bad[kLanes] = {};
    std::fill(lane_top, lane_top + kLanes, -kMax);
    std::size_t c = 0;
    for (; c + kLanes <= s.columns; c += kLanes) {
      for (std::size_t k = 0; k < kLanes; ++k) {
        const float v = row[c + k];
        lane_top[k] = v > lane_top[k] ? v : lane_top[k];
        lane_count[k] += v >= mate ? 1 : 0;
        lane_bad[k] += std::abs(v) <= kMax ? 0 : 1;  // NaN and +-inf
      }
    }
    for (std::size_t k = 0; c < s.columns; ++c, ++k) {
      const float v = row[c];
      lane_top[k] = v > lane_top[k] ? v : lane_top[k];
      lane_count[k] += v >= mate ? 1 : 0;
      lane_bad[k] += std::abs(v) <= kMax ? 0 : 1;
    }
    float top = -kMax;
    std::size_t at_or_above = 0;
    std::size_t bad = 0;
    for (std::size_t k = 0; k < kLanes; ++k) {
      top = std::max(top, lane_top[k]);
      at_or_above += lane_count[k];
      bad += lane_bad[k];
    }
    if (bad != 0) return r;
    s.out->top_score[r] = top;
    if (m.begin == m.end) continue;
    // Mate templates tying the mate score were counted above; only non-mates push the rank down.
    std::size_t mates_at = 0;
    for (std::size_t k = m.begin; k < m.end; ++k) mates_at += row[(*s.templates)[k].second] == mate ? 1 : 0;
    s.out->mate_score[r] = mate;
    s.out->mate_rank[r] = 1 + at_or_above - mates_at;
  }
  return last;
}

double rate(std::size_t hits, std::size_t total) {
  return total == 0 ? std::numeric_limits<double>::quiet_NaN()
                    : static_cast<double>(hits) / static_cast<double>(total);
}

void validate_options(const IdentificationOptions& options) {
  for (std::size_t i = 0; i < options.target_fpirs.size(); ++i) {
    const double f = options.target_fpirs[i];
    if (!(f > 0.0 && f <= 1.0)) fail("evaluate_identification: target FPIR {} (target_fpirs[{}]) must be in (0, 1]", f, i);
  }
  for (std::size_t i = 0; i < options.ranks.size(); ++i) {
    if (options.ranks[i] < 1) fail("evaluate_identification: CMC rank {} (ranks[{}]) must be >= 1", options.ranks[i], i);
  }
  if (options.threads < 1) fail("evaluate_identification: threads must be >= 1, got {}", options.threads);
}

}  // namespace

GalleryIdentification evaluate_identification(std::span<const float> scores,
                                              std::span<const std::int64_t> probe_subjects,
                                              std::span<const std::int64_t> gallery_subjects,
                                              const IdentificationOptions& options) {
  validate_options(options);
  const std::size_t P = probe_subjects.size();
  const std::size_t G = gallery_subjects.size();
  if (G == 0) fail("evaluate_identification: empty gallery (0 templates); need at least one gallery template");
  if (P == 0) fail("evaluate_identification: no probes (0 probe subject ids); need at least one probe");
  if (P > std::numeric_limits<std::size_t>::max() / G || scores.size() != P * G) {
    fail("evaluate_identification: score matrix has {} values, expected probes x gallery templates = {} x {}",
         scores.size(), P, G);
  }

  std::vector<Template> templates(G);
  for (std::size_t c = 0; c < G; ++c) templates[c] = {gallery_subjects[c], c};
  std::sort(templates.begin(), templates.end());
  std::vector<RowSpan> mates(P);
  GalleryIdentification out;
  out.probes = P;
  out.gallery_templates = G;
  for (std::size_t c = 0; c < G; ++c) {
    if (c == 0 || templates[c].first != templates[c - 1].first) ++out.gallery_subjects;
  }
  for (std::size_t r = 0; r < P; ++r) {
    const auto range = std::equal_range(templates.begin(), templates.end(), Template{probe_subjects[r], 0},
                                        [](const Template& a, const Template& b) { return a.first < b.first; });
    mates[r] = {static_cast<std::size_t>(range.first - templates.begin()),
                static_cast<std::size_t>(range.second - templates.begin())};
    if (range.first == range.second) ++out.non_mated;
    else ++out.mated;
  }
  out.top_score.assign(P, kNaN);
  out.mate_score.assign(P, kNaN);
  out.mate_rank.assign(P, 0);

  // Rows are independent, so contiguous blocks per thread give results identical to one thread.
  // Small matrices stay on the caller's thread: starting threads would cost more than the scan.
  const Shared shared{scores, G, &templates, &mates, &out};
  const std::size_t min_values_per_thread = std::size_t{1} << 20;
  const std::size_t workers =
      std::max<std::size_t>(1, std::min<std::size_t>({static_cast<std::size_t>(options.threads), P,
                                                      scores.size() / min_values_per_thread}));
  std::vector<std::size_t> bad(workers);
  std::vector<std::size_t> last(workers);
  {
    std::vector<std::jthread> pool;
    for (std::size_t w = 0; w < workers; ++w) {
      const std::size_t first = P * w / workers;
      last[w] = P * (w + 1) / workers;
      if (w + 1 == workers) bad[w] = scan_rows(shared, first, last[w]);
      else pool.emplace_back([&, w, first] { bad[w] = scan_rows(shared, first, last[w]); });
    }
  }
  for (std::size_t w = 0; w < workers; ++w) {
    if (bad[w] == last[w]) continue;
    const std::size_t r = bad[w];
    for (std::size_t c = 0; c < G; ++c) {
      const float v = scores[r * G + c];
      if (!std::isfinite(v)) {
        fail("evaluate_identification: score at probe row {} gallery column {} is {}; scores must be finite", r, c, v);
      }
    }
  }

  std::vector<double> non_mated_top;
  non_mated_top.reserve(out.non_mated);
  for (std::size_t r = 0; r < P; ++r) {
    if (out.mate_rank[r] == 0) non_mated_top.push_back(out.top_score[r]);
  }
  std::sort(non_mated_top.begin(), non_mated_top.end());
  const std::size_t n = non_mated_top.size();

  for (double target : options.target_fpirs) {
    OpenSetPoint p;
    p.target_fpir = target;
    if (n == 0) {
      p.threshold = p.fpir = p.tpir = std::numeric_limits<double>::quiet_NaN();
      out.open_set.push_back(p);
      continue;
    }
    // The lowest threshold over all reals: accept everything, or sit just above a non-mated top
    // score (the double above it), so searches scoring above that score count. Ascending candidates
    // have non-increasing counts, so the first within target is the lowest.
    p.threshold = std::nextafter(non_mated_top.back(), std::numeric_limits<double>::infinity());
    p.false_positives = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0 && non_mated_top[i] == non_mated_top[i - 1]) continue;
      if (static_cast<double>(n - i) / static_cast<double>(n) <= target) {
        p.threshold = i == 0 ? non_mated_top[0]
                             : std::nextafter(non_mated_top[i - 1], std::numeric_limits<double>::infinity());
        p.false_positives = n - i;
        break;
      }
    }
    p.fpir = static_cast<double>(p.false_positives) / static_cast<double>(n);
    for (std::size_t r = 0; r < P; ++r) {
      if (out.mate_rank[r] == 1 && static_cast<double>(out.mate_score[r]) >= p.threshold) ++p.true_positives;
    }
    p.tpir = rate(p.true_positives, out.mated);
    out.open_set.push_back(p);
  }

  for (int k : options.ranks) {
    CmcPoint c;
    c.rank = k;
    for (std::size_t r = 0; r < P; ++r) {
      if (out.mate_rank[r] != 0 && out.mate_rank[r] <= static_cast<std::size_t>(k)) ++c.hits;
    }
    c.rate = rate(c.hits, out.mated);
    out.cmc.push_back(c);
  }

  if (out.mated == 0) {
    out.undefined = "no mated probes (no probe subject is in the gallery): TPIR and CMC are NaN";
  } else if (out.non_mated == 0) {
    out.undefined = "no non-mated probes (every probe subject is in the gallery): thresholds, FPIR and TPIR are NaN";
  }
  return out;
}

IdentificationSummary average_identification(std::vector<GalleryIdentification> galleries) {
  if (galleries.empty()) fail("average_identification: no galleries; need at least one gallery result");
  const GalleryIdentification& first = galleries.front();
  for (std::size_t g = 1; g < galleries.size(); ++g) {
    const GalleryIdentification& other = galleries[g];
    if (other.open_set.size() != first.open_set.size() || other.cmc.size() != first.cmc.size()) {
      fail("average_identification: gallery {} has {} target FPIRs and {} ranks but gallery 0 has {} and {}; "
           "evaluate every gallery with the same options",
           g, other.open_set.size(), other.cmc.size(), first.open_set.size(), first.cmc.size());
    }
    for (std::size_t i = 0; i < first.open_set.size(); ++i) {
      if (other.open_set[i].target_fpir != first.open_set[i].target_fpir) {
        fail("average_identification: gallery {} target FPIR {} is {} but gallery 0's is {}; "
             "evaluate every gallery with the same options",
             g, i, other.open_set[i].target_fpir, first.open_set[i].target_fpir);
      }
    }
    for (std::size_t i = 0; i < first.cmc.size(); ++i) {
      if (other.cmc[i].rank != first.cmc[i].rank) {
        fail("average_identification: gallery {} CMC rank {} is {} but gallery 0's is {}; "
             "evaluate every gallery with the same options",
             g, i, other.cmc[i].rank, first.cmc[i].rank);
      }
    }
  }

  IdentificationSummary summary;
  const double count = static_cast<double>(galleries.size());
  for (std::size_t i = 0; i < first.open_set.size(); ++i) {
    MeanOpenSetPoint m;
    m.target_fpir = first.open_set[i].target_fpir;
    for (const GalleryIdentification& g : galleries) {
      m.fpir += g.open_set[i].fpir;
      m.tpir += g.open_set[i].tpir;
    }
    m.fpir /= count;
    m.tpir /= count;
    summary.open_set.push_back(m);
  }
  for (std::size_t i = 0; i < first.cmc.size(); ++i) {
    MeanCmcPoint m;
    m.rank = first.cmc[i].rank;
    for (const GalleryIdentification& g : galleries) m.rate += g.cmc[i].rate;
    m.rate /= count;
    summary.cmc.push_back(m);
  }
  for (std::size_t g = 0; g < galleries.size(); ++g) {
    if (galleries[g].undefined.empty()) continue;
    if (!summary.undefined.empty()) summary.undefined += "; ";
    summary.undefined += "gallery " + std::to_string(g) + ": " + galleries[g].undefined;
  }
  summary.galleries = std::move(galleries);
  return summary;
}

}  // namespace ff::eval
