// CosFace / AM-Softmax (Wang et al., CVPR 2018; Wang et al., SPL 2018): implements MarginHead.
//   target logit  s · (cos θ_y − m)
//   other logits  s · cos θ_j
// With m = 0 this is NormFace (Wang et al., ACM MM 2017): s · cos θ for every column.
// Usage: CosFace head(CosFaceOptions().scale(64).margin(0.35)); logits = head.forward(cos, labels);
#pragma once
#include "losses/margin_head.h"

namespace ff::losses {

struct CosFaceOptions {
  CosFaceOptions& scale(double v) { scale_ = v; return *this; }
  CosFaceOptions& margin(double v) { margin_ = v; return *this; }
  double scale_ = 64.0;
  double margin_ = 0.35;
};

class CosFace : public MarginHead {
 public:
  explicit CosFace(const CosFaceOptions& options);

 protected:
  at::Tensor logits(const at::Tensor& cosine, const at::Tensor& labels, const at::Tensor& norms) override;

 private:
  CosFaceOptions options_;
};

}  // namespace ff::losses
