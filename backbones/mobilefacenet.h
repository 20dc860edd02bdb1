// MobileFaceNet as defined by insightface's arcface_torch (`mbf`, `mbf_large`): implements Backbone.
// Stem conv 3x3/2 -> depthwise stages with residual blocks (blocks (1,4,6,2), width scale 2)
// -> 1x1 conv to 512 -> GDC head (7x7 depthwise linear conv, flatten, Linear, BatchNorm1d).
// Parameter names follow the Python module tree (`layers.0.layers.0.weight`, `features.layers.2.weight`).
// Usage: auto net = std::make_shared<MobileFaceNet>(MobileFaceNetOptions().embedding_size(512));
#pragma once
#include <array>

#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/sequential.h>

#include "backbones/backbone.h"

namespace ff::backbones {

struct MobileFaceNetOptions {
  MobileFaceNetOptions& embedding_size(int v) { embedding_size_ = v; return *this; }
  MobileFaceNetOptions& blocks(std::array<int, 4> v) { blocks_ = v; return *this; }
  MobileFaceNetOptions& scale(int v) { scale_ = v; return *this; }
  MobileFaceNetOptions& channels_last(bool v) { channels_last_ = v; return *this; }
  MobileFaceNetOptions& autocast(std::string v) { autocast_ = std::move(v); return *this; }
  int embedding_size_ = 512;
  std::string autocast_ = "none";  // none | fp16 | bf16 for the depthwise body
  bool channels_last_ = true;  // NHWC activations and weights: oneDNN's fast path on CPU (measured +25%)
  std::array<int, 4> blocks_ = {1, 4, 6, 2};  // mbf; mbf_large is (2, 8, 12, 4) with scale 4
  int scale_ = 2;
};

class MobileFaceNet : public Backbone {
 public:
  explicit MobileFaceNet(const MobileFaceNetOptions& options);
  at::Tensor forward_stages(at::Tensor images, std::vector<StageShape>* stages) override;
  int embedding_size() const override { return options_.embedding_size_; }

 private:
  MobileFaceNetOptions options_;
  torch::nn::Sequential layers_{nullptr};  // a ModuleList in Python; same keys
  torch::nn::AnyModule conv_sep_;
  torch::nn::AnyModule features_;
};

}  // namespace ff::backbones
