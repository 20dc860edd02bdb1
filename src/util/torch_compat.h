// The one place where LibTorch version differences live (Debian's 1.13 CPU build here, pip 2.x with
// CUDA on GPU machines). Everything else calls these helpers instead of testing versions itself.
#pragma once
#include <string>

#include <ATen/autocast_mode.h>
#include <torch/version.h>
#include <torch/cuda.h>
#ifdef FF_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>  // only in a build against a CUDA LibTorch
#endif

#define FF_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace ff::compat {

inline std::string torch_version() { return TORCH_VERSION; }

// torch::cuda::device_count() returns int64_t in 1.13 and a narrower integer type in newer 2.x
// (it prints as a char there): always hand callers a plain int.
inline int cuda_device_count() { return static_cast<int>(torch::cuda::device_count()); }

inline bool cuda_available() { return torch::cuda::is_available(); }

// Peak bytes the CUDA caching allocator handed out on `device`, in MiB (0 in a build without CUDA).
// Index 0 of the stat arrays is the aggregate in every version (the enum moved namespaces in 2.x).
#ifdef FF_WITH_CUDA
inline double cuda_peak_allocated_mib(int device) {
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device));
  return static_cast<double>(stats.allocated_bytes[0].peak) / 1048576.0;
}
#else
inline double cuda_peak_allocated_mib(int) { return 0; }
#endif

// Autocast for one region, restoring the previous state on exit (Python's `with autocast(...)`).
// 1.13 has per-backend setters (set_enabled for CUDA, set_cpu_enabled); 2.4+ takes a device type
// and warns on every call of the old names.
class AutocastGuard {
 public:
  AutocastGuard(c10::DeviceType device, bool enabled, c10::ScalarType dtype) : device_(device) {
#if FF_TORCH_AT_LEAST(2, 4)
    was_enabled_ = at::autocast::is_autocast_enabled(device);
    was_dtype_ = at::autocast::get_autocast_dtype(device);
    at::autocast::set_autocast_enabled(device, enabled);
    if (enabled) at::autocast::set_autocast_dtype(device, dtype);
#else
    bool cuda = device == c10::DeviceType::CUDA;
    was_enabled_ = cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
    was_dtype_ = cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
    // 1.13's CPU autocast rejects any dtype but bf16 even while disabled: a disabling guard
    // leaves the dtype alone.
    if (cuda) {
      at::autocast::set_enabled(enabled);
      if (enabled) at::autocast::set_autocast_gpu_dtype(dtype);
    } else {
      at::autocast::set_cpu_enabled(enabled);
      if (enabled) at::autocast::set_autocast_cpu_dtype(dtype);
    }
#endif
    at::autocast::increment_nesting();
  }
  ~AutocastGuard() {
    // Casted weight copies are cached while any autocast region is open; drop them with the last.
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
#if FF_TORCH_AT_LEAST(2, 4)
    at::autocast::set_autocast_enabled(device_, was_enabled_);
    at::autocast::set_autocast_dtype(device_, was_dtype_);
#else
    if (device_ == c10::DeviceType::CUDA) {
      at::autocast::set_enabled(was_enabled_);
      at::autocast::set_autocast_gpu_dtype(was_dtype_);
    } else {
      at::autocast::set_cpu_enabled(was_enabled_);
      at::autocast::set_autocast_cpu_dtype(was_dtype_);
    }
#endif
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  c10::DeviceType device_;
  bool was_enabled_ = false;
  c10::ScalarType was_dtype_ = c10::ScalarType::Float;
};

}  // namespace ff::compat

// c10d: process-group backends derive from c10d::ProcessGroup in 1.13 and from c10d::Backend in
// 2.x. Only the distributed adapter (src/dist/c10d_world.cpp) includes the c10d headers; it
// defines FF_COMPAT_C10D first so nothing else pays for them.
#ifdef FF_COMPAT_C10D
namespace ff::compat {
#if FF_TORCH_AT_LEAST(2, 0)
using C10dBackend = c10d::Backend;
#else
using C10dBackend = c10d::ProcessGroup;
#endif
}  // namespace ff::compat
#endif
