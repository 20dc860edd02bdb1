// Dynamic loss scaling for fp16 training (PyTorch's GradScaler rule): the loss is multiplied by a
// scale before backward so small fp16 gradients do not flush to zero; before the optimizer step
// the gradients are divided by it and checked. A step with an Inf/NaN gradient is skipped and the
// scale backs off; after `growth_interval` finite steps in a row it grows. bf16 and fp32 need no
// scaling: a disabled scaler passes everything through.
#pragma once
#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace ff::train {

struct LossScalerOptions {
  double init_scale = 65536.0;  // 2^16, as torch.cuda.amp.GradScaler
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
};

class LossScaler {
 public:
  explicit LossScaler(bool enabled, LossScalerOptions options = {});

  bool enabled() const { return enabled_; }
  double scale() const { return scale_; }
  int64_t skipped_steps() const { return skipped_; }  // steps skipped for non-finite gradients so far

  // loss x scale (the loss itself when disabled).
  at::Tensor scale_loss(const at::Tensor& loss) const;
  // Divides each gradient by the scale in place; returns true when all of them are finite. The
  // answer is this process's: ranks must agree on it before stepping (one all-reduce).
  bool unscale(const std::vector<at::Tensor>& gradients) const;
  // After each optimizer step, taken (found_inf false) or skipped (true).
  void update(bool found_inf);

  // [scale, finite steps since the last change, skipped steps] for a checkpoint, and back.
  at::Tensor state() const;
  void load_state(const at::Tensor& state);

 private:
  bool enabled_;
  LossScalerOptions options_;
  double scale_;
  int64_t growth_tracker_ = 0;
  int64_t skipped_ = 0;
};

}  // namespace ff::train
