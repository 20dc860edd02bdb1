// The backbone interface and its registry by name (`model.backbone: r50`).
// Every backbone maps images [B, 3, 112, 112] (RGB, (x/255 - 0.5)/0.5) to embeddings [B, D]
// without L2 normalisation.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "backbones/backbone_options.h"

namespace ff::backbones {

// The shape after one named stage of a forward pass, for `faceforge model summary`.
struct StageShape {
  std::string name;
  std::vector<int64_t> shape;
};

// Appends `t`'s shape as stage `name` when `stages` is given (forward_stages' bookkeeping).
inline void record_stage(std::vector<StageShape>* stages, std::string name, const at::Tensor& t) {
  if (stages) stages->push_back({std::move(name), t.sizes().vec()});
}

// Stores every 4-D parameter (convolution weight) in NHWC order, oneDNN's fast layout on CPU.
inline void to_channels_last(torch::nn::Module& module) {
  for (auto& p : module.parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
}

class Backbone : public torch::nn::Module {
 public:
  at::Tensor forward(at::Tensor images) { return forward_stages(images, nullptr); }
  // The forward pass; when `stages` is given, appends the output shape of each stage.
  virtual at::Tensor forward_stages(at::Tensor images, std::vector<StageShape>* stages) = 0;
  virtual int embedding_size() const = 0;
};

// Where a module's parameters (else buffers) live; the CPU for a module with neither.
inline c10::Device device_of(const torch::nn::Module& module) {
  for (const auto& p : module.parameters()) return p.device();
  for (const auto& b : module.buffers()) return b.device();
  return c10::kCPU;
}

using BackboneFactory = std::function<std::shared_ptr<Backbone>(const BackboneOptions&)>;

// Registration is explicit (called from main and tests): static self-registration in a static
// library is silently dropped by the linker.
void register_backbone(const std::string& name, BackboneFactory factory);
void register_builtin_backbones();
std::vector<std::string> backbone_names();
// Unknown names throw with the list of known ones.
std::shared_ptr<Backbone> make_backbone(const BackboneOptions& options);

}  // namespace ff::backbones
