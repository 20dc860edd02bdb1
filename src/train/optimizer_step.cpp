// Average, unscale and check, clip, step.
#include "src/train/optimizer_step.h"

#include "src/dist/data_parallel.h"
#include "src/dist/world.h"
#include "src/train/loss_scaler.h"
#include "src/train/objective.h"
#include "src/train/param_groups.h"

namespace ff::train {

StepOutcome apply_step(dist::World& world, const std::vector<at::Tensor>& parameters,
                       const std::vector<at::Tensor>& clipped, torch::optim::Optimizer& optimizer, Objective& objective,
                       const losses::CentreStep& centres, LossScaler& scaler, const StepOptions& options) {
  dist::average_gradients(world, parameters, options.bucket_mb);
  StepOutcome outcome;
  if (scaler.enabled()) {
    std::vector<at::Tensor> gradients;
    for (const auto& p : parameters)
      if (p.grad().defined()) gradients.push_back(p.grad());
    for (const auto& classifier : objective.classifiers())
      for (auto& g : classifier->pending_gradients()) gradients.push_back(g);
    // Each rank checked its own classifier shard: the step is skipped everywhere if anywhere.
    at::Tensor bad = at::tensor({scaler.unscale(gradients) ? 0.0 : 1.0}, at::kDouble);
    world.all_reduce(bad);
    outcome.skipped = bad.item<double>() > 0;
    scaler.update(outcome.skipped);
    if (outcome.skipped) {
      for (const auto& classifier : objective.classifiers()) classifier->discard_pending();
      return outcome;
    }
  }
  // After averaging, so every rank clips the same gradient by the same factor.
  if (options.clip_grad_norm > 0) outcome.grad_norm = clip_gradients(clipped, options.clip_grad_norm);
  optimizer.step();
  objective.update_classifiers(centres);
  return outcome;
}

}  // namespace ff::train
