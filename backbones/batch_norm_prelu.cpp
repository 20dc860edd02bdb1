// Training-mode BatchNorm2d (+ PReLU) fused on CPU float tensors (NCHW or NHWC); see the header for why.
//
// With M elements per channel, x̂ = (x - mean)·invstd, z = γ·x̂ + β, y = z > 0 ? z : a·z:
//   dz = dy where z > 0, else a·dy;   da = Σ_{z<=0} z·dy;   dβ = Σ dz;   dγ = Σ dz·x̂;
//   dx = γ·invstd·(dz - dβ/M - x̂·dγ/M)  (the batch-statistics BN gradient).
#include "backbones/batch_norm_prelu.h"

// GCC notes that 8-float vectors pass differently without AVX; they never cross this file.
#pragma GCC diagnostic ignored "-Wpsabi"

#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cstring>
#include <vector>

// The element loops are written on 8-float GCC vectors so that a sign test becomes a blend instead
// of a branch (an activation's sign is a coin flip, and GCC will not if-convert a multiply it might
// trap on). Each loop gets AVX2 and baseline clones on x86-64 with GCC, picked at load time.
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define FF_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define FF_SIMD_CLONES
#endif

namespace ff::backbones {

namespace {

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

// Per-channel constants of one call. z = (x - mean)·scale + shift (subtracting the mean first keeps
// z exact when |mean| is large against the spread); backward's dx = A·dz + B·(x - mean) + D.
struct Channel {
  std::vector<float> mean, scale, shift, slope, A, B, D;
};

// ---- element loops: NHWC runs of C channels (vector over channels) ----

// s1 += x - k, s2 += (x - k)²: sums shifted by a sample of each channel, so the variance does not
// cancel catastrophically when |mean| is large against the spread.
FF_SIMD_CLONES void stats_run(const float* x, const float* k, float* s1, float* s2, int64_t n) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const F8 d = load8(x + i) - load8(k + i);
    store8(s1 + i, load8(s1 + i) + d);
    store8(s2 + i, load8(s2 + i) + d * d);
  }
  for (; i < n; ++i) {
    const float d = x[i] - k[i];
    s1[i] += d;
    s2[i] += d * d;
  }
}

FF_SIMD_CLONES void forward_run(const float* x, const Channel& ch, float* y, int64_t n) {
  const float *mean = ch.mean.data(), *scale = ch.scale.data(), *shift = ch.shift.data(), *slope = ch.slope.data();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const F8 z = (load8(x + i) - load8(mean + i)) * load8(scale + i) + load8(shift + i);
    store8(y + i, z > 0 ? z : load8(slope + i) * z);
  }
  for (; i < n; ++i) {
    const float z = (x[i] - mean[i]) * scale[i] + shift[i];
    y[i] = z > 0 ? z : slope[i] * z;
  }
}

// Backward's first pass: sums of dz, dz·(x - mean) and of z·dy where z <= 0.
FF_SIMD_CLONES void sums_run(const float* x, const float* dy, const Channel& ch, float* s_dz, float* s_dzx,
                             float* s_a, int64_t n) {
  const float *mean = ch.mean.data(), *scale = ch.scale.data(), *shift = ch.shift.data(), *slope = ch.slope.data();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const F8 d = load8(x + i) - load8(mean + i), g = load8(dy + i);
    const F8 z = d * load8(scale + i) + load8(shift + i);
    const auto positive = z > 0;
    const F8 dz = positive ? g : load8(slope + i) * g;
    store8(s_dz + i, load8(s_dz + i) + dz);
    store8(s_dzx + i, load8(s_dzx + i) + dz * d);
    store8(s_a + i, load8(s_a + i) + (positive ? F8{} : z * g));
  }
  for (; i < n; ++i) {
    const float d = x[i] - mean[i];
    const float z = d * scale[i] + shift[i];
    const float dz = z > 0 ? dy[i] : slope[i] * dy[i];
    s_dz[i] += dz;
    s_dzx[i] += dz * d;
    s_a[i] += z > 0 ? 0.f : z * dy[i];
  }
}

