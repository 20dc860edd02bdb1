// `faceforge bench train`: steady-state images/s and peak memory of the whole training step
// (backbone forward and backward, margin head through Partial FC, SGD, the classifier's update) on
// in-memory tensors, as arcface_torch's synthetic dataset does, so the data pipeline is measured
// separately (`bench data`). scripts/bench/reference_train.py is the same step in Python PyTorch.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "backbones/backbone_options.h"

namespace ff::bench {

struct TrainBenchOptions {
  backbones::BackboneOptions model;  // model.backbone names the network
  int batch = 64;
  std::string head = "arcface";      // any margin head; s = 64, m = the head's default
  double sample_rate = 1.0;          // Partial FC
  int classes = 10000;
  int steps = 10;                    // timed steps
  int warmup = 2;                    // untimed steps first (allocator, oneDNN caches, momentum buffers)
  int threads = 0;                   // 0 = all cores
  int seed = 0;
  std::string device = "cpu";        // cpu | cuda (a CUDA LibTorch); model.autocast fp16 adds loss scaling
};

struct TrainBenchResult {
  double images_per_s = 0;  // batch x steps / wall time of the timed steps
  double step_ms = 0;
  double peak_rss_mib = 0;
  double peak_device_mib = 0;       // CUDA: the caching allocator's peak (0 on CPU)
  double flops_per_image = 0;       // one training step's: 3 x the forward pass's 2 x MACs, plus the classifier's
  double tflops = 0;                // achieved: flops_per_image x images_per_s
  int threads = 0;
};

TrainBenchResult bench_train(const TrainBenchOptions& options);

// The reference's arguments for the same settings: --backbone --batch --classes --steps --warmup --threads --seed
// --head --sample-rate --device, and --fp16 under model.autocast fp16.
std::vector<std::string> reference_train_args(const TrainBenchOptions& options);

}  // namespace ff::bench
