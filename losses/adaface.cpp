// AdaFace: a margin that moves between angular and additive with the feature norm.
#include "losses/adaface.h"

#include <cmath>

#include "src/util/error.h"

namespace ff::losses {

namespace {
constexpr double kEps = 1e-3;
}

AdaFace::AdaFace(double scale, double margin, const AdaFaceOptions& o) : scale_(scale), margin_(margin), options_(o) {
  if (!(margin >= 0 && margin < M_PI / 2)) fail("adaface: margin must be in [0, π/2), got {}", margin);
  if (!(o.h > 0)) fail("adaface: h must be > 0, got {}", o.h);
  if (!(o.momentum > 0 && o.momentum <= 1)) fail("adaface: momentum must be in (0, 1], got {}", o.momentum);
  mean_ = register_buffer("norm_mean", at::full({}, 20.0, at::kDouble));
  std_ = register_buffer("norm_std", at::full({}, 100.0, at::kDouble));
}

at::Tensor AdaFace::logits(const at::Tensor& cosine, const at::Tensor& labels, const at::Tensor& norms) {
  if (!norms.defined() || norms.dim() != 1 || norms.size(0) != cosine.size(0))
    fail("adaface needs the embeddings' norms [B] beside the cosines");
  at::Tensor safe_norms = norms.detach().to(at::kDouble).clamp_min(0.001);
  if (is_training() && safe_norms.size(0) > 1) {
    torch::NoGradGuard no_grad;
    const double a = options_.momentum;
    mean_.mul_(1 - a).add_(safe_norms.mean() * a);
    std_.mul_(1 - a).add_(safe_norms.std() * a);
  }
  at::Tensor z = ((safe_norms - mean_) / (std_ + kEps) * options_.h).clamp(-1.0, 1.0).to(cosine.scalar_type()).unsqueeze(1);
  const double m = margin_;
  auto target = [&](const at::Tensor& cos_y) {
    at::Tensor c = cos_y.clamp(-1.0, 1.0);
    at::Tensor theta = at::atan2(sine_of(c), c);
    return at::cos((theta - m * z).clamp(kEps, M_PI - kEps)) - (m * z + m);
  };
  return replace_target(cosine, labels, target) * scale_;
}

}  // namespace ff::losses
