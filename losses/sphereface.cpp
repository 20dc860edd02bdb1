// SphereFace's piecewise ψ(θ) through Chebyshev polynomials, and its λ annealing.
#include "losses/sphereface.h"

#include <cmath>

#include "src/util/error.h"

namespace ff::losses {

SphereFace::SphereFace(double scale, const SphereFaceOptions& o) : scale_(scale), options_(o) {
  if (o.m < 1 || o.m > 8) fail("sphereface: m must be an integer in [1, 8], got {}", o.m);
  if (!(scale > 0)) fail("sphereface: scale must be > 0, got {}", scale);
  step_ = register_buffer("step", at::zeros({}, at::kLong));
}

void SphereFace::on_step(int64_t step) { step_.fill_(step); }

double SphereFace::lambda() const {
  const double step = double(step_.item<int64_t>());
  return std::max(options_.lambda_min, options_.lambda_base * std::pow(1.0 + options_.lambda_gamma * step, -options_.lambda_power));
}

at::Tensor SphereFace::psi(const at::Tensor& cos_y) const {
  const int m = options_.m;
  at::Tensor c = cos_y.clamp(-1.0, 1.0);
  // T_m by the recurrence T_{n+1} = 2c T_n − T_{n−1}: cos(mθ) as a polynomial in cos θ.
  at::Tensor previous = at::ones_like(c), current = c;
  for (int n = 1; n < m; ++n) {
    at::Tensor next = 2 * c * current - previous;
    previous = current;
    current = next;
  }
  at::Tensor k;
  {
    torch::NoGradGuard no_grad;
    k = at::floor(at::acos(c) * m / M_PI).clamp(0, m - 1);
  }
  at::Tensor sign = 1 - 2 * at::remainder(k, 2);  // (−1)^k
  return sign * current - 2 * k;
}

at::Tensor SphereFace::logits(const at::Tensor& cosine, const at::Tensor& labels, const at::Tensor&) {
  const double lambda = this->lambda();
  auto target = [&](const at::Tensor& cos_y) { return (lambda * cos_y + psi(cos_y)) / (1 + lambda); };
  return replace_target(cosine, labels, target) * scale_;
}

}  // namespace ff::losses
