// The full (single-process) classifier: class centres W [C·K, D] (K sub-centres per class, 1 for
// most heads), any MarginHead, and softmax cross-entropy. Partial FC calls the same MarginHead on
// its sampled shards.
//   cos θ_j = max over class j's centres of normalize(x) · normalize(W_c)  (plain max pooling)
//   loss = CE(head(cos θ, labels, |x|), labels) + head regulariser (MagFace), mean over the batch.
// The softmax head gets x·Wᵀ + b instead (an unnormalised linear layer with bias).
// Usage: MarginClassifier fc(num_classes, 512, make_margin_head(opts)); auto loss = fc.forward(emb, y);
#pragma once
#include <memory>

#include "losses/margin_head.h"

namespace ff::losses {

// Sub-center dominance (shared by MarginClassifier and PartialFC): from the per-centre win counts
// [C, K], each class keeps only its most-won centre in `allowed` [C, K].
void keep_dominant_subcenters(const at::Tensor& wins, at::Tensor& allowed);

class MarginClassifier : public torch::nn::Module {
 public:
  MarginClassifier(int64_t num_classes, int64_t embedding_size, std::shared_ptr<MarginHead> head);
  // embeddings [B, D] float, labels [B] int64 in [0, C): returns the scalar mean loss.
  at::Tensor forward(const at::Tensor& embeddings, const at::Tensor& labels);
  // Per-class cosines [B, C] (sub-centres pooled, no margin), e.g. for training-accuracy logging.
  at::Tensor cosine(const at::Tensor& embeddings) const;
  // [B, C] for one centre per class, [B, C, K] with sub-centres (dropped ones at -2).
  at::Tensor centre_cosines(const at::Tensor& embeddings) const;
  int64_t num_classes() const { return num_classes_; }
  MarginHead& head() { return *head_; }

  // Sub-center heads: from now on each class keeps only the centre that won most of its samples
  // (counted in `subcenter_wins` while training). Idempotent; a no-op for K = 1.
  void drop_non_dominant_subcenters();

  at::Tensor weight;  // [C·K, D], key "weight" as in arcface_torch's partial_fc
  at::Tensor bias;    // [C], softmax head only

 private:
  int64_t num_classes_;
  int sub_centers_;
  std::shared_ptr<MarginHead> head_;
  at::Tensor wins_;     // buffer "subcenter_wins" [C, K]: training samples each centre won
  at::Tensor allowed_;  // buffer "subcenter_allowed" [C, K]: centres still counted
};

}  // namespace ff::losses
