// Distributed options (`dist.*` keys): which c10d backend, how long a collective may wait, and how
// gradients are bucketed for the all-reduce.
#pragma once
#include <string>

namespace ff::config {
class Schema;
}

namespace ff::dist {

struct DistOptions {
  std::string backend = "auto";   // auto | gloo | nccl (auto: NCCL for CUDA tensors, Gloo for CPU)
  double timeout_seconds = 300;   // a collective (or the rendezvous) waiting longer fails naming the rank
  double bucket_mb = 25;          // gradients are all-reduced in flat buckets of about this size
};

void bind_schema(config::Schema& schema, DistOptions& options);

}  // namespace ff::dist
