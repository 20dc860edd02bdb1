// The end of a training step, after backward: gradients averaged over the ranks, unscaled and
// checked when fp16 loss scaling is on (every rank skips a step with a non-finite gradient
// together), clipped, then the optimizer and the classifier centres step.
#pragma once
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/optim/optimizer.h>

#include "losses/partial_fc.h"

namespace ff::dist {
class World;
}

namespace ff::train {

class LossScaler;
class Objective;

struct StepOptions {
  double clip_grad_norm = 0;  // > 0: clip `clipped` to this global L2 norm
  double bucket_mb = 25;      // gradient all-reduce bucket size
};

struct StepOutcome {
  bool skipped = false;   // a gradient was Inf/NaN under loss scaling: nothing moved
  double grad_norm = 0;   // of `clipped` before clipping (0 when clipping is off or the step was skipped)
};

// `parameters`: every dense trainable tensor (averaged over ranks); `clipped`: the subset clipped
// together. The classifier centres' own gradients are unscaled and checked with the rest.
StepOutcome apply_step(dist::World& world, const std::vector<at::Tensor>& parameters,
                       const std::vector<at::Tensor>& clipped, torch::optim::Optimizer& optimizer, Objective& objective,
                       const losses::CentreStep& centres, LossScaler& scaler, const StepOptions& options);

}  // namespace ff::train
