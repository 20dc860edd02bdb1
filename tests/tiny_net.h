// A small CNN backbone for tests that train many runs (~0.4M parameters, 128-d embeddings):
// registered as "tiny" by the tests that use it; the heads and the distributed machinery do not
// depend on which network feeds them.
#pragma once
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include "backbones/backbone.h"

namespace ff::test {

namespace nn = torch::nn;

// Four stride-2 conv stages (16-32-64-64 channels) and a linear embedding: ~0.4M parameters.
class TinyNet : public ff::backbones::Backbone {
 public:
  TinyNet() {
    int in = 3;
    for (int out : {16, 32, 64, 64}) {
      body_->push_back(nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(2).padding(1).bias(false)));
      body_->push_back(nn::BatchNorm2d(out));
      body_->push_back(nn::PReLU(nn::PReLUOptions().num_parameters(out)));
      in = out;
    }
    register_module("body", body_);
    fc_ = register_module("fc", nn::Linear(64 * 7 * 7, 128));
    bn_ = register_module("bn", nn::BatchNorm1d(128));
  }
  at::Tensor forward_stages(at::Tensor x, std::vector<ff::backbones::StageShape>*) override {
    return bn_(fc_(body_->forward(x).flatten(1)));
  }
  int embedding_size() const override { return 128; }

 private:
  nn::Sequential body_;
  nn::Linear fc_{nullptr};
  nn::BatchNorm1d bn_{nullptr};
};


inline void register_tiny_backbone() {
  ff::backbones::register_backbone("tiny", [](const ff::backbones::BackboneOptions&) { return std::make_shared<TinyNet>(); });
}

}  // namespace ff::test
