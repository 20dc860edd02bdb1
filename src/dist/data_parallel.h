// Data-parallel training on a World: the same start on every rank, gradients averaged in buckets,
// and an all-gather that autograd differentiates (Partial FC's gathered embeddings).
#pragma once
#include <vector>

#include <ATen/core/Tensor.h>

#include "src/dist/world.h"

namespace ff::dist {

// Copies rank `root`'s values of every tensor (parameters and buffers) to all ranks, packed into
// flat buckets of at most `bucket_mb` so a model costs a few broadcasts, not one per tensor.
void broadcast_tensors(World& world, const std::vector<at::Tensor>& tensors, double bucket_mb, int root = 0);

// Replaces each parameter's gradient by its mean over the ranks (sum, then divide: Gloo has no
// average). Parameters without a gradient on this rank contribute zeros, so every rank runs the
// same collectives. Buckets of at most `bucket_mb`, one dtype each.
void average_gradients(World& world, const std::vector<at::Tensor>& parameters, double bucket_mb);

// The rows of every rank's `local` [b, ...] concatenated in rank order [W·b, ...]. Backward: the
// gradient of this rank's rows summed over all ranks, times W. Each rank's loss on the gathered
// rows holds only its own part of the global-batch loss (its classes), so summing gives the full
// gradient of this rank's rows; the factor W undoes average_gradients' division, so data-parallel
// training equals one process on the global batch.
at::Tensor all_gather_with_grad(World& world, const at::Tensor& local);

}  // namespace ff::dist
