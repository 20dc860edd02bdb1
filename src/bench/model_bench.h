// `faceforge bench model`: forward and forward+backward throughput of a backbone on this machine,
// optionally beside PyTorch's own run of the same network (benchmarks/torch_reference.py).
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "backbones/backbone_options.h"

namespace ff::bench {

struct ModelBenchOptions {
  backbones::BackboneOptions model;  // model.backbone names the network
  int batch = 32;
  int iters = 5;   // timed iterations of each kind
  int warmup = 1;  // untimed iterations first (allocator and oneDNN primitive caches)
  int threads = 0; // torch intra-op threads; 0 = all cores
};

struct ModelBenchResult {
  double forward_images_per_s = 0;  // eval mode, no autograd
  double train_images_per_s = 0;    // train mode, forward + backward of mean(embedding^2)
  double peak_rss_mib = 0;          // process peak resident memory after the runs
  int threads = 0;
};

ModelBenchResult bench_model(const ModelBenchOptions& options);

// Runs `python script --backbone <model.backbone> ... --batch ... --iters ... --warmup ... --threads ...` and parses
// the JSON line it prints (forward_images_per_s, train_images_per_s).
nlohmann::json run_torch_reference(const std::string& python, const std::string& script, const ModelBenchOptions& options);

}  // namespace ff::bench
