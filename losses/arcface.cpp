// ArcFace margin: exact gradient through cos(θ + m), insightface's fallback past π − m.
#include "losses/arcface.h"

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
  at::Tensor sin_y = (1.0 - c * c).clamp_min(1e-12).sqrt();
  at::Tensor with_margin = c * std::cos(m) - sin_y * std::sin(m);
  if (options_.easy_margin_) return at::where(c > 0, with_margin, c);
  return at::where(c > std::cos(M_PI - m), with_margin, c - m * std::sin(M_PI - m));
}

at::Tensor ArcFace::forward(const at::Tensor& cosine, const at::Tensor& labels) {
  TORCH_CHECK(cosine.dim() == 2 && labels.dim() == 1 && labels.size(0) == cosine.size(0),
              "ArcFace expects cosine [B, C] and labels [B], got ", cosine.sizes(), " and ", labels.sizes());
  // Rows whose target is not in these columns gather column 0 and write it back unchanged, so one
  // gather/scatter pair serves every row and autograd sees the margin only where it applies.
  at::Tensor valid = (labels >= 0).unsqueeze(1);
  at::Tensor safe = labels.clamp_min(0).unsqueeze(1);
  at::Tensor cos_y = cosine.gather(1, safe);
  at::Tensor target = at::where(valid, target_cosine(cos_y), cos_y);
  at::Tensor logits = cosine.scatter(1, safe, target);
  return logits * options_.scale_;
}

}  // namespace ff::losses
