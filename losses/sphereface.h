// SphereFace / A-Softmax (Liu et al., CVPR 2017): implements MarginHead.
//   ψ(θ) = (−1)^k cos(mθ) − 2k  for θ in [kπ/m, (k+1)π/m], k = 0..m−1, integer m (4)
//   target logit  s · (λ cos θ_y + ψ(θ_y)) / (1 + λ)
//   other logits  s · cos θ_j
//   λ = max(λ_min, λ_base · (1 + γ · step)^(−power)): the annealing schedule that starts near
//   softmax and tightens the margin as training goes (1000, 0.12, 1, 5 in the paper's code).
// On L2-normalised features with scale s (the paper multiplies by |x|; normalised features are
// how SphereFace is run with the other heads). cos(mθ) is the Chebyshev polynomial T_m(cos θ), so
// values and the exact gradient need no arccos; only k (piecewise constant) uses θ.
// The step counter is a buffer: it is saved in checkpoints and resumes the schedule.
#pragma once
#include "losses/margin_head.h"

namespace ff::losses {

class SphereFace : public MarginHead {
 public:
  SphereFace(double scale, const SphereFaceOptions& options);
  void on_step(int64_t step) override;
  double lambda() const;  // λ at the current step
  at::Tensor psi(const at::Tensor& cos_y) const;  // ψ(θ) from cos θ

 protected:
  at::Tensor logits(const at::Tensor& cosine, const at::Tensor& labels, const at::Tensor& norms) override;

 private:
  double scale_;
  SphereFaceOptions options_;
  at::Tensor step_;  // buffer "step", int64 scalar
};

}  // namespace ff::losses
