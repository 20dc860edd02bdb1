// CurricularFace (Huang et al., CVPR 2020): implements MarginHead.
//   target logit  s · cos(θ_y + m), with ArcFace's linear fallback past π − m
//   other logits  s · cos θ_j                    when cos θ_j <= cos(θ_y + m) (easy negatives)
//                 s · cos θ_j (t + cos θ_j)       otherwise (hard negatives, re-weighted)
//   t ← (1 − α) t + α · mean_batch(cos θ_y) before each use (α = loss.curricular_momentum, 0.01),
//   so hard negatives count little early (t ≈ 0) and more as training matures.
// t is a buffer (saved in checkpoints) and is updated only in training mode, from the whole global
// batch's targets under Partial FC (set_batch_targets). The gradient treats
// t as a constant (it is a running statistic), as the paper's code does.
#pragma once
#include "losses/margin_head.h"

namespace ff::losses {

class CurricularFace : public MarginHead {
 public:
  CurricularFace(double scale, double margin, double momentum);
  double t() const { return t_.item<double>(); }
  bool uses_batch_targets() const override { return true; }

 protected:
  at::Tensor logits(const at::Tensor& cosine, const at::Tensor& labels, const at::Tensor& norms) override;

 private:
  double scale_, margin_, momentum_;
  at::Tensor t_;  // buffer "t"
};

}  // namespace ff::losses
