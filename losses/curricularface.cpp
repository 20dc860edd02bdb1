// CurricularFace: ArcFace target plus adaptively re-weighted hard negatives.
#include "losses/curricularface.h"

#include "losses/angular_margin.h"

#include <cmath>

#include "src/util/error.h"

namespace ff::losses {

CurricularFace::CurricularFace(double scale, double margin, double momentum)
    : scale_(scale), margin_(margin), momentum_(momentum) {
  if (!(margin >= 0 && margin < M_PI / 2)) fail("curricularface: margin must be in [0, π/2), got {}", margin);
  if (!(momentum > 0 && momentum <= 1)) fail("curricularface: momentum must be in (0, 1], got {}", momentum);
  t_ = register_buffer("t", at::zeros({}, at::kDouble));
}

at::Tensor CurricularFace::logits(const at::Tensor& cosine, const at::Tensor& labels, const at::Tensor&) {
  const double m = margin_;
  at::Tensor valid = (labels >= 0).unsqueeze(1);
  at::Tensor cos_y = gather_target(cosine, labels).clamp(-1.0, 1.0);
  at::Tensor cos_ym = cos_plus_margin(cos_y, m);
  at::Tensor target = with_arcface_fallback(cos_y, m, cos_ym);
  if (is_training()) {
    torch::NoGradGuard no_grad;
    at::Tensor valid_cos = cos_y.masked_select(valid);
    if (valid_cos.numel() > 0) t_.mul_(1 - momentum_).add_(valid_cos.mean().to(at::kDouble) * momentum_);
  }
  const double t = t_.item<double>();
  // Hard negatives relative to each row's own margined target; rows without a target have none.
  at::Tensor hard = (cosine > cos_ym.detach()) & valid;
  at::Tensor reweighted = at::where(hard, cosine * (t + cosine), cosine);
  at::Tensor safe = labels.clamp_min(0).unsqueeze(1);
  return reweighted.scatter(1, safe, at::where(valid, target, cos_y)) * scale_;
}

}  // namespace ff::losses
