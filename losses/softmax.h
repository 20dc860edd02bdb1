// Plain softmax: implements MarginHead with normalized() == false. The classifier hands it the
// raw logits x·Wᵀ + b of an unnormalised linear layer with bias; it returns them unchanged
// (no scale, no margin). The baseline the margin heads are compared against.
#pragma once
#include "losses/margin_head.h"

namespace ff::losses {

class Softmax : public MarginHead {
 public:
  bool normalized() const override { return false; }

 protected:
  at::Tensor logits(const at::Tensor& raw, const at::Tensor&, const at::Tensor&) override { return raw; }
};

}  // namespace ff::losses
