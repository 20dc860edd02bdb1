// MobileFaceNet building blocks. Submodule names mirror arcface_torch's mobilefacenet.py so state
// dicts line up key for key: ConvBlock/LinearBlock hold a `layers` Sequential, DepthWise holds
// `layers` = (ConvBlock 1x1, ConvBlock depthwise, LinearBlock 1x1), Residual holds `layers`.
#include "backbones/mobilefacenet.h"

#include "backbones/autocast.h"
#include "backbones/batch_norm_prelu.h"

#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

namespace ff::backbones {

namespace nn = torch::nn;

namespace {

struct Conv {
  int in, out, kernel, stride, padding, groups;
};

nn::Conv2d conv2d(const Conv& c) {
  return nn::Conv2d(nn::Conv2dOptions(c.in, c.out, c.kernel).stride(c.stride).padding(c.padding).groups(c.groups).bias(false));
}

// Conv + BN + PReLU, wrapped in a module whose only child is `layers`; BN and PReLU run fused.
class ConvBlockImpl : public nn::Module {
 public:
  ConvBlockImpl(const Conv& c, bool activation) : conv_(conv2d(c)), bn_(nn::BatchNorm2d(c.out)) {
    layers = register_module("layers", nn::Sequential());
    layers->push_back(conv_);
    layers->push_back(bn_);
    if (activation) {
      prelu_ = nn::PReLU(nn::PReLUOptions().num_parameters(c.out));
      layers->push_back(prelu_);
    }
  }
  at::Tensor forward(at::Tensor x) {
    x = conv_(x);
    return prelu_ ? batch_norm_prelu(x, *bn_, *prelu_) : batch_norm(x, *bn_);
  }
  nn::Sequential layers{nullptr};

 private:
  nn::Conv2d conv_;
  nn::BatchNorm2d bn_;
  nn::PReLU prelu_{nullptr};
};
TORCH_MODULE(ConvBlock);

// Inverted bottleneck: 1x1 expand to `groups` channels, depthwise kxk, 1x1 linear projection.
class DepthWiseImpl : public nn::Module {
 public:
  DepthWiseImpl(int in, int out, bool residual, int stride, int groups) : residual_(residual) {
    layers = register_module("layers", nn::Sequential());
    layers->push_back(ConvBlock(Conv{in, groups, 1, 1, 0, 1}, true));
    layers->push_back(ConvBlock(Conv{groups, groups, 3, stride, 1, groups}, true));
    layers->push_back(ConvBlock(Conv{groups, out, 1, 1, 0, 1}, false));
  }
  at::Tensor forward(at::Tensor x) {
    at::Tensor y = layers->forward(x);
    return residual_ ? x + y : y;
  }
  nn::Sequential layers{nullptr};

 private:
  bool residual_;
};
TORCH_MODULE(DepthWise);

class ResidualImpl : public nn::Module {
 public:
  ResidualImpl(int channels, int blocks, int groups) {
    layers = register_module("layers", nn::Sequential());
    for (int i = 0; i < blocks; ++i) layers->push_back(DepthWise(channels, channels, true, 1, groups));
  }
  at::Tensor forward(at::Tensor x) { return layers->forward(x); }
  nn::Sequential layers{nullptr};
};
TORCH_MODULE(Residual);

class FlattenImpl : public nn::Module {
 public:
  at::Tensor forward(at::Tensor x) { return x.reshape({x.size(0), -1}); }
};
TORCH_MODULE(Flatten);

// Global depthwise convolution head: 7x7 depthwise linear conv, flatten, Linear, BatchNorm1d.
class GDCImpl : public nn::Module {
 public:
  explicit GDCImpl(int embedding_size) {
    layers = register_module("layers", nn::Sequential());
    layers->push_back(ConvBlock(Conv{512, 512, 7, 1, 0, 512}, false));
    layers->push_back(Flatten());
    layers->push_back(nn::Linear(nn::LinearOptions(512, embedding_size).bias(false)));
    layers->push_back(nn::BatchNorm1d(embedding_size));
  }
  at::Tensor forward(at::Tensor x) { return layers->forward(x); }
  nn::Sequential layers{nullptr};
};
TORCH_MODULE(GDC);

}  // namespace

MobileFaceNet::MobileFaceNet(const MobileFaceNetOptions& options) : options_(options) {
  const int s = options.scale_;
  const auto& b = options.blocks_;
  layers_ = register_module("layers", nn::Sequential());
  layers_->push_back(ConvBlock(Conv{3, 64 * s, 3, 2, 1, 1}, true));
  if (b[0] == 1) {
    layers_->push_back(ConvBlock(Conv{64 * s, 64 * s, 3, 1, 1, 64}, true));
  } else {
    layers_->push_back(Residual(64 * s, b[0], 128));
  }
  layers_->push_back(DepthWise(64 * s, 64 * s, false, 2, 128));
  layers_->push_back(Residual(64 * s, b[1], 128));
  layers_->push_back(DepthWise(64 * s, 128 * s, false, 2, 256));
  layers_->push_back(Residual(128 * s, b[2], 256));
  layers_->push_back(DepthWise(128 * s, 128 * s, false, 2, 512));
  layers_->push_back(Residual(128 * s, b[3], 256));
  conv_sep_ = nn::AnyModule(ConvBlock(Conv{128 * s, 512, 1, 1, 0, 1}, true));
  register_module("conv_sep", conv_sep_.ptr());
  features_ = nn::AnyModule(GDC(options.embedding_size_));
  register_module("features", features_.ptr());

  // Initialisation as arcface_torch: Kaiming normal (fan_out, relu) for conv and linear, BN = (1, 0).
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* linear = module->as<nn::Linear>()) {
      nn::init::kaiming_normal_(linear->weight, 0.0, torch::kFanOut, torch::kReLU);
    }
  }
  if (options.channels_last_) to_channels_last(*this);
}

at::Tensor MobileFaceNet::forward_stages(at::Tensor x, std::vector<StageShape>* stages) {
  {
    auto autocast = body_autocast(options_.autocast_, x);
    if (options_.channels_last_) x = x.contiguous(at::MemoryFormat::ChannelsLast);
    int index = 0;
    for (auto& layer : *layers_) {
      x = layer.forward(x);
      record_stage(stages, "layers." + std::to_string(index++), x);
    }
  }
  x = conv_sep_.forward(x.to(at::kFloat));
  record_stage(stages, "conv_sep", x);
  x = features_.forward(x);
  record_stage(stages, "features", x);
  return x;
}

}  // namespace ff::backbones
