// FaceNet triplet loss (Schroff et al., CVPR 2015) with online mining inside each batch.
//   Embeddings are L2-normalised here; d(i, j) = |x_i − x_j|² = 2 − 2 cos(x_i, x_j), from the Gram
//   matrix, clamped at 0 against rounding. A triplet (a, p, n) is valid when label[a] == label[p],
//   a ≠ p and label[n] ≠ label[a]; its loss is max(0, d(a, p) − d(a, n) + α).
// Mining (which triplets make up the loss):
//   batch_all   every valid triplet; loss = Σ triplet losses / #active, where active means loss > 0
//               (a zero still connected to the graph when none is active).
//   batch_hard  per anchor with at least one positive and one negative, one triplet: the hardest
//               positive (largest d(a, p)) and the hardest negative (smallest d(a, n));
//               loss = mean over those anchors.
//   semi_hard   per positive pair (a, p) whose anchor has a negative, one triplet: the negative with
//               the smallest d(a, n) that is still > d(a, p) (FaceNet's semi-hard negative; when it
//               also lies inside the margin the triplet is active); when no negative is farther than
//               the positive, the farthest negative (largest d(a, n)) instead, which is the
//               convention of TensorFlow Addons' triplet_semihard_loss. loss = mean over those pairs.
// Selection is by value: the chosen indices carry no gradient, the gradient flows through the chosen
// distances (exactly the derivative of the piecewise-linear loss where no distances tie).
// A batch without any valid triplet (one label only, or every label once) gives a zero that is
// connected to the graph and stats with triplets = 0.
// Usage: TripletLoss loss(TripletOptions().mining("semi_hard").margin(0.2));
//        at::Tensor l = loss.forward(embeddings, labels); loss.last_stats().active_fraction;
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

namespace ff::losses {

struct TripletOptions {
  TripletOptions& mining(std::string v) { mining_ = std::move(v); return *this; }
  TripletOptions& margin(double v) { margin_ = v; return *this; }
  std::string mining_ = "batch_hard";  // batch_all | batch_hard | semi_hard
  double margin_ = 0.2;                // α, on squared distances of unit vectors (range [0, 4])
};

// What the last forward mined; "mined triplets" are the ones the strategy above puts in the loss.
struct TripletStats {
  int64_t triplets = 0;          // mined triplets this step
  double active_fraction = 0;    // fraction of mined triplets with loss > 0
  double mean_positive = 0;      // mean d(a, p) over mined triplets
  double mean_negative = 0;      // mean d(a, n) over mined triplets
};

class TripletLoss : public torch::nn::Module {
 public:
  explicit TripletLoss(const TripletOptions& options);
  // embeddings [B, D] of any norm, labels [B] integer. Returns the scalar loss, differentiable with
  // respect to embeddings, and fills last_stats().
  at::Tensor forward(const at::Tensor& embeddings, const at::Tensor& labels);
  const TripletStats& last_stats() const { return stats_; }

 private:
  enum class Mining { batch_all, batch_hard, semi_hard };
  at::Tensor batch_all(const at::Tensor& distance, const at::Tensor& positive, const at::Tensor& negative);
  at::Tensor batch_hard(const at::Tensor& distance, const at::Tensor& positive, const at::Tensor& negative);
  at::Tensor semi_hard(const at::Tensor& distance, const at::Tensor& positive, const at::Tensor& negative);

  TripletOptions options_;
  Mining mining_ = Mining::batch_hard;
  TripletStats stats_;
};

std::vector<std::string> triplet_mining_names();

}  // namespace ff::losses
