// Cosines between normalised embeddings and (unnormalised) class centres, with a hand-written
// backward: Partial FC's largest cost at a million sampled centres.
#pragma once
#include <ATen/Tensor.h>

namespace ff::losses {

// cos[i, j] = x̂_i · w_j / |w_j| for unit-length rows x̂ [N, D] and centres w [S, D]; |w_j| is
// clamped below at 1e-12. Same value and gradients as normalize(x̂) · normalize(w)ᵀ, but neither a
// normalised [S, D] copy of the centres nor its autograd graph is built: the backward is
//   ∂L/∂x̂_i = Σ_j g_ij w_j / |w_j|
//   ∂L/∂w_j = (Σ_i g_ij x̂_i − (Σ_i g_ij cos_ij) w_j / |w_j|) / |w_j|
// one matrix product per input and one in-place pass over the [S, D] result (autograd through
// norm() and the division made three more [S, D] passes and doubled the step at 1M classes).
at::Tensor centre_cosine(const at::Tensor& x_hat, const at::Tensor& centres);

}  // namespace ff::losses
