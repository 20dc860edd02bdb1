// Binds OptimOptions to the `optim.*` configuration keys.
#include "src/train/optim_options.h"

#include "src/config/schema.h"

namespace ff::train {

void bind_schema(config::Schema& s, OptimOptions& o) {
  using config::Bounds;
  s.add("optim.optimizer", o.optimizer, "sgd or adamw (backbone, head and classifier centres)", {"sgd", "adamw"});
  s.add("optim.lr", o.lr, "base learning rate", Bounds::greater_than(0));
  s.add("optim.momentum", o.momentum, "SGD momentum", Bounds::half_open(0, 1));
  s.add("optim.weight_decay", o.weight_decay, "weight decay (SGD: L2 in the gradient; AdamW: decoupled)",
        Bounds::at_least(0));
  s.add("optim.beta1", o.beta1, "AdamW: first-moment decay", Bounds::half_open(0, 1));
  s.add("optim.beta2", o.beta2, "AdamW: second-moment decay", Bounds::half_open(0, 1));
  s.add("optim.eps", o.eps, "AdamW: denominator epsilon", Bounds::greater_than(0));
  s.add("optim.warmup_epochs", o.warmup_epochs, "linear warmup length in epochs", Bounds::at_least(0));
  s.add("optim.schedule", o.schedule, "decay after warmup: poly, cosine or multistep", {"poly", "cosine", "multistep"});
  s.add("optim.power", o.power, "poly: decay exponent after warmup", Bounds::at_least(0));
  s.add("optim.min_lr", o.min_lr, "cosine: learning rate at the end", Bounds::at_least(0));
  s.add("optim.milestones", o.milestones, "multistep: epochs at which lr is multiplied by gamma", Bounds::at_least(0));
  s.add("optim.gamma", o.gamma, "multistep: factor per milestone", Bounds::closed(0, 1));
  s.add("optim.head_lr_scale", o.head_lr_scale, "head learning rate = lr x this", Bounds::greater_than(0));
  s.add("optim.head_weight_decay", o.head_weight_decay, "head weight decay (< 0: optim.weight_decay)");
  s.add("optim.no_decay_bn_bias", o.no_decay_bn_bias, "no weight decay on the backbone's 1-D parameters (BN, bias)");
  s.add("optim.clip_grad_norm", o.clip_grad_norm, "clip the backbone gradient to this L2 norm (0 = off)",
        Bounds::at_least(0));
  s.add("optim.clip_head", o.clip_head, "clip the head's dense parameters together with the backbone");
}

}  // namespace ff::train
