// IJB template aggregation and batched pair scoring: aggregation and dense pair blocks are ATen
// (index_add_, at::mm) on the features' device; index bookkeeping and sparse pairs are plain C++.
#include "src/eval/ijb.h"

#include <algorithm>
#include <numeric>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <fmt/format.h>

#include "src/util/error.h"
#include "src/util/strings.h"

namespace ff::eval {

namespace {

// Norms are clamped as torch.nn.functional.normalize does, so an all-zero row stays zero instead of NaN.
constexpr double kNormEpsilon = 1e-12;

at::Tensor l2_normalize_rows(const at::Tensor& x) {
  return x / at::linalg_vector_norm(x, 2, {1}, /*keepdim=*/true).clamp_min(kNormEpsilon);
}

// Indices built on the CPU go to the device of the features they index (a copy only off the CPU).
at::Tensor index_tensor(std::vector<int64_t>& values, const at::Device& device) {
  const at::Tensor cpu = at::from_blob(values.data(), {static_cast<int64_t>(values.size())}, at::kLong);
  return device.is_cpu() ? cpu : cpu.to(device);
}

// Template id -> feature row, for ids the caller promises are strictly ascending (checked once
// here). A table over the id range answers the 31M look-ups of IJB-C's pairs in well under a second,
// where a binary search took ~1.5 s; ids spread wider than the table fall back to binary search.
class RowLookup {
 public:
  RowLookup(const TemplateFeatures& templates, const char* caller) : ids_(templates.template_ids) {
    const at::Tensor& f = templates.features;
    if (!f.defined() || f.dim() != 2 || f.size(0) != static_cast<int64_t>(ids_.size()) ||
        f.scalar_type() != at::kFloat) {
      fail("{}: expected template features [{}, D] float32 (one row per template id), found {} {}", caller,
           ids_.size(), f.defined() ? format_shape(f.sizes().vec()) : "an undefined tensor",
           f.defined() ? std::string(c10::toString(f.scalar_type())) : "");
    }
    for (size_t i = 1; i < ids_.size(); ++i) {
      if (ids_[i] <= ids_[i - 1]) {
        fail("{}: expected strictly ascending template ids, found {} after {} at index {}", caller, ids_[i],
             ids_[i - 1], i);
      }
    }
    if (!ids_.empty() && static_cast<uint64_t>(ids_.back()) - static_cast<uint64_t>(ids_.front()) < kMaxTable) {
      low_ = ids_.front();
      table_.assign(static_cast<size_t>(ids_.back() - low_) + 1, -1);
      for (size_t i = 0; i < ids_.size(); ++i) table_[static_cast<size_t>(ids_[i] - low_)] = static_cast<int32_t>(i);
    }
  }
  // -1 when the id has no row.
  int64_t row(int64_t id) const {
    if (!table_.empty()) {
      const uint64_t offset = static_cast<uint64_t>(id) - static_cast<uint64_t>(low_);  // wraps for id < low_
      return offset < table_.size() ? table_[static_cast<size_t>(offset)] : -1;
    }
    const auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
    return it != ids_.end() && *it == id ? it - ids_.begin() : -1;
  }
  size_t size() const { return ids_.size(); }

