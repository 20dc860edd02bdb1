// BatchNorm2d followed by PReLU as one training-mode CPU operation (both backbones' conv + BN + PReLU),
// and BatchNorm2d alone through the same code.
//
// Why: on a CPU the two are memory-bound passes around compute-bound convolutions. Composed, they
// write the normalised tensor, keep it for backward, and read and write activations again in each
// backward. Fused, forward reads x twice (statistics, output) and writes y once; backward recomputes
// the normalised value from x and reads x and dy twice, writing dx once; nothing but x is kept.
// Running statistics and num_batches_tracked follow torch::nn::BatchNorm2d's update rule. Eval
// mode, other devices and dtypes, and momentum-less BN run the two modules one after the other.
#pragma once

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>

namespace ff::backbones {

at::Tensor batch_norm_prelu(const at::Tensor& x, torch::nn::BatchNorm2dImpl& bn, torch::nn::PReLUImpl& prelu);

// BatchNorm2d alone through the same passes (a PReLU of slope 1 is the identity).
at::Tensor batch_norm(const at::Tensor& x, torch::nn::BatchNorm2dImpl& bn);

}  // namespace ff::backbones
