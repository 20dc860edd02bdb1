// Central finite differences of a scalar function of a double tensor, for gradient checks.
#pragma once
#include <functional>

#include <ATen/core/Tensor.h>

namespace ff::test {

// d f / d x_i ≈ (f(x + h e_i) − f(x − h e_i)) / 2h for every entry of x (same shape as x).
inline at::Tensor central_difference(const std::function<at::Tensor(const at::Tensor&)>& f, const at::Tensor& x,
                                     double h = 1e-6) {
  at::Tensor base = x.detach().clone();
  at::Tensor grad = at::zeros_like(base);
  auto flat = base.view({-1});
  auto out = grad.view({-1});
  for (int64_t i = 0; i < flat.numel(); ++i) {
    double original = flat[i].item<double>();
    flat[i] = original + h;
    double plus = f(base).item<double>();
    flat[i] = original - h;
    double minus = f(base).item<double>();
    flat[i] = original;
    out[i] = (plus - minus) / (2 * h);
  }
  return grad;
}

}  // namespace ff::test
