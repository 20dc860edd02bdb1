// The additive angular margin shared by the ArcFace family (ArcFace, CurricularFace, MagFace,
// ElasticFace), for one margin m (double) or one per row (tensor [B, 1]).
#pragma once
#include <cmath>

#include <ATen/Functions.h>

#include "losses/margin_head.h"

namespace ff::losses {

// cos(θ + m) from cos θ: cos θ cos m − sin θ sin m, with sin θ floored as in sine_of().
template <typename Margin>
at::Tensor cos_plus_margin(const at::Tensor& cos_theta, const Margin& m) {
  using std::cos;
  using std::sin;
  return cos_theta * cos(m) - sine_of(cos_theta) * sin(m);
}

// insightface's rule: `with_margin` while cos θ > cos(π − m), else the linear fallback
// cos θ − m sin(π − m), which keeps the target decreasing once θ + m would pass π.
template <typename Margin>
at::Tensor with_arcface_fallback(const at::Tensor& cos_theta, const Margin& m, const at::Tensor& with_margin) {
  using std::cos;
  using std::sin;
  return at::where(cos_theta > cos(M_PI - m), with_margin, cos_theta - m * sin(M_PI - m));
}

}  // namespace ff::losses
