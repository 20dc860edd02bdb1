// IJB-B/C scoring: image features -> template features (media averaging), then cosine scores for
// the 1:1 template pairs and the probe x gallery matrix that 1:N metrics (identification.h) read.
#pragma once
#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "datasets/ijb_meta.h"

namespace ff::eval {

// insightface's image-level switches N and D. Its third switch, F (flip test), belongs to feature
// extraction (EmbedderOptions::flip), not here: the features given are already fused.
struct TemplateOptions {
  bool normalize_images = false;  // N: L2-normalise each image feature first (insightface's default keeps the norm)
  bool detector_weight = false;   // D: multiply each image feature (after N) by its detector score
};

struct TemplateFeatures {
  std::vector<int64_t> template_ids;  // strictly ascending
  at::Tensor features;                // [T, D] float32, row t = template_ids[t], unit length (all-zero stays zero)
};

// Template = L2-normalise( sum over the template's media of ( mean of that media's image features ) ),
// a media being a (template_id, media_id) pair: IJB reuses media ids across templates.
// image_features: [n, D] floating point, row i = images[i] (any device; computed in float32 there).
// Throws ff::Error unless image_features is [images.size(), D] floating point with n >= 1.
//
//   auto templates = aggregate_templates(features, meta.images, {.normalize_images = false, .detector_weight = true});
TemplateFeatures aggregate_templates(const at::Tensor& image_features, const std::vector<datasets::IjbImage>& images,
                                     const TemplateOptions& options = {});

// How score_pairs splits its work. Pairs are grouped by t1; consecutive t1 rows (at most
// max_block_bytes / (4 * T) of them) form a block. A block whose fill = pairs / (t1 rows x distinct
// t2 rows) is >= min_dense_fill is scored as one dense product of those rows (at::mm on the
// features' device) and the needed entries are picked out; a sparser block is scored pair by pair
// with dot products over the rows in place, on the CPU. Measured on a loaded 2-core CPU at 512-d,
// a gathered pair costs 0.3-0.8 us and a dense product entry ~0.02 us: they break even at a fill
// of 1/20 to 1/40, hence 1/32. IJB-C's 15.7M pairs fill their blocks to ~23%: all dense.
struct PairScoreOptions {
  int64_t max_block_bytes = int64_t{256} << 20;  // bound on one dense block product ([t1 rows, t2 rows] float32)
  double min_dense_fill = 1.0 / 32;              // 0: every block dense; above 1: every block gathered
};

// What score_pairs did, for tests and benchmarks.
struct PairScoreStats {
  int64_t dense_blocks = 0;
  int64_t gathered_blocks = 0;
  int64_t dense_pairs = 0;
  int64_t gathered_pairs = 0;
};

// Cosine similarity of every pair (a dot product: template rows are unit length), in pair order,
// without autograd. Dense and gathered scores differ only by float rounding (~1e-7). Throws
// ff::Error naming the first pair whose template has no features, or on features not
// [template_ids.size(), D] float32, or template ids not strictly ascending.
//
//   std::vector<float> scores = score_pairs(templates, meta.pairs);  // scores[i] for meta.pairs[i]
std::vector<float> score_pairs(const TemplateFeatures& templates, const std::vector<datasets::IjbPair>& pairs,
                               const PairScoreOptions& options = {}, PairScoreStats* stats = nullptr);

// [P, G] cosine matrix, row p = probe_template_ids[p], column g = gallery_template_ids[g]; float32,
// contiguous, on the features' device (identification.h takes it row-major from the CPU).
// Throws ff::Error naming the first id (and its list) that has no template features.
at::Tensor score_matrix(const TemplateFeatures& templates, const std::vector<int64_t>& probe_template_ids,
                        const std::vector<int64_t>& gallery_template_ids);

}  // namespace ff::eval
