// The one place where LibTorch version differences live (Debian's 1.13 CPU build here, pip 2.x with
// CUDA on GPU machines). Everything else calls these helpers instead of testing versions itself.
#pragma once
#include <string>

#include <torch/version.h>
#include <torch/cuda.h>

#define FF_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace ff::compat {

inline std::string torch_version() { return TORCH_VERSION; }

// torch::cuda::device_count() returns int64_t in 1.13 and a narrower integer type in newer 2.x
// (it prints as a char there): always hand callers a plain int.
inline int cuda_device_count() { return static_cast<int>(torch::cuda::device_count()); }

inline bool cuda_available() { return torch::cuda::is_available(); }

}  // namespace ff::compat
