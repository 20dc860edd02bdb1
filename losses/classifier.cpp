// Full softmax classifier over normalised centres with a margin head.
#include "losses/classifier.h"

#include <torch/nn/functional/loss.h>
#include <torch/nn/functional/normalization.h>

#include "src/util/error.h"

namespace ff::losses {

namespace F = torch::nn::functional;

MarginClassifier::MarginClassifier(int64_t num_classes, int64_t embedding_size, std::shared_ptr<MarginHead> head)
    : head_(std::move(head)) {
  if (num_classes < 2) fail("the classifier needs at least 2 classes, got {}", num_classes);
  // arcface_torch initialises centres with N(0, 0.01).
  weight = register_parameter("weight", torch::randn({num_classes, embedding_size}) * 0.01);
  register_module("head", head_);
}

at::Tensor MarginClassifier::cosine(const at::Tensor& embeddings) const {
  auto x = F::normalize(embeddings, F::NormalizeFuncOptions().dim(1));
  auto w = F::normalize(weight, F::NormalizeFuncOptions().dim(1));
  return x.matmul(w.t()).clamp(-1.0, 1.0);
}

at::Tensor MarginClassifier::forward(const at::Tensor& embeddings, const at::Tensor& labels) {
  at::Tensor logits = head_->forward(cosine(embeddings.to(torch::kFloat)), labels);
  return F::cross_entropy(logits, labels);
}

}  // namespace ff::losses
