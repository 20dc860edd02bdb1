// MagFace (Meng et al., CVPR 2021): implements MarginHead; needs the embeddings' norms.
//   a = clamp(|x|, l_a, u_a)                       (l_a = 10, u_a = 110)
//   m(a) = l_m + (u_m − l_m)(a − l_a)/(u_a − l_a)   (l_m = 0.45, u_m = 0.8): larger norm, larger margin
//   target logit  s · cos(θ_y + m(a)), ArcFace's linear fallback past π − m(a)
//   other logits  s · cos θ_j
//   regulariser   λ_g · mean_batch g(a),  g(a) = 1/a + a/u_a²  (λ_g = 35), added to the loss
// Gradients flow into the norm through both m(a) and g(a): that is what ties the norm to quality.
// After training, |x| is the face-quality score (`magface_quality`).
#pragma once
#include "losses/margin_head.h"

namespace ff::losses {

class MagFace : public MarginHead {
 public:
  MagFace(double scale, const MagFaceOptions& options);
  bool needs_norms() const override { return true; }
  at::Tensor regularizer() const override { return regularizer_; }
  at::Tensor margin_of(const at::Tensor& norms) const;  // m(a)

 protected:
  at::Tensor logits(const at::Tensor& cosine, const at::Tensor& labels, const at::Tensor& norms) override;

 private:
  double scale_;
  MagFaceOptions options_;
  at::Tensor regularizer_;
};

// MagFace's quality score of each embedding [B, D]: its L2 norm [B].
at::Tensor magface_quality(const at::Tensor& embeddings);

}  // namespace ff::losses
