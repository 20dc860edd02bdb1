// Bucketed broadcast and gradient averaging, and the differentiable all-gather.
#include "src/dist/data_parallel.h"

#include <torch/autograd.h>

#include "src/util/error.h"

namespace ff::dist {

namespace {

// Consecutive runs of same-dtype tensors of at most `bucket_bytes` (a larger tensor is its own bucket).
std::vector<std::vector<at::Tensor>> buckets(const std::vector<at::Tensor>& tensors, double bucket_mb) {
  const int64_t limit = static_cast<int64_t>(bucket_mb * 1024 * 1024);
  std::vector<std::vector<at::Tensor>> out;
  int64_t bytes = 0;
  for (const auto& t : tensors) {
    const int64_t size = t.numel() * static_cast<int64_t>(t.element_size());
    if (out.empty() || bytes + size > limit || out.back().front().scalar_type() != t.scalar_type() ||
        out.back().front().device() != t.device()) {
      out.emplace_back();
      bytes = 0;
    }
    out.back().push_back(t);
    bytes += size;
  }
  return out;
}

at::Tensor flatten(const std::vector<at::Tensor>& tensors) {
  std::vector<at::Tensor> flat;
  flat.reserve(tensors.size());
  for (const auto& t : tensors) flat.push_back(t.reshape({-1}));
  return at::cat(flat);
}

void unflatten_into(const at::Tensor& flat, const std::vector<at::Tensor>& tensors) {
  int64_t offset = 0;
  for (const auto& t : tensors) {
    t.copy_(flat.narrow(0, offset, t.numel()).view(t.sizes()));
    offset += t.numel();
  }
}

class GatherWithGrad : public torch::autograd::Function<GatherWithGrad> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& local, World* world) {
    ctx->saved_data["rows"] = local.size(0);
    ctx->saved_data["world"] = reinterpret_cast<int64_t>(world);
    return world->all_gather_cat(local.detach());
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto* world = reinterpret_cast<World*>(ctx->saved_data["world"].toInt());
    const int64_t rows = ctx->saved_data["rows"].toInt();
    at::Tensor summed = grads[0].contiguous().clone();
    world->all_reduce(summed);
    at::Tensor own = summed.narrow(0, world->rank() * rows, rows) * static_cast<double>(world->size());
    return {own, at::Tensor()};
  }
};

}  // namespace

void broadcast_tensors(World& world, const std::vector<at::Tensor>& tensors, double bucket_mb, int root) {
  if (world.size() == 1) return;
  torch::NoGradGuard no_grad;
  for (const auto& bucket : buckets(tensors, bucket_mb)) {
    at::Tensor flat = flatten(bucket);
    world.broadcast(flat, root);
    unflatten_into(flat, bucket);
  }
}

void average_gradients(World& world, const std::vector<at::Tensor>& parameters, double bucket_mb) {
  if (world.size() == 1) return;
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> grads;
  grads.reserve(parameters.size());
  for (const auto& p : parameters) {
    if (!p.requires_grad()) continue;
    if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
    grads.push_back(p.grad());
  }
  for (const auto& bucket : buckets(grads, bucket_mb)) {
    at::Tensor flat = flatten(bucket);
    world.all_reduce(flat);
    flat.div_(world.size());
    unflatten_into(flat, bucket);
  }
}

at::Tensor all_gather_with_grad(World& world, const at::Tensor& local) {
  if (world.size() == 1) return local;
  return GatherWithGrad::apply(local, &world);
}

}  // namespace ff::dist
