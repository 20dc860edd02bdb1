// The autocast region a backbone runs its body in (`model.autocast: none | fp16 | bf16`), as
// arcface_torch's `fp16` flag: convolutions/transformer blocks in reduced precision, the embedding
// head in float32.
#pragma once
#include <memory>
#include <string>

#include <ATen/core/Tensor.h>

#include "src/util/torch_compat.h"

namespace ff::backbones {

// Null for "none". fp16 needs CUDA: LibTorch's CPU autocast has no half-precision kernels.
std::unique_ptr<compat::AutocastGuard> body_autocast(const std::string& mode, const at::Tensor& input);

inline const char* kAutocastModes[] = {"none", "fp16", "bf16"};

}  // namespace ff::backbones
