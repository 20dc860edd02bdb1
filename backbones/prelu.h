// PReLU with one fused pass forward and one backward on CPU float tensors (NCHW or NHWC).
//
// Why not torch::nn::PReLU: LibTorch 1.13's CPU backward materialises a full-size weight gradient
// and reduces it afterwards, reading and writing every activation several times; in mbf that was
// about a fifth of a training step. Here the backward reads x and the output gradient once, writes
// the input gradient once and sums the weight gradient on the fly. Other devices and dtypes use
// at::prelu. The parameter is named `weight` and initialised to 0.25, so state dicts are the same as
// torch.nn.PReLU's.
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/types.h>

namespace ff::backbones {

// y = x where x > 0, else weight[c] * x, with c the channel (dimension 1); weight has 1 or C
// entries. Differentiable in x and weight.
at::Tensor prelu(const at::Tensor& x, const at::Tensor& weight);

class PReLUImpl : public torch::nn::Cloneable<PReLUImpl> {
 public:
  explicit PReLUImpl(int64_t num_parameters = 1, double init = 0.25);
  void reset() override;
  at::Tensor forward(const at::Tensor& x) { return ff::backbones::prelu(x, weight); }
  at::Tensor weight;

 private:
  int64_t num_parameters_;
  double init_;
};
TORCH_MODULE(PReLU);

}  // namespace ff::backbones
