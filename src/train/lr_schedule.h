// Learning-rate schedules, stepped once per optimizer step (never per micro-batch). All start
// with the same linear warmup over W steps, whose first step already trains:
//   step < W:  lr = base · (step + 1) / W
// then, with T total steps and p = (step − W) / (T − W):
//   poly       base · (1 − p)^power                           (arcface_torch's PolynomialLRWarmup,
//                                                                which starts its warmup at 0 instead)
//   cosine     min_lr + (base − min_lr) · (1 + cos(π p)) / 2
//   multistep  base · gamma^k, k = milestones (in steps) ≤ step (torch's MultiStepLR, warmup first)
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ff::train {

struct LrScheduleOptions {
  std::string kind = "poly";        // poly | cosine | multistep
  double base_lr = 0.1;
  int64_t warmup_steps = 0;         // in [0, total_steps]
  int64_t total_steps = 1;          // >= 1
  double power = 2.0;               // poly
  double min_lr = 0.0;              // cosine floor, <= base_lr
  std::vector<int64_t> milestones;  // multistep, ascending, in steps
  double gamma = 0.1;               // multistep factor per milestone
};

class LrSchedule {
 public:
  // Throws ff::Error naming the bad setting (kind, warmup, min_lr, unsorted milestones).
  explicit LrSchedule(LrScheduleOptions options);
  double lr(int64_t step) const;

 private:
  LrScheduleOptions o_;
};

}  // namespace ff::train
