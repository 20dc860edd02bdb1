// A module's weights as Python's `state_dict()` sees them: named tensors (parameters and buffers)
// in Python's order, and a strict loader that names every missing, unexpected or misshapen key.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include <torch/nn/module.h>

namespace ff::backbones {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// Module by module in registration order (pre-order): its parameters, then its buffers, then its
// children under "<child>." — the order of Python's `Module.state_dict()`.
NamedTensors state_dict(const torch::nn::Module& module);

// Copies `tensors` into the module's parameters and buffers (converting dtype, keeping the
// module's memory format). Strict: throws one error listing missing keys, unexpected keys and
// shape mismatches, naming `source`. A uniform "module." prefix (DistributedDataParallel's) is
// stripped first.
void load_state_dict(torch::nn::Module& module, NamedTensors tensors, const std::string& source);

}  // namespace ff::backbones
