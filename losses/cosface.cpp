// CosFace: an additive cosine margin on the target column; NormFace when the margin is 0.
#include "losses/cosface.h"

#include "src/util/error.h"

namespace ff::losses {

CosFace::CosFace(const CosFaceOptions& options) : options_(options) {
  if (!(options.margin_ >= 0 && options.margin_ < 1)) fail("CosFace margin must be in [0, 1), got {}", options.margin_);
  if (!(options.scale_ > 0)) fail("CosFace scale must be > 0, got {}", options.scale_);
}

at::Tensor CosFace::logits(const at::Tensor& cosine, const at::Tensor& labels, const at::Tensor&) {
  // Subtracting m · onehot (zero rows where the target is not in these columns) keeps one
  // dense op and the exact gradient, which is the identity on every entry.
  at::Tensor margin = at::zeros_like(cosine);
  at::Tensor valid = (labels >= 0).unsqueeze(1).to(cosine.scalar_type());
  margin.scatter_(1, labels.clamp_min(0).unsqueeze(1), valid * options_.margin_);
  return (cosine - margin) * options_.scale_;
}

}  // namespace ff::losses
