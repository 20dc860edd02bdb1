// MagFace: a norm-dependent angular margin plus the norm regulariser.
#include "losses/magface.h"

#include "losses/angular_margin.h"

#include <cmath>

#include "src/util/error.h"

namespace ff::losses {

MagFace::MagFace(double scale, const MagFaceOptions& o) : scale_(scale), options_(o) {
  if (!(o.lower_norm > 0 && o.upper_norm > o.lower_norm))
    fail("magface: need 0 < lower_norm < upper_norm, got {} and {}", o.lower_norm, o.upper_norm);
  if (!(o.lower_margin >= 0 && o.upper_margin >= o.lower_margin && o.upper_margin < M_PI / 2))
    fail("magface: need 0 <= lower_margin <= upper_margin < π/2, got {} and {}", o.lower_margin, o.upper_margin);
}

at::Tensor MagFace::margin_of(const at::Tensor& norms) const {
  const auto& o = options_;
  at::Tensor a = norms.clamp(o.lower_norm, o.upper_norm);
  return o.lower_margin + (o.upper_margin - o.lower_margin) * (a - o.lower_norm) / (o.upper_norm - o.lower_norm);
}

at::Tensor MagFace::logits(const at::Tensor& cosine, const at::Tensor& labels, const at::Tensor& norms) {
  if (!norms.defined() || norms.dim() != 1 || norms.size(0) != cosine.size(0))
    fail("magface needs the embeddings' norms [B] beside the cosines");
  const auto& o = options_;
  at::Tensor a = norms.to(cosine.scalar_type()).clamp(o.lower_norm, o.upper_norm);
  regularizer_ = o.lambda_g * (1.0 / a + a / (o.upper_norm * o.upper_norm)).mean();
  at::Tensor m = margin_of(a).unsqueeze(1);
  auto target = [&](const at::Tensor& cos_y) {
    at::Tensor c = cos_y.clamp(-1.0, 1.0);
    return with_arcface_fallback(c, m, cos_plus_margin(c, m));
  };
  return replace_target(cosine, labels, target) * scale_;
}

at::Tensor magface_quality(const at::Tensor& embeddings) { return embeddings.norm(2, 1); }

}  // namespace ff::losses
