// Full softmax classifier over normalised (sub-)centres with a margin head.
#include "losses/classifier.h"

#include <torch/nn/functional/loss.h>
#include <torch/nn/functional/normalization.h>

#include "src/util/error.h"

namespace ff::losses {

namespace F = torch::nn::functional;

MarginClassifier::MarginClassifier(int64_t num_classes, int64_t embedding_size, std::shared_ptr<MarginHead> head)
    : num_classes_(num_classes), sub_centers_(head->sub_centers()), head_(std::move(head)) {
  if (num_classes < 2) fail("the classifier needs at least 2 classes, got {}", num_classes);
  // arcface_torch initialises centres with N(0, 0.01).
  weight = register_parameter("weight", torch::randn({num_classes * sub_centers_, embedding_size}) * 0.01);
  if (!head_->normalized()) bias = register_parameter("bias", torch::zeros({num_classes}));
  if (sub_centers_ > 1) {
    wins_ = register_buffer("subcenter_wins", torch::zeros({num_classes, sub_centers_}, torch::kLong));
    allowed_ = register_buffer("subcenter_allowed", torch::ones({num_classes, sub_centers_}, torch::kBool));
  }
  register_module("head", head_);
}

at::Tensor MarginClassifier::centre_cosines(const at::Tensor& embeddings) const {
  auto x = F::normalize(embeddings, F::NormalizeFuncOptions().dim(1));
  auto w = F::normalize(weight, F::NormalizeFuncOptions().dim(1));
  at::Tensor all = x.matmul(w.t()).clamp(-1.0, 1.0);
  if (sub_centers_ == 1) return all;
  at::Tensor per_centre = all.view({all.size(0), num_classes_, sub_centers_});
  // Dropped centres are pushed below any cosine so the max never picks them.
  return per_centre.masked_fill(~allowed_.unsqueeze(0), -2.0);
}

at::Tensor MarginClassifier::cosine(const at::Tensor& embeddings) const {
  at::Tensor c = centre_cosines(embeddings);
  return sub_centers_ == 1 ? c : c.amax(2);
}

at::Tensor MarginClassifier::forward(const at::Tensor& embeddings, const at::Tensor& labels) {
  at::Tensor x = embeddings.to(torch::kFloat);
  if (!head_->normalized()) return F::cross_entropy(head_->forward(x.matmul(weight.t()) + bias, labels), labels);
  at::Tensor cosines = centre_cosines(x);
  if (sub_centers_ > 1) {
    if (is_training()) {
      // Which of its class's centres each sample is nearest to: the counts decide dominance.
      torch::NoGradGuard no_grad;
      at::Tensor own = cosines.gather(1, labels.view({-1, 1, 1}).expand({-1, 1, sub_centers_})).squeeze(1);
      wins_.index_put_({labels, own.argmax(1)}, at::ones_like(labels), /*accumulate=*/true);
    }
    cosines = cosines.amax(2);
  }
  at::Tensor norms = head_->needs_norms() ? x.norm(2, 1) : at::Tensor();
  at::Tensor loss = F::cross_entropy(head_->forward(cosines, labels, norms), labels);
  if (at::Tensor extra = head_->regularizer(); extra.defined()) loss = loss + extra;
  return loss;
}

void keep_dominant_subcenters(const at::Tensor& wins, at::Tensor& allowed) {
  torch::NoGradGuard no_grad;
  at::Tensor dominant = wins.argmax(1, /*keepdim=*/true);
  allowed.zero_();
  allowed.scatter_(1, dominant, true);
}

void MarginClassifier::drop_non_dominant_subcenters() {
  if (sub_centers_ > 1) keep_dominant_subcenters(wins_, allowed_);
}

}  // namespace ff::losses
