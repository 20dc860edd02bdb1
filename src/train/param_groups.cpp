// Parameter groups for SGD or AdamW, the centres' matching step, and global-norm gradient clipping.
#include "src/train/param_groups.h"

#include <cmath>

#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

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

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const ParameterGroups& groups, const OptimOptions& o,
                                                        std::vector<double>& lr_scales) {
  const bool adamw = o.optimizer == "adamw";
  if (!adamw && o.optimizer != "sgd") fail("optim.optimizer: expected sgd or adamw, got '{}'", o.optimizer);
  auto options = [&](double lr, double decay) -> std::unique_ptr<torch::optim::OptimizerOptions> {
    if (adamw)
      return std::make_unique<torch::optim::AdamWOptions>(
          torch::optim::AdamWOptions(lr).betas({o.beta1, o.beta2}).eps(o.eps).weight_decay(decay));
    return std::make_unique<torch::optim::SGDOptions>(torch::optim::SGDOptions(lr).momentum(o.momentum).weight_decay(decay));
  };
  std::vector<torch::optim::OptimizerParamGroup> param_groups;
  lr_scales.clear();
  auto add = [&](const std::vector<at::Tensor>& params, double decay, double scale) {
    if (params.empty()) return;
    param_groups.emplace_back(params, options(o.lr * scale, decay));
    lr_scales.push_back(scale);
  };
  add(groups.backbone_decay, o.weight_decay, 1.0);
  add(groups.backbone_no_decay, 0.0, 1.0);
  add(groups.head, head_weight_decay(o), o.head_lr_scale);
  if (param_groups.empty()) fail("the optimizer has no parameters to train");
  if (adamw)
    return std::make_unique<torch::optim::AdamW>(std::move(param_groups),
                                                 static_cast<torch::optim::AdamWOptions&>(*options(o.lr, o.weight_decay)));
  return std::make_unique<torch::optim::SGD>(std::move(param_groups),
                                             static_cast<torch::optim::SGDOptions&>(*options(o.lr, o.weight_decay)));
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr, const std::vector<double>& lr_scales) {
  auto& groups = optimizer.param_groups();
  if (groups.size() != lr_scales.size())
    fail("internal: {} optimizer groups but {} learning-rate scales", groups.size(), lr_scales.size());
  for (size_t i = 0; i < groups.size(); ++i) groups[i].options().set_lr(lr * lr_scales[i]);
}

losses::CentreStep centre_step(const OptimOptions& o, double lr) {
  losses::CentreStep c;
  c.rule = o.optimizer == "adamw" ? losses::CentreStep::Rule::adamw : losses::CentreStep::Rule::sgd;
  c.lr = lr * o.head_lr_scale;
  c.momentum = o.momentum;
  c.weight_decay = head_weight_decay(o);
  c.beta1 = o.beta1;
  c.beta2 = o.beta2;
  c.eps = o.eps;
  return c;
}

double clip_gradients(const std::vector<at::Tensor>& parameters, double max_norm) {
  std::vector<at::Tensor> with_grad;
  for (const auto& p : parameters)
    if (p.grad().defined()) with_grad.push_back(p);
  if (with_grad.empty()) return 0.0;
  return torch::nn::utils::clip_grad_norm_(with_grad, max_norm);
}

}  // namespace ff::train
