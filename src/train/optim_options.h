// Optimizer and learning-rate schedule options (`optim.*` keys).
#pragma once
#include <string>

namespace ff::config {
class Schema;
}

namespace ff::train {

struct OptimOptions {
  std::string optimizer = "sgd";
  double lr = 0.1;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  double warmup_epochs = 0;  // linear warmup length, in epochs (fractions allowed)
  double power = 2.0;        // polynomial decay exponent after warmup
};

void bind_schema(config::Schema& schema, OptimOptions& options);

}  // namespace ff::train
