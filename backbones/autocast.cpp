// Autocast regions for backbone bodies.
#include "backbones/autocast.h"

#include "src/util/error.h"

namespace ff::backbones {

std::unique_ptr<compat::AutocastGuard> body_autocast(const std::string& mode, const at::Tensor& input) {
  if (mode == "none") return nullptr;
  c10::DeviceType device = input.device().type();
  if (mode == "fp16") {
    if (device != c10::DeviceType::CUDA) {
      fail("model.autocast: fp16 needs a CUDA device (the input is on {}); use bf16 on CPU", input.device().str());
    }
    return std::make_unique<compat::AutocastGuard>(device, true, c10::ScalarType::Half);
  }
  if (mode == "bf16") return std::make_unique<compat::AutocastGuard>(device, true, c10::ScalarType::BFloat16);
  fail("model.autocast: expected none, fp16 or bf16, got '{}'", mode);
}

}  // namespace ff::backbones
