// ElasticFace-Arc: an angular margin drawn per sample from a normal distribution.
#include "losses/elasticface.h"

#include "losses/angular_margin.h"

#include <cmath>

#include "src/util/error.h"

namespace ff::losses {

ElasticFace::ElasticFace(double scale, double margin, double sigma) : scale_(scale), margin_(margin), sigma_(sigma) {
  if (!(margin >= 0 && margin < M_PI / 2)) fail("elasticface: margin must be in [0, π/2), got {}", margin);
  if (!(sigma >= 0)) fail("elasticface: sigma must be >= 0, got {}", sigma);
}

at::Tensor ElasticFace::logits(const at::Tensor& cosine, const at::Tensor& labels, const at::Tensor&) {
  margins_ = at::normal(margin_, sigma_, {cosine.size(0), 1}, c10::nullopt, cosine.options());
  auto target = [&](const at::Tensor& cos_y) {
    at::Tensor c = cos_y.clamp(-1.0, 1.0);
    return cos_plus_margin(c, margins_);
  };
  return replace_target(cosine, labels, target) * scale_;
}

}  // namespace ff::losses