 private:
  static constexpr uint64_t kMaxTable = uint64_t{1} << 22;  // 16 MB of int32
  const std::vector<int64_t>& ids_;
  std::vector<int32_t> table_;
  int64_t low_ = 0;
};

// Eight independent sums let the compiler keep them in one SIMD register (no -ffast-math needed)
// and shorten the dependency chain; ~0.6 us per 512-d pair here, mostly the two rows' cache misses.
float dot(const float* a, const float* b, int64_t dim) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t d = 0;
  for (; d + 8 <= dim; d += 8) {
    for (int k = 0; k < 8; ++k) acc[k] += a[d + k] * b[d + k];
  }
  for (; d < dim; ++d) acc[0] += a[d] * b[d];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

}  // namespace

TemplateFeatures aggregate_templates(const at::Tensor& image_features, const std::vector<datasets::IjbImage>& images,
                                     const TemplateOptions& options) {
  at::NoGradGuard no_grad;
  const int64_t n = static_cast<int64_t>(images.size());
  if (!image_features.defined() || image_features.dim() != 2 || image_features.size(0) != n ||
      !image_features.is_floating_point() || n == 0) {
    fail("aggregate_templates: expected image features [{}, D] floating point (one row per image, at least one), "
         "found {} {}",
         n, image_features.defined() ? format_shape(image_features.sizes().vec()) : "an undefined tensor",
         image_features.defined() ? std::string(c10::toString(image_features.scalar_type())) : "");
  }
  const at::Device device = image_features.device();

  // Sorted by (template, media), each media's images are adjacent and templates come out ascending,
  // as TemplateFeatures promises.
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    const auto& x = images[static_cast<size_t>(a)];
    const auto& y = images[static_cast<size_t>(b)];
    return x.template_id != y.template_id ? x.template_id < y.template_id : x.media_id < y.media_id;
  });
  // Sum over media of the media mean = sum over images of x_i / (images in i's media): one
  // weighted index_add_ over images straight into templates, with no [media, D] intermediate (nearly
  // as large as the image features when most media hold one image) and no second pass over it.
  TemplateFeatures result;
  std::vector<int64_t> template_of_image(static_cast<size_t>(n));
  std::vector<float> weight(static_cast<size_t>(n));
  for (size_t begin = 0; begin < order.size();) {
    const auto& first = images[static_cast<size_t>(order[begin])];
    if (result.template_ids.empty() || result.template_ids.back() != first.template_id) {
      result.template_ids.push_back(first.template_id);
    }
    size_t end = begin + 1;
    while (end < order.size() && images[static_cast<size_t>(order[end])].template_id == first.template_id &&
           images[static_cast<size_t>(order[end])].media_id == first.media_id) {
      ++end;
    }
    for (size_t k = begin; k < end; ++k) {
      const size_t i = static_cast<size_t>(order[k]);
      template_of_image[i] = static_cast<int64_t>(result.template_ids.size()) - 1;
      weight[i] = (options.detector_weight ? images[i].detector_score : 1.0f) / static_cast<float>(end - begin);
    }
    begin = end;
  }
  const int64_t templates = static_cast<int64_t>(result.template_ids.size());
  const int64_t dim = image_features.size(1);

  const at::Tensor template_index = index_tensor(template_of_image, device);
  const at::Tensor image_weight = at::from_blob(weight.data(), {n}, at::kFloat).to(device);
  at::Tensor sum = at::zeros({templates, dim}, at::TensorOptions().dtype(at::kFloat).device(device));
  // Chunks bound the weighted copy (and a float32 copy of half-precision input) to ~64 MB.
  const int64_t chunk = std::max<int64_t>(1, (int64_t{64} << 20) / (4 * std::max<int64_t>(dim, 1)));
  for (int64_t begin = 0; begin < n; begin += chunk) {
    const int64_t length = std::min(chunk, n - begin);
    const at::Tensor x = image_features.narrow(0, begin, length).to(at::kFloat);
    at::Tensor w = image_weight.narrow(0, begin, length).unsqueeze(1);
    if (options.normalize_images) w = w / at::linalg_vector_norm(x, 2, {1}, /*keepdim=*/true).clamp_min(kNormEpsilon);
    sum.index_add_(0, template_index.narrow(0, begin, length), x * w);
  }
  result.features = l2_normalize_rows(sum);
  return result;
}

