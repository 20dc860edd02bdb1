// Combined margin (insightface's m1, m2, m3): implements MarginHead.
//   target logit  s · (cos(m1 θ_y + m2) − m3)          while m1 θ_y + m2 <= π
//   beyond that   s · (cos θ_y − m3 − δ)                (a target that keeps falling with θ)
//     δ = m2 sin m2 when m1 = 1: insightface's ArcFace fallback, so (1, m, 0) is exactly ArcFace;
//     δ = cos θ* + 1 otherwise, θ* = (π − m2)/m1: continuous at the switch;
//   easy_margin: cos θ_y − m3 whenever cos θ_y <= 0 (the margin only where θ_y < π/2);
//   other logits  s · cos θ_j.
// Any m1 >= 1, m2 in [0, π/2), m3 in [0, 1): insightface implements only m1 = 1 with m2 or m3 zero
// and raises on the rest. The gradient is the exact derivative (θ = atan2(sin θ, cos θ)), or the
// identity with straight_through. (1, 0, m) is CosFace; (1, 0, 0) NormFace.
#pragma once
#include "losses/margin_head.h"

namespace ff::losses {

struct CombinedMarginOptions {
  CombinedMarginOptions& scale(double v) { scale_ = v; return *this; }
  CombinedMarginOptions& m1(double v) { m1_ = v; return *this; }
  CombinedMarginOptions& m2(double v) { m2_ = v; return *this; }
  CombinedMarginOptions& m3(double v) { m3_ = v; return *this; }
  CombinedMarginOptions& easy_margin(bool v) { easy_margin_ = v; return *this; }
  CombinedMarginOptions& straight_through(bool v) { straight_through_ = v; return *this; }
  double scale_ = 64.0, m1_ = 1.0, m2_ = 0.5, m3_ = 0.0;
  bool easy_margin_ = false, straight_through_ = false;
};

class CombinedMargin : public MarginHead {
 public:
  explicit CombinedMargin(const CombinedMarginOptions& options);
  at::Tensor target_cosine(const at::Tensor& cos_y) const;

 protected:
  at::Tensor logits(const at::Tensor& cosine, const at::Tensor& labels, const at::Tensor& norms) override;

 private:
  CombinedMarginOptions options_;
};

}  // namespace ff::losses
