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
  // Every row's target cosine: from these columns, or (Partial FC) from the rank holding it.
  at::Tensor row_cos = cos_y.detach(), has_target = valid;
  if (batch_targets_.defined()) {
    at::Tensor all = batch_targets_.to(cos_y.scalar_type()).unsqueeze(1);
    has_target = ~at::isnan(all);
    row_cos = at::where(has_target, all, row_cos).clamp(-1.0, 1.0);
    batch_targets_ = at::Tensor();
  }
  if (is_training()) {
    torch::NoGradGuard no_grad;
    at::Tensor valid_cos = row_cos.masked_select(has_target);
    if (valid_cos.numel() > 0) t_.mul_(1 - momentum_).add_(valid_cos.mean().to(at::kDouble) * momentum_);
  }
  const double t = t_.item<double>();
  // Hard negatives relative to each row's own margined target; rows without a target have none.
  at::Tensor hard = (cosine > cos_plus_margin(row_cos, m)) & has_target;
  at::Tensor reweighted = at::where(hard, cosine * (t + cosine), cosine);
  at::Tensor safe = labels.clamp_min(0).unsqueeze(1);
  // Rows whose target is not among these columns keep column 0 as re-weighted (it is a negative).
  return reweighted.scatter(1, safe, at::where(valid, target, reweighted.gather(1, safe))) * scale_;
}

}  // namespace ff::losses
