// Parameter groups for SGD and global-norm gradient clipping.
#include "src/train/param_groups.h"

#include <cmath>

#include <torch/nn/utils/clip_grad.h>

#include "src/util/error.h"

namespace ff::train {

std::vector<at::Tensor> ParameterGroups::all() const {
  std::vector<at::Tensor> out = backbone_decay;
  out.insert(out.end(), backbone_no_decay.begin(), backbone_no_decay.end());
  out.insert(out.end(), head.begin(), head.end());
  return out;
}

ParameterGroups split_parameters(const std::vector<at::Tensor>& backbone, const std::vector<at::Tensor>& head,
                                 bool no_decay_bn_bias) {
  ParameterGroups g;
  for (const auto& p : backbone) (no_decay_bn_bias && p.dim() <= 1 ? g.backbone_no_decay : g.backbone_decay).push_back(p);
  g.head = head;
  return g;
}

double head_weight_decay(const OptimOptions& o) { return o.head_weight_decay < 0 ? o.weight_decay : o.head_weight_decay; }

std::unique_ptr<torch::optim::SGD> make_sgd(const ParameterGroups& groups, const OptimOptions& o,
                                            std::vector<double>& lr_scales) {
  std::vector<torch::optim::OptimizerParamGroup> param_groups;
  lr_scales.clear();
  auto add = [&](const std::vector<at::Tensor>& params, double decay, double scale) {
    if (params.empty()) return;
    param_groups.emplace_back(params, std::make_unique<torch::optim::SGDOptions>(
                                          torch::optim::SGDOptions(o.lr * scale).momentum(o.momentum).weight_decay(decay)));
    lr_scales.push_back(scale);
  };
  add(groups.backbone_decay, o.weight_decay, 1.0);
  add(groups.backbone_no_decay, 0.0, 1.0);
  add(groups.head, head_weight_decay(o), o.head_lr_scale);
  if (param_groups.empty()) fail("the optimizer has no parameters to train");
  return std::make_unique<torch::optim::SGD>(std::move(param_groups), torch::optim::SGDOptions(o.lr));
}

void set_learning_rate(torch::optim::SGD& optimizer, double lr, const std::vector<double>& lr_scales) {
  auto& groups = optimizer.param_groups();
  if (groups.size() != lr_scales.size())
    fail("internal: {} optimizer groups but {} learning-rate scales", groups.size(), lr_scales.size());
  for (size_t i = 0; i < groups.size(); ++i)
    static_cast<torch::optim::SGDOptions&>(groups[i].options()).lr(lr * lr_scales[i]);
}

double clip_gradients(const std::vector<at::Tensor>& parameters, double max_norm) {
  std::vector<at::Tensor> with_grad;
  for (const auto& p : parameters)
    if (p.grad().defined()) with_grad.push_back(p);
  if (with_grad.empty()) return 0.0;
  return torch::nn::utils::clip_grad_norm_(with_grad, max_norm);
}

}  // namespace ff::train
