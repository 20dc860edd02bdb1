// Warmup + polynomial learning-rate schedule.
#include "src/train/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "src/util/error.h"

namespace ff::train {

WarmupPolynomial::WarmupPolynomial(double base_lr, int64_t warmup_steps, int64_t total_steps, double power)
    : base_(base_lr), warmup_(warmup_steps), total_(total_steps), power_(power) {
  if (total_steps < 1) fail("the schedule needs at least one step, got {}", total_steps);
  if (warmup_steps < 0 || warmup_steps > total_steps)
    fail("warmup steps must be in [0, {}], got {}", total_steps, warmup_steps);
}

double WarmupPolynomial::lr(int64_t step) const {
  if (step < warmup_) return base_ * static_cast<double>(step + 1) / static_cast<double>(warmup_);
  if (total_ == warmup_) return base_;
  double progress = static_cast<double>(step - warmup_) / static_cast<double>(total_ - warmup_);
  return base_ * std::pow(std::max(0.0, 1.0 - progress), power_);
}

}  // namespace ff::train