FF_SIMD_CLONES void dx_run(const float* x, const float* dy, const Channel& ch, float* dx, int64_t n) {
  const float *mean = ch.mean.data(), *scale = ch.scale.data(), *shift = ch.shift.data(), *slope = ch.slope.data();
  const float *A = ch.A.data(), *B = ch.B.data(), *D = ch.D.data();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const F8 d = load8(x + i) - load8(mean + i), g = load8(dy + i);
    const F8 z = d * load8(scale + i) + load8(shift + i);
    const F8 dz = z > 0 ? g : load8(slope + i) * g;
    store8(dx + i, load8(A + i) * dz + load8(B + i) * d + load8(D + i));
  }
  for (; i < n; ++i) {
    const float d = x[i] - mean[i];
    const float z = d * scale[i] + shift[i];
    const float dz = z > 0 ? dy[i] : slope[i] * dy[i];
    dx[i] = A[i] * dz + B[i] * d + D[i];
  }
}

// ---- element loops: NCHW planes of one channel (vector along the plane) ----

struct Sums3 {
  double a = 0, b = 0, c = 0;
};

inline double lanes_sum(const F8& v) {
  double t = 0;
  for (int k = 0; k < kLanes; ++k) t += v[k];
  return t;
}

FF_SIMD_CLONES Sums3 stats_plane(const float* x, float k, int64_t n) {
  F8 s1{}, s2{};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const F8 d = load8(x + i) - k;
    s1 += d;
    s2 += d * d;
  }
  Sums3 s{lanes_sum(s1), lanes_sum(s2), 0};
  for (; i < n; ++i) {
    const double d = x[i] - k;
    s.a += d;
    s.b += d * d;
  }
  return s;
}

FF_SIMD_CLONES void forward_plane(const float* x, float mean, float scale, float shift, float slope, float* y,
                                  int64_t n) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const F8 z = (load8(x + i) - mean) * scale + shift;
    store8(y + i, z > 0 ? z : slope * z);
  }
  for (; i < n; ++i) {
    const float z = (x[i] - mean) * scale + shift;
    y[i] = z > 0 ? z : slope * z;
  }
}

FF_SIMD_CLONES Sums3 sums_plane(const float* x, const float* dy, float mean, float scale, float shift, float slope,
                                int64_t n) {
  F8 s_dz{}, s_dzx{}, s_a{};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const F8 d = load8(x + i) - mean, g = load8(dy + i);
    const F8 z = d * scale + shift;
    const auto positive = z > 0;
    const F8 dz = positive ? g : slope * g;
    s_dz += dz;
    s_dzx += dz * d;
    s_a += positive ? F8{} : z * g;
  }
  Sums3 s{lanes_sum(s_dz), lanes_sum(s_dzx), lanes_sum(s_a)};
  for (; i < n; ++i) {
    const float d = x[i] - mean;
    const float z = d * scale + shift;
    const float dz = z > 0 ? dy[i] : slope * dy[i];
    s.a += dz;
    s.b += dz * d;
    s.c += z > 0 ? 0.f : z * dy[i];
  }
  return s;
}

FF_SIMD_CLONES void dx_plane(const float* x, const float* dy, float mean, float scale, float shift, float slope,
                             float A, float B, float D, float* dx, int64_t n) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const F8 d = load8(x + i) - mean, g = load8(dy + i);
    const F8 z = d * scale + shift;
    const F8 dz = z > 0 ? g : slope * g;
    store8(dx + i, A * dz + B * d + D);
  }
  for (; i < n; ++i) {
    const float d = x[i] - mean;
    const float z = d * scale + shift;
    const float dz = z > 0 ? dy[i] : slope * dy[i];
    dx[i] = A * dz + B * d + D;
  }
}

// ---- passes over the whole tensor ----

// NHWC rows are summed in float over blocks of kBlock rows, each block then added in double.
constexpr int64_t kBlock = 256;

