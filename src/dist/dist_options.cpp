// `dist.*` keys bound onto DistOptions.
#include "src/dist/dist_options.h"

#include "src/config/schema.h"

namespace ff::dist {

void bind_schema(config::Schema& schema, DistOptions& o) {
  schema.add("dist.backend", o.backend, "c10d backend: auto (NCCL for CUDA tensors, else Gloo), gloo or nccl",
             {"auto", "gloo", "nccl"});
  schema.add("dist.timeout_seconds", o.timeout_seconds,
             "seconds a rendezvous or collective may wait before failing (a dead rank is reported within it)",
             config::Bounds::greater_than(0));
  schema.add("dist.bucket_mb", o.bucket_mb, "gradient all-reduce bucket size in MiB", config::Bounds::greater_than(0));
}

}  // namespace ff::dist
