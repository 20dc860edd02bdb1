// ElasticFace-Arc (Boutros et al., CVPRW 2022): implements MarginHead.
//   m_i ~ N(m, σ) drawn per sample and step (σ = loss.elastic_sigma, 0.05; m = 0.5)
//   target logit  s · cos(θ_y + m_i)   (the paper's form, without ArcFace's fallback)
//   other logits  s · cos θ_j
// The random margin relaxes ArcFace's single fixed decision boundary. Draws come from LibTorch's
// default generator (seeded by the run's `seed`).
#pragma once
#include "losses/margin_head.h"

namespace ff::losses {

class ElasticFace : public MarginHead {
 public:
  ElasticFace(double scale, double margin, double sigma);
  const at::Tensor& last_margins() const { return margins_; }  // [B, 1] of the last forward

 protected:
  at::Tensor logits(const at::Tensor& cosine, const at::Tensor& labels, const at::Tensor& norms) override;

 private:
  double scale_, margin_, sigma_;
  at::Tensor margins_;
};

}  // namespace ff::losses