// Three per-channel sums over the whole tensor, [3, C] in double: `run(r, s0, s1, s2)` adds NHWC
// row r into three float arrays of C, `plane(p)` returns NCHW plane p's three sums. A pass that
// needs two leaves the third zero.
template <typename RowFn, typename PlaneFn>
at::Tensor channel_sums(const Layout& l, RowFn run, PlaneFn plane) {
  const int64_t C = l.channels, units = l.channels_last ? l.rows : l.planes;
  const int64_t slices = slices_for(units, l.channels_last ? C : l.inner);
  at::Tensor partial = at::zeros({slices, 3, C}, at::kDouble);
  double* pp = partial.data_ptr<double>();
  for_slices(units, slices, [&](int64_t k, int64_t begin, int64_t end) {
    double* acc = pp + k * 3 * C;
    if (l.channels_last) {
      std::vector<float> block(3 * C);
      for (int64_t b = begin; b < end; b += kBlock) {
        std::fill(block.begin(), block.end(), 0.f);
        for (int64_t r = b; r < std::min(end, b + kBlock); ++r) run(r, block.data(), block.data() + C, block.data() + 2 * C);
        for (int64_t j = 0; j < 3 * C; ++j) acc[j] += block[j];
      }
    } else {
      for (int64_t p = begin; p < end; ++p) {
        const Sums3 s = plane(p);
        const int64_t c = p % C;
        acc[c] += s.a;
        acc[C + c] += s.b;
        acc[2 * C + c] += s.c;
      }
    }
  });
  return partial.sum(0);
}

