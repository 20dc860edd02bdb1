// ArcFace (Deng et al., CVPR 2019): implements MarginHead.
//   target logit  s · cos(θ_y + m)            while cos θ_y > cos(π − m)
//                 s · (cos θ_y − m sin(π − m)) otherwise (insightface's linear fallback, which keeps
//                 the target monotonic in θ once θ_y + m would pass π);
//   with easy_margin: s · cos(θ_y + m) when cos θ_y > 0, else s · cos θ_y.
//   other logits  s · cos θ_j.
// The gradient is the exact derivative of that function (cos(θ+m) = cos θ cos m − sin θ sin m with
// sin θ = sqrt(1 − cos² θ)); with straight_through, arcface_torch's: the identity on the target.
// insightface's defaults are s = 64, m = 0.5.
// Usage: ArcFace head(ArcFaceOptions().scale(64).margin(0.5)); logits = head.forward(cos, labels);
#pragma once
#include "losses/margin_head.h"

namespace ff::losses {

struct ArcFaceOptions {
  ArcFaceOptions& scale(double v) { scale_ = v; return *this; }
  ArcFaceOptions& margin(double v) { margin_ = v; return *this; }
  ArcFaceOptions& easy_margin(bool v) { easy_margin_ = v; return *this; }
  ArcFaceOptions& straight_through(bool v) { straight_through_ = v; return *this; }
  double scale_ = 64.0;
  double margin_ = 0.5;
  bool easy_margin_ = false;
  bool straight_through_ = false;
};

class ArcFace : public MarginHead {
 public:
  explicit ArcFace(const ArcFaceOptions& options);
  // The adjusted target cosine (before scaling) for cos θ_y values; exposed for tests.
  at::Tensor target_cosine(const at::Tensor& cos_y) const;

 protected:
  at::Tensor logits(const at::Tensor& cosine, const at::Tensor& labels, const at::Tensor& norms) override;

 private:
  ArcFaceOptions options_;
};

}  // namespace ff::losses
