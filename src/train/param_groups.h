// The optimizer (SGD or AdamW) over parameter groups (backbone with and without weight decay, head)
// with their learning-rate scales, the matching step for the classifier centres, and gradient
// clipping by global norm.
#pragma once
#include <memory>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/optim/optimizer.h>

#include "losses/partial_fc.h"

#include "src/train/optim_options.h"

namespace ff::train {

struct ParameterGroups {
  std::vector<at::Tensor> backbone_decay;     // weights with weight decay
  std::vector<at::Tensor> backbone_no_decay;  // 1-D parameters when optim.no_decay_bn_bias (BN, PReLU, biases)
  std::vector<at::Tensor> head;               // the objective's dense parameters (centres step themselves)
  std::vector<at::Tensor> all() const;
};

// Splits `backbone` (its parameters in registration order) and `head`.
ParameterGroups split_parameters(const std::vector<at::Tensor>& backbone, const std::vector<at::Tensor>& head,
                                 bool no_decay_bn_bias);

// The head's weight decay: optim.head_weight_decay, or optim.weight_decay when that is < 0.
double head_weight_decay(const OptimOptions& options);

// optim.optimizer (SGD with optim.momentum, or AdamW with optim.beta1/beta2/eps) over the non-empty
// groups: backbone (optim.weight_decay), backbone without decay (0), head (head_weight_decay()).
// `lr_scales` gets one entry per group of the optimizer: 1, 1, optim.head_lr_scale.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const ParameterGroups& groups, const OptimOptions& options,
                                                        std::vector<double>& lr_scales);

// Sets each group's lr to lr x its scale.
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr, const std::vector<double>& lr_scales);

// The classifier centres' step at backbone lr `lr`: the same rule, lr x optim.head_lr_scale and
// head_weight_decay().
losses::CentreStep centre_step(const OptimOptions& options, double lr);

// Scales the gradients of `parameters` so that their global L2 norm is at most max_norm (when it
// exceeds it); returns the norm before clipping. Parameters without a gradient are skipped.
double clip_gradients(const std::vector<at::Tensor>& parameters, double max_norm);

}  // namespace ff::train