std::vector<float> to_floats(const at::Tensor& t) {
  const at::Tensor f = t.to(at::kFloat).contiguous();
  return std::vector<float>(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
}

// Batch mean and biased variance of each channel.
std::pair<at::Tensor, at::Tensor> batch_statistics(const at::Tensor& x, const Layout& l) {
  const int64_t C = l.channels, n = l.inner;
  const float* xp = x.data_ptr<float>();
  // The shift: one sample of each channel (the first position of the first image).
  std::vector<float> k(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) k[c] = l.channels_last ? xp[c] : xp[c * n];
  const at::Tensor sums = channel_sums(
      l, [&](int64_t r, float* s1, float* s2, float*) { stats_run(xp + r * C, k.data(), s1, s2, C); },
      [&](int64_t p) { return stats_plane(xp + p * n, k[p % C], n); });
  const double m = static_cast<double>(l.rows);
  const at::Tensor shifted_mean = sums[0] / m;
  const at::Tensor var = (sums[1] / m - shifted_mean * shifted_mean).clamp_min(0);
  const at::Tensor mean = shifted_mean + at::from_blob(k.data(), {C}, at::kFloat).to(at::kDouble);
  return {mean, var};
}

struct BatchNormPReLUFunction : torch::autograd::Function<BatchNormPReLUFunction> {
  // mean and invstd (double, [C]) are the batch's, computed by the caller; they carry no gradient
  // of their own because the backward below already differentiates through them.
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& gamma,
                            const at::Tensor& beta, const at::Tensor& slope, const at::Tensor& mean,
                            const at::Tensor& invstd) {
    ctx->save_for_backward({x, gamma, beta, slope, mean, invstd});
    const Layout l = layout_of(x);
    const Channel ch{to_floats(mean), to_floats(gamma.to(at::kDouble) * invstd), to_floats(beta), to_floats(slope),
                     {}, {}, {}};
    at::Tensor y = at::empty_like(x);
    const float* xp = x.data_ptr<float>();
    float* yp = y.data_ptr<float>();
    const int64_t C = l.channels, n = l.inner;
    if (l.channels_last) {
      for_slices(l.rows, slices_for(l.rows, C), [&](int64_t, int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) forward_run(xp + r * C, ch, yp + r * C, C);
      });
    } else {
      for_slices(l.planes, slices_for(l.planes, n), [&](int64_t, int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) {
          const int64_t c = p % C;
          forward_plane(xp + p * n, ch.mean[c], ch.scale[c], ch.shift[c], ch.slope[c], yp + p * n, n);
        }
      });
    }
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &gamma = saved[1], &beta = saved[2], &slope = saved[3];
    const at::Tensor &mean = saved[4], &invstd = saved[5];
    const Layout l = layout_of(x);
    const at::Tensor dy = grads[0].contiguous(memory_format(l));
    const int64_t C = l.channels, n = l.inner;
    const at::Tensor scale = gamma.to(at::kDouble) * invstd;
    Channel ch{to_floats(mean), to_floats(scale), to_floats(beta), to_floats(slope), {}, {}, {}};
    const float* xp = x.data_ptr<float>();
    const float* gp = dy.data_ptr<float>();
    const at::Tensor sums = channel_sums(
        l,
        [&](int64_t r, float* s_dz, float* s_dzx, float* s_a) {
          sums_run(xp + r * C, gp + r * C, ch, s_dz, s_dzx, s_a, C);
        },
        [&](int64_t p) {
          const int64_t c = p % C;
          return sums_plane(xp + p * n, gp + p * n, ch.mean[c], ch.scale[c], ch.shift[c], ch.slope[c], n);
        });
    // dβ = Σdz, dγ = invstd·Σdz·(x - mean); dx = A·dz + B·(x - mean) + D with A = γ·invstd,
    // B = -A·invstd·dγ/M, D = -A·dβ/M.
    const double m = static_cast<double>(l.rows);
    const at::Tensor dbeta = sums[0], dgamma = sums[1] * invstd;
    const at::Tensor A = scale, B = -A * invstd * dgamma / m, D = -A * dbeta / m;
    ch.A = to_floats(A);
    ch.B = to_floats(B);
    ch.D = to_floats(D);
    at::Tensor dx = at::empty_like(x);
    float* dxp = dx.data_ptr<float>();
    if (l.channels_last) {
      for_slices(l.rows, slices_for(l.rows, C), [&](int64_t, int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) dx_run(xp + r * C, gp + r * C, ch, dxp + r * C, C);
      });
    } else {
      for_slices(l.planes, slices_for(l.planes, n), [&](int64_t, int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) {
          const int64_t c = p % C;
          dx_plane(xp + p * n, gp + p * n, ch.mean[c], ch.scale[c], ch.shift[c], ch.slope[c], ch.A[c], ch.B[c], ch.D[c],
                   dxp + p * n, n);
        }
      });
    }
    return {dx, dgamma.to(at::kFloat), dbeta.to(at::kFloat), sums[2].to(at::kFloat), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

namespace {

// Whether the fused kernel takes this call; a null `slope` stands for the identity (slope 1).
bool fusable(const at::Tensor& x, const torch::nn::BatchNorm2dImpl& bn, const at::Tensor& slope) {
  const auto& o = bn.options;
  const int64_t C = x.dim() == 4 ? x.size(1) : -1;
  return bn.is_training() && o.affine() && o.track_running_stats() && o.momentum().has_value() &&
         x.device().is_cpu() && x.scalar_type() == at::kFloat && x.dim() == 4 && x.numel() > C &&
         bn.weight.scalar_type() == at::kFloat &&
         (!slope.defined() || (slope.scalar_type() == at::kFloat && (slope.numel() == 1 || slope.numel() == C)));
}

at::Tensor fused(const at::Tensor& x, torch::nn::BatchNorm2dImpl& bn, const at::Tensor& slope_weight) {
  const auto& o = bn.options;
  const int64_t C = x.size(1);
  const at::Tensor input = kernel_layout(x) ? x : x.contiguous();
  const Layout l = layout_of(input);
  at::Tensor mean, var;
  {
    at::NoGradGuard no_grad;
    std::tie(mean, var) = batch_statistics(input, l);
    // As torch: running = (1 - momentum)·running + momentum·batch, with the unbiased variance.
    const double momentum = *o.momentum(), m = static_cast<double>(l.rows);
    bn.running_mean.mul_(1 - momentum).add_(mean.to(at::kFloat), momentum);
    bn.running_var.mul_(1 - momentum).add_((var * (m / (m - 1))).to(at::kFloat), momentum);
    bn.num_batches_tracked.add_(1);
  }
  const at::Tensor invstd = (var + o.eps()).rsqrt();
  // Slope 1 is the identity: plain BN through the same passes (its slope gradient is dropped).
  const at::Tensor slope = !slope_weight.defined()       ? at::ones({C}, x.options())
                           : slope_weight.numel() == 1 ? slope_weight.expand({C}).contiguous()
                                                       : slope_weight.contiguous();
  return BatchNormPReLUFunction::apply(input, bn.weight, bn.bias, slope, mean, invstd);
}

}  // namespace

at::Tensor batch_norm_prelu(const at::Tensor& x, torch::nn::BatchNorm2dImpl& bn, torch::nn::PReLUImpl& prelu) {
  return fusable(x, bn, prelu.weight) ? fused(x, bn, prelu.weight) : prelu.forward(bn.forward(x));
}

at::Tensor batch_norm(const at::Tensor& x, torch::nn::BatchNorm2dImpl& bn) {
  return fusable(x, bn, at::Tensor()) ? fused(x, bn, at::Tensor()) : bn.forward(x);
}

}  // namespace ff::backbones
