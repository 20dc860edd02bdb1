// Model summaries and operator-level multiply-accumulate counting.
#include "backbones/summary.h"

#include <cstring>

#include <ATen/record_function.h>
#include <fmt/format.h>
#include <torch/nn/module.h>

#include "src/util/strings.h"

namespace ff::backbones {

namespace {

thread_local int64_t t_macs = 0;

int64_t product(c10::IntArrayRef sizes) {
  int64_t p = 1;
  for (int64_t s : sizes) p *= s;
  return p;
}

// MACs of one operator call from its input shapes. Only leaf products are counted, so composite
// ops (linear -> addmm/matmul -> mm/bmm, conv2d -> convolution) are counted once.
int64_t operator_macs(const char* name, c10::ArrayRef<const c10::IValue> inputs) {
  auto tensor = [&](size_t i) -> at::Tensor {
    return i < inputs.size() && inputs[i].isTensor() ? inputs[i].toTensor() : at::Tensor();
  };
  if (std::strcmp(name, "aten::convolution") == 0) {
    at::Tensor input = tensor(0), weight = tensor(1);
    if (!input.defined() || !weight.defined() || inputs.size() < 7) return 0;
    // Output elements x (in_channels / groups) x kernel area; the output size comes from the
    // standard formula with this call's stride, padding and dilation.
    auto stride = inputs[3].toIntVector(), padding = inputs[4].toIntVector(), dilation = inputs[5].toIntVector();
    bool transposed = inputs[6].toBool();
    if (transposed) return 0;
    int64_t out = input.size(0) * weight.size(0);
    for (int64_t d = 2; d < input.dim(); ++d) {
      int64_t k = weight.size(d), i = input.size(d);
      size_t j = size_t(d - 2);
      out *= (i + 2 * padding[j] - dilation[j] * (k - 1) - 1) / stride[j] + 1;
    }
    return out * product(weight.sizes().slice(1));
  }
  if (std::strcmp(name, "aten::mm") == 0 || std::strcmp(name, "aten::bmm") == 0) {
    at::Tensor a = tensor(0), b = tensor(1);
    return a.defined() && b.defined() ? product(a.sizes()) * b.size(-1) : 0;
  }
  if (std::strcmp(name, "aten::addmm") == 0 || std::strcmp(name, "aten::baddbmm") == 0) {
    at::Tensor a = tensor(1), b = tensor(2);
    return a.defined() && b.defined() ? product(a.sizes()) * b.size(-1) : 0;
  }
  return 0;
}

std::unique_ptr<at::ObserverContext> observe(const at::RecordFunction& fn) {
  t_macs += operator_macs(fn.name(), fn.inputs());
  return nullptr;
}

}  // namespace

int64_t count_macs(const std::function<void()>& fn) {
  t_macs = 0;
  auto handle = at::addThreadLocalCallback(at::RecordFunctionCallback(&observe).needsInputs(true));
  try {
    fn();
  } catch (...) {
    at::removeCallback(handle);
    throw;
  }
  at::removeCallback(handle);
  return t_macs;
}

ModelSummary summarize(const std::string& name, Backbone& backbone) {
  ModelSummary s;
  s.name = name;
  s.embedding_size = backbone.embedding_size();
  for (const auto& p : backbone.parameters()) {
    s.parameters += p.numel();
    if (p.requires_grad()) s.trainable_parameters += p.numel();
  }
  for (const auto& b : backbone.buffers()) s.buffers += b.numel();
  const bool was_training = backbone.is_training();
  backbone.eval();
  torch::NoGradGuard no_grad;
  at::Tensor image = at::zeros({1, 3, 112, 112});
  s.macs = count_macs([&] { backbone.forward_stages(image, &s.stages); });
  backbone.train(was_training);
  return s;
}

std::string format_summary(const ModelSummary& s) {
  std::string out = fmt::format("{}\n  parameters      {} ({:.2f}M; trainable {})\n  buffers         {}\n"
                                "  FLOPs (MACs)    {} ({:.3f}G at 112x112)\n  embedding size  {}\n  stages:\n",
                                s.name, s.parameters, s.parameters / 1e6, s.trainable_parameters, s.buffers, s.macs,
                                s.macs / 1e9, s.embedding_size);
  for (const auto& stage : s.stages) out += fmt::format("    {:<12} {}\n", stage.name, format_shape(stage.shape));
  return out;
}

}  // namespace ff::backbones