std::vector<float> score_pairs(const TemplateFeatures& templates, const std::vector<datasets::IjbPair>& pairs,
                               const PairScoreOptions& options, PairScoreStats* stats) {
  at::NoGradGuard no_grad;
  const RowLookup lookup(templates, "score_pairs");
  if (options.max_block_bytes <= 0 || !(options.min_dense_fill >= 0.0)) {
    fail("score_pairs: expected max_block_bytes > 0 and min_dense_fill >= 0, found {} and {}",
         options.max_block_bytes, options.min_dense_fill);
  }
  PairScoreStats local_stats;
  PairScoreStats& st = stats ? *stats : local_stats;
  st = PairScoreStats{};
  const int64_t count = static_cast<int64_t>(pairs.size());
  const int64_t rows = static_cast<int64_t>(lookup.size());
  std::vector<float> scores(static_cast<size_t>(count));
  if (count == 0) return scores;

  // Rows once per pair; pair files list a t1's pairs together, so t1 is usually the previous one.
  std::vector<int32_t> row1(static_cast<size_t>(count)), row2(static_cast<size_t>(count));
  int64_t last_t1 = pairs[0].t1;
  int64_t last_r1 = lookup.row(last_t1);
  for (size_t i = 0; i < pairs.size(); ++i) {
    const datasets::IjbPair& p = pairs[i];
    if (p.t1 != last_t1) {
      last_t1 = p.t1;
      last_r1 = lookup.row(p.t1);
    }
    const int64_t r2 = lookup.row(p.t2);
    if (last_r1 < 0 || r2 < 0) {
      fail("score_pairs: pairs[{}] = ({}, {}): expected templates with features, found none for template {} "
           "({} templates have features)",
           i, p.t1, p.t2, last_r1 < 0 ? p.t1 : p.t2, rows);
    }
    row1[i] = static_cast<int32_t>(last_r1);
    row2[i] = static_cast<int32_t>(r2);
  }

  // Counting sort by t1 row: order[group_begin[r] .. group_begin[r + 1]) are row r's pairs, in file order.
  std::vector<int64_t> group_begin(static_cast<size_t>(rows) + 1, 0);
  for (int32_t r : row1) ++group_begin[static_cast<size_t>(r) + 1];
  std::partial_sum(group_begin.begin(), group_begin.end(), group_begin.begin());
  std::vector<int64_t> order(static_cast<size_t>(count));
  {
    std::vector<int64_t> next(group_begin.begin(), group_begin.end() - 1);
    for (int64_t i = 0; i < count; ++i) order[static_cast<size_t>(next[static_cast<size_t>(row1[i])]++)] = i;
  }

  const at::Tensor& features = templates.features;
  const at::Device device = features.device();
  const int64_t dim = features.size(1);
  // Gathered blocks read rows in place on the CPU; the copy (none when already there) is made at
  // the first such block, so all-dense runs on a GPU never pay for it.
  at::Tensor cpu_features;
  // A block's product is at most rows_per_block x T floats, whatever t2 rows it turns out to need.
  const int64_t rows_per_block = std::max<int64_t>(1, options.max_block_bytes / (4 * rows));

  std::vector<int64_t> stamp(static_cast<size_t>(rows), -1);  // block that last numbered this t2 row
  std::vector<int64_t> local2(static_cast<size_t>(rows), 0);   // its column in that block
  std::vector<int64_t> rows1, rows2, slots;
  int64_t block = 0;
  for (int64_t first = 0; first < rows; ++block) {
    rows1.clear();
    int64_t last = first;
    for (; last < rows && static_cast<int64_t>(rows1.size()) < rows_per_block; ++last) {
      if (group_begin[last + 1] > group_begin[last]) rows1.push_back(last);
    }
    const int64_t begin = group_begin[first];
    const int64_t end = group_begin[last];
    first = last;
    if (begin == end) continue;

    rows2.clear();
    for (int64_t k = begin; k < end; ++k) {
      const size_t r2 = static_cast<size_t>(row2[order[k]]);
      if (stamp[r2] != block) {
        stamp[r2] = block;
        local2[r2] = static_cast<int64_t>(rows2.size());
        rows2.push_back(static_cast<int64_t>(r2));
      }
    }
    const int64_t block_pairs = end - begin;
    const double fill = static_cast<double>(block_pairs) /
                        (static_cast<double>(rows1.size()) * static_cast<double>(rows2.size()));

    if (fill >= options.min_dense_fill) {
      // Pairs come grouped by t1 row in rows1's order, so a pair's product row is its group's rank.
      slots.resize(static_cast<size_t>(block_pairs));
      const int64_t width = static_cast<int64_t>(rows2.size());
      for (size_t l1 = 0; l1 < rows1.size(); ++l1) {
        const int64_t r1 = rows1[l1];
        for (int64_t k = group_begin[r1]; k < group_begin[r1 + 1]; ++k) {
          slots[static_cast<size_t>(k - begin)] =
              static_cast<int64_t>(l1) * width + local2[static_cast<size_t>(row2[order[k]])];
        }
      }
      const at::Tensor a = features.index_select(0, index_tensor(rows1, device));
      const at::Tensor b = features.index_select(0, index_tensor(rows2, device));
      const at::Tensor values = at::mm(a, b.t()).reshape({-1}).index_select(0, index_tensor(slots, device)).cpu();
      const float* v = values.data_ptr<float>();
      for (int64_t k = begin; k < end; ++k) scores[static_cast<size_t>(order[k])] = v[k - begin];
      ++st.dense_blocks;
      st.dense_pairs += block_pairs;
    } else {
      if (!cpu_features.defined()) cpu_features = features.cpu().contiguous();
      const float* f = cpu_features.data_ptr<float>();
      at::parallel_for(begin, end, 4096, [&](int64_t from, int64_t to) {
        for (int64_t k = from; k < to; ++k) {
          const size_t i = static_cast<size_t>(order[k]);
          scores[i] = dot(f + row1[i] * dim, f + row2[i] * dim, dim);
        }
      });
      ++st.gathered_blocks;
      st.gathered_pairs += block_pairs;
    }
  }
  return scores;
}

at::Tensor score_matrix(const TemplateFeatures& templates, const std::vector<int64_t>& probe_template_ids,
                        const std::vector<int64_t>& gallery_template_ids) {
  at::NoGradGuard no_grad;
  const RowLookup lookup(templates, "score_matrix");
  const auto rows_of = [&](const std::vector<int64_t>& ids, const char* list) {
    std::vector<int64_t> rows(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      rows[i] = lookup.row(ids[i]);
      if (rows[i] < 0) {
        fail("score_matrix: {}[{}] = {}: expected a template with features, found none ({} templates have features)",
             list, i, ids[i], lookup.size());
      }
    }
    return rows;
  };
  std::vector<int64_t> probe_rows = rows_of(probe_template_ids, "probe_template_ids");
  std::vector<int64_t> gallery_rows = rows_of(gallery_template_ids, "gallery_template_ids");
  const at::Tensor& features = templates.features;
  const at::Tensor probes = features.index_select(0, index_tensor(probe_rows, features.device()));
  const at::Tensor gallery = features.index_select(0, index_tensor(gallery_rows, features.device()));
  return at::mm(probes, gallery.t()).contiguous();
}

}  // namespace ff::eval
