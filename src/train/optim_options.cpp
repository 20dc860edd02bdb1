// Binds OptimOptions to the `optim.*` configuration keys.
#include "src/train/optim_options.h"

#include "src/config/schema.h"

namespace ff::train {

void bind_schema(config::Schema& s, OptimOptions& o) {
  using config::Bounds;
  s.add("optim.optimizer", o.optimizer, "optimizer", {"sgd"});
  s.add("optim.lr", o.lr, "base learning rate", Bounds::greater_than(0));
  s.add("optim.momentum", o.momentum, "SGD momentum", Bounds::half_open(0, 1));
  s.add("optim.weight_decay", o.weight_decay, "L2 weight decay (backbone and classifier)", Bounds::at_least(0));
  s.add("optim.warmup_epochs", o.warmup_epochs, "linear warmup length in epochs", Bounds::at_least(0));
  s.add("optim.power", o.power, "polynomial decay exponent after warmup", Bounds::at_least(0));
}

}  // namespace ff::train
