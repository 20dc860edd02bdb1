// The backbones' fused CPU BatchNorm2d (+ PReLU) against LibTorch's own modules: values, every
// gradient and the running statistics, in NCHW and NHWC.
#include <catch2/catch.hpp>

#include <torch/torch.h>

#include <limits>

#include "backbones/batch_norm_prelu.h"

namespace {

// BatchNorm2d (training) then PReLU: LibTorch's own modules in double precision (the reference,
// so that float rounding on either side does not blur the comparison), and fused in float.
void check_batch_norm_prelu(const at::Tensor& x0, int64_t slopes, double slack = 1) {
  namespace nn = torch::nn;
  const int64_t C = x0.size(1);
  nn::BatchNorm2d bn_ref(nn::BatchNorm2dOptions(C).momentum(0.2)), bn(nn::BatchNorm2dOptions(C).momentum(0.2));
  nn::PReLU prelu(nn::PReLUOptions().num_parameters(slopes));
  bn_ref->to(at::kDouble);
  at::Tensor slope_ref;
  {
    torch::NoGradGuard no_grad;
    const at::Tensor gamma = at::rand({C}) + 0.5, beta = at::randn({C}), slope = at::rand({slopes}) * 0.5;
    const at::Tensor rm = at::randn({C}), rv = at::rand({C}) + 0.5;
    for (auto* b : {bn_ref.get(), bn.get()}) {
      b->weight.copy_(gamma);
      b->bias.copy_(beta);
      b->running_mean.copy_(rm);
      b->running_var.copy_(rv);
    }
    prelu->weight.copy_(slope);
    slope_ref = slope.to(at::kDouble).requires_grad_(true);
  }
  const at::Tensor probe = at::randn(x0.sizes());
  at::Tensor x_ref = x0.detach().to(at::kDouble).requires_grad_(true), x = x0.detach().clone().requires_grad_(true);
  const at::Tensor y_ref = at::prelu(bn_ref->forward(x_ref), slope_ref);
  const at::Tensor y = ff::backbones::batch_norm_prelu(x, *bn, *prelu);
  (y_ref * probe.to(at::kDouble)).sum().backward();
  (y * probe).sum().backward();
  const auto close = [slack](const at::Tensor& ours, const at::Tensor& ref, double rtol, double atol) {
    return at::allclose(ours.to(at::kDouble), ref, rtol * slack, atol * slack);
  };
  CHECK(y.is_contiguous(x0.suggest_memory_format()));
  CHECK(close(y, y_ref, 1e-5, 1e-5));
  CHECK(close(x.grad(), x_ref.grad(), 1e-4, 1e-5));
  CHECK(close(bn->weight.grad(), bn_ref->weight.grad(), 1e-4, 1e-4));
  CHECK(close(bn->bias.grad(), bn_ref->bias.grad(), 1e-4, 1e-4));
  CHECK(close(prelu->weight.grad(), slope_ref.grad(), 1e-4, 1e-4));
  CHECK(close(bn->running_mean, bn_ref->running_mean, 1e-6, 1e-6));
  CHECK(close(bn->running_var, bn_ref->running_var, 1e-5, 1e-6));
  CHECK(bn->num_batches_tracked.item<int64_t>() == bn_ref->num_batches_tracked.item<int64_t>());
}

}  // namespace

TEST_CASE("fused BatchNorm2d + PReLU equals the two LibTorch modules in training", "[backbones]") {
  torch::manual_seed(5);
  SECTION("NCHW") { check_batch_norm_prelu(at::randn({4, 16, 9, 7}), 16); }
  SECTION("NHWC, channels not a multiple of the vector width") {
    check_batch_norm_prelu(at::randn({4, 12, 6, 6}).contiguous(at::MemoryFormat::ChannelsLast), 12);
  }
  SECTION("one shared slope") { check_batch_norm_prelu(at::randn({3, 16, 8, 8}), 1); }
  SECTION("mean far from zero: the variance does not cancel") {
    // Floats near 100 step by 8e-6, 1e-4 of this spread of 0.1: errors of that order are the
    // input's own; a variance taken as E[x²] - mean² in float would be off by about 10%.
    check_batch_norm_prelu(at::randn({4, 16, 8, 8}) * 0.1 + 100, 16, 20);
    check_batch_norm_prelu((at::randn({4, 16, 8, 8}) * 0.1 + 100).contiguous(at::MemoryFormat::ChannelsLast), 16, 20);
  }
  SECTION("a NaN reaches the output, so training's NaN check still fires") {
    torch::nn::BatchNorm2d bn(4);
    torch::nn::PReLU prelu(torch::nn::PReLUOptions().num_parameters(4));
    at::Tensor x = at::randn({2, 4, 5, 5});
    x[1][2][3][3] = std::numeric_limits<float>::quiet_NaN();
    const at::Tensor y = ff::backbones::batch_norm_prelu(x, *bn, *prelu);
    CHECK(y.select(1, 2).isnan().all().item<bool>());
    CHECK_FALSE(y.select(1, 0).isnan().any().item<bool>());
  }
  SECTION("split over threads") {
    check_batch_norm_prelu(at::randn({16, 32, 40, 40}).contiguous(at::MemoryFormat::ChannelsLast), 32);
    check_batch_norm_prelu(at::randn({16, 32, 40, 40}), 32);
  }
}

TEST_CASE("BatchNorm2d alone through the fused kernel equals LibTorch's module in training", "[backbones]") {
  torch::manual_seed(7);
  for (bool channels_last : {false, true}) {
    torch::nn::BatchNorm2d ref(16), bn(16);
    at::Tensor x0 = at::randn({4, 16, 10, 10}) * 3 + 1;
    if (channels_last) x0 = x0.contiguous(at::MemoryFormat::ChannelsLast);
    const at::Tensor probe = at::randn(x0.sizes());
    at::Tensor x_ref = x0.clone().requires_grad_(true), x = x0.clone().requires_grad_(true);
    const at::Tensor y_ref = ref->forward(x_ref), y = ff::backbones::batch_norm(x, *bn);
    (y_ref * probe).sum().backward();
    (y * probe).sum().backward();
    CHECK(at::allclose(y, y_ref, 1e-4, 1e-5));
    CHECK(at::allclose(x.grad(), x_ref.grad(), 1e-3, 1e-5));
    CHECK(at::allclose(bn->weight.grad(), ref->weight.grad(), 1e-3, 1e-4));
    CHECK(at::allclose(bn->bias.grad(), ref->bias.grad(), 1e-4, 1e-4));
    CHECK(at::allclose(bn->running_var, ref->running_var, 1e-4, 1e-5));
  }
}

TEST_CASE("fused BatchNorm2d + PReLU leaves eval mode to the modules", "[backbones]") {
  torch::manual_seed(6);
  torch::nn::BatchNorm2d bn(8);
  torch::nn::PReLU prelu(torch::nn::PReLUOptions().num_parameters(8));
  bn->running_mean.normal_();
  bn->eval();
  const at::Tensor x = at::randn({2, 8, 5, 5});
  CHECK(at::equal(ff::backbones::batch_norm_prelu(x, *bn, *prelu), at::prelu(bn->forward(x), prelu->weight)));
  CHECK(bn->num_batches_tracked.item<int64_t>() == 0);
}
