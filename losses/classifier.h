// The full (single-process) classifier: normalised class centres W [C, D], any MarginHead, and
// softmax cross-entropy. Partial FC will call the same MarginHead on its sampled shards.
//   loss = CE(head(normalize(x) · normalize(W)ᵀ, labels), labels), mean over the batch.
// Usage: MarginClassifier fc(num_classes, 512, make_margin_head(opts)); auto loss = fc.forward(emb, y);
#pragma once
#include <memory>

#include "losses/margin_head.h"

namespace ff::losses {

class MarginClassifier : public torch::nn::Module {
 public:
  MarginClassifier(int64_t num_classes, int64_t embedding_size, std::shared_ptr<MarginHead> head);
  // embeddings [B, D] float, labels [B] int64 in [0, C): returns the scalar mean loss.
  at::Tensor forward(const at::Tensor& embeddings, const at::Tensor& labels);
  // Cosines for all classes (no margin), e.g. for training-accuracy logging.
  at::Tensor cosine(const at::Tensor& embeddings) const;
  int64_t num_classes() const { return weight.size(0); }

  at::Tensor weight;  // [C, D], key "weight" as in arcface_torch's partial_fc
 private:
  std::shared_ptr<MarginHead> head_;
};

}  // namespace ff::losses
