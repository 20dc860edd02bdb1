// Combined margin cos(m1 θ + m2) − m3 for any m1, m2, m3, with a monotone fallback past π.
#include "losses/combined.h"

#include <cmath>

#include "src/util/error.h"

namespace ff::losses {

CombinedMargin::CombinedMargin(const CombinedMarginOptions& o) : options_(o) {
  if (!(o.m1_ >= 1)) fail("combined margin: m1 must be >= 1, got {}", o.m1_);
  if (!(o.m2_ >= 0 && o.m2_ < M_PI / 2)) fail("combined margin: m2 must be in [0, π/2), got {}", o.m2_);
  if (!(o.m3_ >= 0 && o.m3_ < 1)) fail("combined margin: m3 must be in [0, 1), got {}", o.m3_);
  if (!(o.scale_ > 0)) fail("combined margin: scale must be > 0, got {}", o.scale_);
}

at::Tensor CombinedMargin::target_cosine(const at::Tensor& cos_y) const {
  const double m1 = options_.m1_, m2 = options_.m2_, m3 = options_.m3_;
  at::Tensor c = cos_y.clamp(-1.0, 1.0);
  at::Tensor theta = at::atan2(sine_of(c), c);
  at::Tensor with_margin = at::cos(theta * m1 + m2) - m3;
  if (options_.easy_margin_) return at::where(c > 0, with_margin, c - m3);
  const double switch_angle = (M_PI - m2) / m1;
  const double drop = m1 == 1.0 ? m2 * std::sin(m2) : std::cos(switch_angle) + 1.0;
  return at::where(c > std::cos(switch_angle), with_margin, c - m3 - drop);
}

at::Tensor CombinedMargin::logits(const at::Tensor& cosine, const at::Tensor& labels, const at::Tensor&) {
  auto target = [this](const at::Tensor& cos_y) { return target_cosine(cos_y); };
  return replace_target(cosine, labels, target, options_.straight_through_) * options_.scale_;
}

}  // namespace ff::losses
