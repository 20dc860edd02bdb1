// Fused CPU PReLU: forward y = x > 0 ? x : w·x; backward dx and dw in one pass over x and dy.
#include "backbones/prelu.h"

// GCC notes that 8-float vectors pass differently without AVX; they never cross this file.
#pragma GCC diagnostic ignored "-Wpsabi"

#include <torch/autograd.h>

#include <vector>

#include "backbones/cpu_kernels.h"

namespace ff::backbones {

namespace {

using namespace kernels;

// NaN stays NaN, as in at::prelu: NaN > 0 is false and w·NaN is NaN.
inline float prelu1(float x, float a) { return x > 0 ? x : a * x; }

FF_SIMD_CLONES void forward_run(const float* x, const float* w, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const F8 v = load8(x + i);
    store8(y + i, v > 0 ? v : load8(w + i) * v);
  }
  for (; i < n; ++i) y[i] = prelu1(x[i], w[i]);
}

FF_SIMD_CLONES void forward_plane(const float* x, float a, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const F8 v = load8(x + i);
    store8(y + i, v > 0 ? v : a * v);
  }
  for (; i < n; ++i) y[i] = prelu1(x[i], a);
}

// dx for one run of C channels; adds x·dy of the non-positive entries into s[c].
FF_SIMD_CLONES void backward_run(const float* x, const float* g, const float* w, float* dx, float* s, int64_t n) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const F8 v = load8(x + i), d = load8(g + i);
    const auto positive = v > 0;
    store8(dx + i, positive ? d : load8(w + i) * d);
    store8(s + i, load8(s + i) + (positive ? F8{} : v * d));
  }
  for (; i < n; ++i) {
    dx[i] = x[i] > 0 ? g[i] : w[i] * g[i];
    s[i] += x[i] > 0 ? 0.f : x[i] * g[i];
  }
}

// dx for one plane of a single channel; returns the plane's Σ x·dy over non-positive x.
FF_SIMD_CLONES double backward_plane(const float* x, const float* g, float a, float* dx, int64_t n) {
  F8 sum{};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const F8 v = load8(x + i), d = load8(g + i);
    const auto positive = v > 0;
    store8(dx + i, positive ? d : a * d);
    sum += positive ? F8{} : v * d;
  }
  double total = 0;
  for (; i < n; ++i) {
    dx[i] = x[i] > 0 ? g[i] : a * g[i];
    total += x[i] > 0 ? 0.f : x[i] * g[i];
  }
  for (int k = 0; k < kLanes; ++k) total += sum[k];
  return total;
}

at::Tensor forward_kernel(const at::Tensor& x, const at::Tensor& w, const Layout& l) {
  at::Tensor y = at::empty_like(x);  // same memory format as x
  const float* xp = x.data_ptr<float>();
  const float* wp = w.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  const int64_t C = l.channels, n = l.inner;
  if (l.channels_last) {
    for_slices(l.rows, slices_for(l.rows, C), [&](int64_t, int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) forward_run(xp + r * C, wp, yp + r * C, C);
    });
  } else {
    for_slices(l.planes, slices_for(l.planes, n), [&](int64_t, int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p) forward_plane(xp + p * n, wp[p % C], yp + p * n, n);
    });
  }
  return y;
}

// dx = dy where x > 0, else w·dy; dw[c] = Σ over x <= 0 of x·dy, summed per slice (one row of
// `partial` each, in double) and then over slices.
std::pair<at::Tensor, at::Tensor> backward_kernel(const at::Tensor& x, const at::Tensor& w, at::Tensor dy,
                                                  const Layout& l) {
  dy = dy.contiguous(memory_format(l));
  at::Tensor dx = at::empty_like(x);
  const int64_t C = l.channels, n = l.inner;
  const int64_t units = l.channels_last ? l.rows : l.planes;
  const int64_t slices = slices_for(units, l.channels_last ? C : n);
  at::Tensor partial = at::zeros({slices, C}, x.options().dtype(at::kDouble));
  const float* xp = x.data_ptr<float>();
  const float* gp = dy.data_ptr<float>();
  const float* wp = w.data_ptr<float>();
  float* dxp = dx.data_ptr<float>();
  double* pp = partial.data_ptr<double>();
  if (l.channels_last) {
    // Float sums over blocks of rows keep the inner loop vectorised; each block is then added in double.
    constexpr int64_t kBlock = 256;
    for_slices(units, slices, [&](int64_t k, int64_t begin, int64_t end) {
      double* acc = pp + k * C;
      std::vector<float> block(C);
      for (int64_t b = begin; b < end; b += kBlock) {
        std::fill(block.begin(), block.end(), 0.f);
        for (int64_t r = b; r < std::min(end, b + kBlock); ++r)
          backward_run(xp + r * C, gp + r * C, wp, dxp + r * C, block.data(), C);
        for (int64_t c = 0; c < C; ++c) acc[c] += block[c];
      }
    });
  } else {
    for_slices(units, slices, [&](int64_t k, int64_t begin, int64_t end) {
      double* acc = pp + k * C;
      for (int64_t p = begin; p < end; ++p) acc[p % C] += backward_plane(xp + p * n, gp + p * n, wp[p % C], dxp + p * n, n);
    });
  }
  return {dx, partial.sum(0).to(at::kFloat)};
}

struct PReLUFunction : torch::autograd::Function<PReLUFunction> {
  // `w` has C entries: a shared weight was expanded by the caller, whose expand() sums dw back.
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w) {
    ctx->save_for_backward({x, w});
    return forward_kernel(x, w, layout_of(x));
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    auto [dx, dw] = backward_kernel(saved[0], saved[1], grads[0], layout_of(saved[0]));
    return {dx, dw};
  }
};

}  // namespace

at::Tensor prelu(const at::Tensor& x, const at::Tensor& weight) {
  const bool fused = x.device().is_cpu() && weight.device().is_cpu() && x.scalar_type() == at::kFloat &&
                     weight.scalar_type() == at::kFloat && x.dim() >= 2 && weight.dim() == 1 &&
                     (weight.numel() == 1 || weight.numel() == x.size(1)) && x.numel() > 0;
  if (!fused) return at::prelu(x, weight);
  const at::Tensor input = kernel_layout(x) ? x : x.contiguous();
  // expand() keeps a single shared weight in the graph: its backward sums dw over the channels.
  const at::Tensor w = weight.numel() == 1 ? weight.expand({x.size(1)}).contiguous() : weight.contiguous();
  return PReLUFunction::apply(input, w);
}

PReLUImpl::PReLUImpl(int64_t num_parameters, double init) : num_parameters_(num_parameters), init_(init) {
  reset();
}

void PReLUImpl::reset() { weight = register_parameter("weight", torch::full({num_parameters_}, init_)); }

}  // namespace ff::backbones
