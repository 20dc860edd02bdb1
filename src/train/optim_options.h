// Optimizer and learning-rate schedule options (`optim.*` keys).
#pragma once
#include <string>
#include <vector>

namespace ff::config {
class Schema;
}

namespace ff::train {

struct OptimOptions {
  std::string optimizer = "sgd";  // sgd | adamw (the classifier centres follow the same rule)
  double lr = 0.1;
  double momentum = 0.9;      // sgd: from the config (arcface_torch hard-codes 0.9)
  double weight_decay = 5e-4; // sgd: L2 added to the gradient; adamw: decoupled (w *= 1 - lr x decay)
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // adamw
  double warmup_epochs = 0;   // linear warmup length, in epochs (fractions allowed)
  std::string schedule = "poly";  // poly | cosine | multistep (lr_schedule.h)
  double power = 2.0;             // poly: decay exponent after warmup
  double min_lr = 0.0;            // cosine: the floor reached at the end
  std::vector<double> milestones; // multistep: epochs (fractions allowed) where lr is multiplied by gamma
  double gamma = 0.1;             // multistep factor
  // Parameter groups: the head (margin-head parameters and the classifier centres) may train at a
  // multiple of the backbone's lr and with its own weight decay (< 0 = optim.weight_decay).
  double head_lr_scale = 1.0;
  double head_weight_decay = -1;
  bool no_decay_bn_bias = false;  // no weight decay on the backbone's 1-D parameters (BN, PReLU, biases)
  double clip_grad_norm = 0;      // > 0: clip the backbone's gradient to this global L2 norm
  bool clip_head = false;         // also clip the head's dense parameters (with the backbone's, one norm)
};

void bind_schema(config::Schema& schema, OptimOptions& options);

}  // namespace ff::train
