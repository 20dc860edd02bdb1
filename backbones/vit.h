// Vision Transformer for 112x112 faces as in arcface_torch (`vit_t`, `vit_s`, `vit_b`): implements
// Backbone. 9x9 patches -> 144 tokens (no class token) + learned position embedding; pre-norm
// blocks (LayerNorm, multi-head attention, LayerNorm, MLP with ReLU6) with stochastic depth;
// LayerNorm; all tokens flattened -> Linear -> BN1d -> Linear(D) -> BN1d.
// While training, a random `mask_ratio` of tokens skips the blocks and is replaced by a learned
// mask token afterwards (arcface_torch's regulariser).
// Parameter names are arcface_torch's (`patch_embed.proj.weight`, `blocks.0.attn.qkv.weight`,
// `feature.0.weight`, `mask_token`, `pos_embed`).
#pragma once
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/normalization.h>

#include "backbones/backbone.h"

namespace ff::backbones {

struct VisionTransformerOptions {
  VisionTransformerOptions(int dim, int depth) : dim_(dim), depth_(depth) {}
  VisionTransformerOptions& heads(int v) { heads_ = v; return *this; }
  VisionTransformerOptions& embedding_size(int v) { embedding_size_ = v; return *this; }
  VisionTransformerOptions& mask_ratio(double v) { mask_ratio_ = v; return *this; }
  VisionTransformerOptions& drop_path(double v) { drop_path_ = v; return *this; }
  VisionTransformerOptions& autocast(std::string v) { autocast_ = std::move(v); return *this; }
  int dim_;
  int depth_;
  int heads_ = 8;
  int mlp_ratio_ = 4;
  int patch_ = 9;
  int image_ = 112;
  int embedding_size_ = 512;
  double mask_ratio_ = 0.1;
  double drop_path_ = 0.1;  // rate of the last block; block i gets drop_path * i / (depth - 1)
  std::string autocast_ = "none";
};

struct VisionTransformerPreset {
  const char* name;
  int dim;
  int depth;
};
inline constexpr VisionTransformerPreset kVisionTransformerPresets[] = {
    {"vit_t", 256, 12}, {"vit_s", 512, 12}, {"vit_b", 512, 24}};

class VisionTransformer : public Backbone {
 public:
  explicit VisionTransformer(const VisionTransformerOptions& options);
  at::Tensor forward_stages(at::Tensor images, std::vector<StageShape>* stages) override;
  int embedding_size() const override { return options_.embedding_size_; }

 private:
  VisionTransformerOptions options_;
  int tokens_;
  at::Tensor pos_embed_, mask_token_;
  torch::nn::Conv2d patch_proj_{nullptr};
  torch::nn::ModuleList blocks_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::Sequential feature_{nullptr};
};

}  // namespace ff::backbones
