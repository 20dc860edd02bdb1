// AdaFace (Kim et al., CVPR 2022): implements MarginHead; needs the embeddings' norms.
//   ẑ = clip(h · (|x| − μ)/(σ + ε), −1, 1)   μ, σ: EMAs (momentum 0.01) of the batch mean and
//                                              standard deviation of |x| (no gradient), h = 0.333
//   g_angle = −m ẑ,  g_add = m ẑ + m          (m = 0.4)
//   target logit  s · (cos(clip(θ_y + g_angle, ε, π − ε)) − g_add)
//   other logits  s · cos θ_j
// High-norm (high-quality) samples get an angular margin like ArcFace, low-norm ones an additive
// margin like CosFace. μ and σ are buffers (start 20 and 100, as the paper's code), saved in
// checkpoints and updated only in training mode.
#pragma once
#include "losses/margin_head.h"

namespace ff::losses {

class AdaFace : public MarginHead {
 public:
  AdaFace(double scale, double margin, const AdaFaceOptions& options);
  bool needs_norms() const override { return true; }
  double norm_mean() const { return mean_.item<double>(); }
  double norm_std() const { return std_.item<double>(); }

 protected:
  at::Tensor logits(const at::Tensor& cosine, const at::Tensor& labels, const at::Tensor& norms) override;

 private:
  double scale_, margin_;
  AdaFaceOptions options_;
  at::Tensor mean_, std_;  // buffers "norm_mean", "norm_std"
};

}  // namespace ff::losses
