// Warmup followed by polynomial, cosine or multi-step decay.
#include "src/train/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "src/util/error.h"

namespace ff::train {

LrSchedule::LrSchedule(LrScheduleOptions options) : o_(std::move(options)) {
  if (o_.kind != "poly" && o_.kind != "cosine" && o_.kind != "multistep")
    fail("optim.schedule must be poly, cosine or multistep, got '{}'", o_.kind);
  if (o_.total_steps < 1) fail("the schedule needs at least one step, got {}", o_.total_steps);
  if (o_.warmup_steps < 0 || o_.warmup_steps > o_.total_steps)
    fail("warmup steps must be in [0, {}], got {}", o_.total_steps, o_.warmup_steps);
  if (o_.kind == "cosine" && o_.min_lr > o_.base_lr)
    fail("optim.min_lr {} is above optim.lr {}", o_.min_lr, o_.base_lr);
  if (!std::is_sorted(o_.milestones.begin(), o_.milestones.end()))
    fail("optim.milestones must be ascending");
}

double LrSchedule::lr(int64_t step) const {
  if (step < o_.warmup_steps) return o_.base_lr * static_cast<double>(step + 1) / static_cast<double>(o_.warmup_steps);
  if (o_.kind == "multistep") {
    const auto passed = std::upper_bound(o_.milestones.begin(), o_.milestones.end(), step) - o_.milestones.begin();
    return o_.base_lr * std::pow(o_.gamma, static_cast<double>(passed));
  }
  if (o_.total_steps == o_.warmup_steps) return o_.base_lr;
  const double p = std::clamp(static_cast<double>(step - o_.warmup_steps) /
                                  static_cast<double>(o_.total_steps - o_.warmup_steps),
                              0.0, 1.0);
  if (o_.kind == "cosine") return o_.min_lr + (o_.base_lr - o_.min_lr) * (1 + std::cos(std::numbers::pi * p)) / 2;
  return o_.base_lr * std::pow(1.0 - p, o_.power);
}

}  // namespace ff::train
