// IResNet (insightface's "improved" ResNet for 112x112 faces: r18 ... r200): implements Backbone.
// Stem conv3x3/1 + BN + PReLU; four stages of IBasicBlock (BN, conv3x3, BN, PReLU, conv3x3/stride,
// BN, + shortcut) at 64/128/256/512 channels, each halving the resolution; head BN2d, flatten,
// dropout, FC(512*7*7 -> D), BatchNorm1d(D) with its weight frozen at 1.
// Parameter names are insightface's (`conv1.weight`, `layer1.0.bn1.running_mean`, `fc.weight`,
// `features.weight`), so state dicts move between the two unchanged.
// Usage: auto net = std::make_shared<IResNet>(IResNetOptions({3, 4, 14, 3}).embedding_size(512));
#pragma once
#include <array>

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/activation.h>

#include "backbones/backbone.h"

namespace ff::backbones {

struct IResNetOptions {
  explicit IResNetOptions(std::array<int, 4> layers) : layers_(layers) {}
  IResNetOptions& embedding_size(int v) { embedding_size_ = v; return *this; }
  IResNetOptions& dropout(double v) { dropout_ = v; return *this; }
  IResNetOptions& channels_last(bool v) { channels_last_ = v; return *this; }
  IResNetOptions& autocast(std::string v) { autocast_ = std::move(v); return *this; }
  std::array<int, 4> layers_;  // blocks per stage
  int embedding_size_ = 512;
  double dropout_ = 0.0;
  bool channels_last_ = false;  // NCHW measured faster for IResNet with oneDNN on CPU
  std::string autocast_ = "none";
};

// The stage depths of the named presets, e.g. iresnet_layers("r50") == {3, 4, 14, 3}.
struct IResNetPreset {
  const char* name;
  std::array<int, 4> layers;
};
inline constexpr IResNetPreset kIResNetPresets[] = {
    {"r18", {2, 2, 2, 2}},   {"r34", {3, 4, 6, 3}},     {"r50", {3, 4, 14, 3}},
    {"r100", {3, 13, 30, 3}}, {"r200", {6, 26, 60, 6}},
};

class IResNet : public Backbone {
 public:
  explicit IResNet(const IResNetOptions& options);
  at::Tensor forward_stages(at::Tensor images, std::vector<StageShape>* stages) override;
  int embedding_size() const override { return options_.embedding_size_; }

 private:
  IResNetOptions options_;
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  torch::nn::PReLU prelu_{nullptr};
  std::array<torch::nn::Sequential, 4> stages_{nullptr, nullptr, nullptr, nullptr};
  torch::nn::BatchNorm2d bn2_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Linear fc_{nullptr};
  torch::nn::BatchNorm1d features_{nullptr};
};

}  // namespace ff::backbones
