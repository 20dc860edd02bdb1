// Shared pieces of the backbones' hand-written CPU kernels (prelu.cpp, batch_norm_prelu.cpp): the
// activation layouts they accept, 8-float vectors, and slicing of work over ATen's threads.
// Include only from those .cpp files: the vector type changes the ABI of functions that take it.
#pragma once

#include <ATen/Parallel.h>
#include <torch/types.h>

#include <algorithm>
#include <cstring>

// The element loops are written on 8-float GCC vectors so that a sign test becomes a blend instead
// of a branch (an activation's sign is a coin flip, and GCC will not if-convert a multiply it might
// trap on). Each loop gets AVX2 and baseline clones on x86-64 with GCC, picked at load time.
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define FF_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define FF_SIMD_CLONES
#endif

namespace ff::backbones::kernels {

typedef float F8 __attribute__((vector_size(32)));
constexpr int64_t kLanes = 8;

inline F8 load8(const float* p) {
  F8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store8(float* p, const F8& v) { std::memcpy(p, &v, sizeof v); }

// A float tensor seen as `rows` runs of C channels (NHWC: C innermost) or as `planes` = N·C runs of
// `inner` elements of one channel each (NCHW and any other channel-first contiguous shape).
struct Layout {
  bool channels_last = false;
  int64_t channels = 1, rows = 0, planes = 0, inner = 1;
};

inline Layout layout_of(const at::Tensor& x) {
  Layout l;
  l.channels = x.size(1);
  l.channels_last = x.dim() == 4 && !x.is_contiguous() && x.is_contiguous(at::MemoryFormat::ChannelsLast);
  l.rows = x.numel() / l.channels;
  l.planes = x.size(0) * l.channels;
  l.inner = l.planes > 0 ? x.numel() / l.planes : 1;
  return l;
}

inline at::MemoryFormat memory_format(const Layout& l) {
  return l.channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
}

// True when x can be handed to the kernels as it is (NCHW-contiguous, or NHWC-contiguous in 4-D).
inline bool kernel_layout(const at::Tensor& x) {
  return x.is_contiguous() || (x.dim() == 4 && x.is_contiguous(at::MemoryFormat::ChannelsLast));
}

// Work is cut into at most one slice per thread, none under kGrainElements elements. Slices, not
// thread ids, index per-slice partial sums: each slice owns its row whichever OpenMP runtime runs it,
// and the result depends only on the thread count.
constexpr int64_t kGrainElements = 1 << 15;

inline int64_t slices_for(int64_t units, int64_t unit_size) {
  const int64_t by_size = std::max<int64_t>(1, units * unit_size / kGrainElements);
  return std::max<int64_t>(1, std::min<int64_t>({units, by_size, at::get_num_threads()}));
}

// Calls fn(slice, begin, end) for each of `slices` equal parts of [0, units), in parallel.
template <typename Fn>
void for_slices(int64_t units, int64_t slices, const Fn& fn) {
  const int64_t per = (units + slices - 1) / slices;
  at::parallel_for(0, slices, 1, [&](int64_t first, int64_t last) {
    for (int64_t k = first; k < last; ++k) {
      const int64_t begin = k * per, end = std::min(units, begin + per);
      if (begin < end) fn(k, begin, end);
    }
  });
}

}  // namespace ff::backbones::kernels
