// Warmup + polynomial decay, stepped once per optimizer step:
//   step < W:  lr = base · (step + 1) / W        (the first step already trains, at base/W)
//   step >= W: lr = base · (1 − (step − W) / (T − W))^power
// with W warmup steps and T total steps. arcface_torch's PolynomialLRWarmup starts at 0 instead;
// FaceForge skips that wasted zero-lr step.
#pragma once
#include <cstdint>

namespace ff::train {

class WarmupPolynomial {
 public:
  WarmupPolynomial(double base_lr, int64_t warmup_steps, int64_t total_steps, double power);
  double lr(int64_t step) const;

 private:
  double base_;
  int64_t warmup_;
  int64_t total_;
  double power_;
};

}  // namespace ff::train
