// The fused CPU kernels of the backbones against LibTorch's own operators: PReLU (values and
// both gradients in NCHW, NHWC, shared weight, strided, exact zeros) and BatchNorm2d + PReLU.
#include <catch2/catch.hpp>

#include <torch/torch.h>

#include "backbones/batch_norm_prelu.h"
#include "backbones/prelu.h"

namespace {

struct Grads {
  at::Tensor y, dx, dw;
};

// y = f(x, w); backward of sum(y * probe) so every output element gets its own gradient.
template <typename F>
Grads run(F f, const at::Tensor& x0, const at::Tensor& w0, const at::Tensor& probe) {
  at::Tensor x = x0.detach().clone().requires_grad_(true);
  at::Tensor w = w0.detach().clone().requires_grad_(true);
  at::Tensor y = f(x, w);
  (y * probe).sum().backward();
  return {y.detach(), x.grad(), w.grad()};
}

void check_same(const at::Tensor& x, const at::Tensor& w) {
  const at::Tensor probe = at::randn(x.sizes());
  const Grads ours = run([](const at::Tensor& a, const at::Tensor& b) { return ff::backbones::prelu(a, b); }, x, w, probe);
  const Grads torch = run([](const at::Tensor& a, const at::Tensor& b) { return at::prelu(a, b); }, x, w, probe);
  CHECK(at::equal(ours.y, torch.y));
  CHECK(at::equal(ours.dx, torch.dx));
  // dw is a sum of many products: same within float rounding of the summation order.
  CHECK(at::allclose(ours.dw, torch.dw, 1e-4, 1e-4));
  CHECK(ours.y.is_contiguous(x.suggest_memory_format()));
}

}  // namespace

TEST_CASE("fused PReLU equals at::prelu in values and gradients", "[backbones]") {
  torch::manual_seed(3);
  const at::Tensor w = at::rand({16}) * 0.5;
  SECTION("NCHW, odd plane size") { check_same(at::randn({3, 16, 7, 5}), w); }
  SECTION("NHWC") { check_same(at::randn({3, 16, 9, 9}).contiguous(at::MemoryFormat::ChannelsLast), w); }
  SECTION("one weight shared by all channels") { check_same(at::randn({2, 16, 6, 6}), at::full({1}, 0.3)); }
  SECTION("a strided view") { check_same(at::randn({4, 16, 8, 10}).transpose(2, 3), w); }
  SECTION("2-D input (batch x channels)") { check_same(at::randn({40, 16}), w); }
  SECTION("exact zeros take the negative branch, as torch") {
    at::Tensor x = at::randn({2, 16, 4, 4});
    x.index_put_({x.abs() < 0.5}, 0.0);
    check_same(x, w);
  }
  SECTION("large enough to be split over threads") {
    check_same(at::randn({8, 16, 40, 40}), w);
    check_same(at::randn({8, 16, 40, 40}).contiguous(at::MemoryFormat::ChannelsLast), w);
  }
}

TEST_CASE("PReLU module: torch.nn.PReLU's parameter name, shape and initial value", "[backbones]") {
  ff::backbones::PReLU m(8);
  const auto params = m->named_parameters();
  REQUIRE(params.size() == 1);
  CHECK(params.contains("weight"));
  CHECK(at::equal(m->weight, at::full({8}, 0.25)));
  // Hand-worked: slope 0.25 below zero, identity above.
  const at::Tensor y = m->forward(at::tensor({-4.f, 2.f, 0.f, -1.f}).reshape({1, 4}).repeat({1, 2}));
  CHECK(at::equal(y, at::tensor({-1.f, 2.f, 0.f, -0.25f, -1.f, 2.f, 0.f, -0.25f}).reshape({1, 8})));
}

namespace {

// BatchNorm2d (training) then PReLU: LibTorch's own modules in double precision (the reference,
// so that float rounding on either side does not blur the comparison), and fused in float.
void check_batch_norm_prelu(const at::Tensor& x0, int64_t slopes, double slack = 1) {
  namespace nn = torch::nn;
  const int64_t C = x0.size(1);
  nn::BatchNorm2d bn_ref(nn::BatchNorm2dOptions(C).momentum(0.2)), bn(nn::BatchNorm2dOptions(C).momentum(0.2));
  ff::backbones::PReLU prelu(slopes);
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
  ff::backbones::PReLU prelu(8);
  bn->running_mean.normal_();
  bn->eval();
  const at::Tensor x = at::randn({2, 8, 5, 5});
  CHECK(at::equal(ff::backbones::batch_norm_prelu(x, *bn, *prelu), at::prelu(bn->forward(x), prelu->weight)));
  CHECK(bn->num_batches_tracked.item<int64_t>() == 0);
}
