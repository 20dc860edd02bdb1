// IResNet layers; submodule names and registration order follow insightface's iresnet.py so that
// state dicts match key for key and in order.
#include "backbones/iresnet.h"

#include <torch/nn/init.h>

#include "backbones/autocast.h"
#include "backbones/batch_norm_prelu.h"

namespace ff::backbones {

namespace nn = torch::nn;

namespace {

constexpr double kBatchNormEps = 1e-5;

nn::Conv2d conv3x3(int in, int out, int stride) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false));
}

nn::BatchNorm2d make_batch_norm(int channels) { return nn::BatchNorm2d(nn::BatchNorm2dOptions(channels).eps(kBatchNormEps)); }

// Pre-activation-style residual block: BN, conv3x3, BN + PReLU, conv3x3 (carries the stride), BN; the
// BNs (+ PReLU) run through the fused CPU kernel (batch_norm_prelu.h).
class IBasicBlockImpl : public nn::Module {
 public:
  IBasicBlockImpl(int in, int planes, int stride) {
    bn1 = register_module("bn1", make_batch_norm(in));
    conv1 = register_module("conv1", conv3x3(in, planes, 1));
    bn2 = register_module("bn2", make_batch_norm(planes));
    prelu = register_module("prelu", nn::PReLU(nn::PReLUOptions().num_parameters(planes)));
    conv2 = register_module("conv2", conv3x3(planes, planes, stride));
    bn3 = register_module("bn3", make_batch_norm(planes));
    if (stride != 1 || in != planes) {
      downsample = register_module(
          "downsample", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in, planes, 1).stride(stride).bias(false)),
                                       make_batch_norm(planes)));
    }
  }
  at::Tensor forward(at::Tensor x) {
    at::Tensor out = batch_norm(conv2(batch_norm_prelu(conv1(batch_norm(x, *bn1)), *bn2, *prelu)), *bn3);
    return out + (downsample ? downsample->forward(x) : x);
  }
  nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  nn::Conv2d conv1{nullptr}, conv2{nullptr};
  nn::PReLU prelu{nullptr};
  nn::Sequential downsample{nullptr};
};
TORCH_MODULE(IBasicBlock);

}  // namespace

IResNet::IResNet(const IResNetOptions& options) : options_(options) {
  constexpr int kWidths[4] = {64, 128, 256, 512};
  constexpr int kFinalSide = 7;  // 112 halved by four stride-2 stages
  conv1_ = register_module("conv1", conv3x3(3, 64, 1));
  bn1_ = register_module("bn1", make_batch_norm(64));
  prelu_ = register_module("prelu", nn::PReLU(nn::PReLUOptions().num_parameters(64)));
  int in = 64;
  for (int s = 0; s < 4; ++s) {
    nn::Sequential stage;
    for (int b = 0; b < options.layers_[s]; ++b) {
      stage->push_back(IBasicBlock(b == 0 ? in : kWidths[s], kWidths[s], b == 0 ? 2 : 1));
    }
    in = kWidths[s];
    stages_[s] = register_module("layer" + std::to_string(s + 1), stage);
  }
  bn2_ = register_module("bn2", make_batch_norm(512));
  dropout_ = register_module("dropout", nn::Dropout(nn::DropoutOptions(options.dropout_)));
  fc_ = register_module("fc", nn::Linear(512 * kFinalSide * kFinalSide, options.embedding_size_));
  features_ = register_module("features", nn::BatchNorm1d(nn::BatchNorm1dOptions(options.embedding_size_).eps(kBatchNormEps)));

  // Initialisation as insightface: conv weights N(0, 0.1), BN (1, 0), the embedding BN's scale
  // frozen at 1 (only its shift and statistics learn).
  torch::NoGradGuard no_grad;
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<nn::Conv2d>()) nn::init::normal_(conv->weight, 0.0, 0.1);
  }
  features_->weight.fill_(1.0);
  features_->weight.set_requires_grad(false);
  if (options.channels_last_) to_channels_last(*this);
}

at::Tensor IResNet::forward_stages(at::Tensor x, std::vector<StageShape>* stages) {
  {
    auto autocast = body_autocast(options_.autocast_, x);
    if (options_.channels_last_) x = x.contiguous(at::MemoryFormat::ChannelsLast);
    x = batch_norm_prelu(conv1_(x), *bn1_, *prelu_);
    record_stage(stages, "stem", x);
    for (int s = 0; s < 4; ++s) {
      x = stages_[s]->forward(x);
      record_stage(stages, "layer" + std::to_string(s + 1), x);
    }
    x = dropout_(bn2_(x).flatten(1));
    record_stage(stages, "flatten", x);
  }
  x = fc_(x.to(at::kFloat));
  record_stage(stages, "fc", x);
  x = features_(x);
  record_stage(stages, "features", x);
  return x;
}

}  // namespace ff::backbones
