// ArcFace margin: exact gradient through cos(θ + m), insightface's fallback past π − m.
#include "losses/arcface.h"

#include "losses/angular_margin.h"

#include <cmath>

#include "src/util/error.h"

namespace ff::losses {

ArcFace::ArcFace(const ArcFaceOptions& options) : options_(options) {
  if (!(options.margin_ >= 0 && options.margin_ < M_PI / 2))
    fail("ArcFace margin must be in [0, π/2), got {}", options.margin_);
  if (!(options.scale_ > 0)) fail("ArcFace scale must be > 0, got {}", options.scale_);
}

at::Tensor ArcFace::target_cosine(const at::Tensor& cos_y) const {
  const double m = options_.margin_;
  // Rounding can push |cos| past 1; the floor under sin² keeps sqrt's derivative finite at θ = 0
  // (it only changes values for θ < 1e-6).
  at::Tensor c = cos_y.clamp(-1.0, 1.0);
  at::Tensor with_margin = cos_plus_margin(c, m);
  if (options_.easy_margin_) return at::where(c > 0, with_margin, c);
  return with_arcface_fallback(c, m, with_margin);
}

at::Tensor ArcFace::logits(const at::Tensor& cosine, const at::Tensor& labels, const at::Tensor&) {
  auto target = [this](const at::Tensor& cos_y) { return target_cosine(cos_y); };
  return replace_target(cosine, labels, target, options_.straight_through_) * options_.scale_;
}

}  // namespace ff::losses
