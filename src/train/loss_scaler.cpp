// Dynamic loss scaling: scale, unscale and check, grow or back off.
#include "src/train/loss_scaler.h"

#include <ATen/ATen.h>

#include "src/util/error.h"

namespace ff::train {

LossScaler::LossScaler(bool enabled, LossScalerOptions options)
    : enabled_(enabled), options_(options), scale_(options.init_scale) {
  if (!(options.init_scale > 0) || !(options.growth_factor > 1) || !(options.backoff_factor > 0 && options.backoff_factor < 1) ||
      options.growth_interval < 1)
    fail("loss scaler: expected init_scale > 0, growth_factor > 1, 0 < backoff_factor < 1 and growth_interval >= 1");
}

at::Tensor LossScaler::scale_loss(const at::Tensor& loss) const { return enabled_ ? loss * scale_ : loss; }

bool LossScaler::unscale(const std::vector<at::Tensor>& gradients) const {
  if (!enabled_) return true;
  at::NoGradGuard no_grad;
  const double inverse = 1.0 / scale_;
  // One answer read back at the end (one device synchronisation per step, not one per tensor).
  std::vector<at::Tensor> finite;
  for (const auto& g : gradients) {
    if (!g.defined()) continue;
    g.mul_(inverse);
    finite.push_back(at::isfinite(g).all());
  }
  return finite.empty() || at::stack(finite).all().item<bool>();
}

void LossScaler::update(bool found_inf) {
  if (!enabled_) return;
  if (found_inf) {
    scale_ *= options_.backoff_factor;
    growth_tracker_ = 0;
    ++skipped_;
  } else if (++growth_tracker_ == options_.growth_interval) {
    scale_ *= options_.growth_factor;
    growth_tracker_ = 0;
  }
}

at::Tensor LossScaler::state() const {
  return at::tensor({scale_, static_cast<double>(growth_tracker_), static_cast<double>(skipped_)}, at::kDouble);
}

void LossScaler::load_state(const at::Tensor& state) {
  if (state.numel() != 3) fail("loss scaler state: expected 3 values, got {}", state.numel());
  at::Tensor s = state.to(at::kDouble).contiguous();
  scale_ = s[0].item<double>();
  growth_tracker_ = static_cast<int64_t>(s[1].item<double>());
  skipped_ = static_cast<int64_t>(s[2].item<double>());
}

}  // namespace ff::train
