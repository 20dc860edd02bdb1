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
};

struct TrainBenchResult {
  double images_per_s = 0;  // batch x steps / wall time of the timed steps
  double step_ms = 0;
  double peak_rss_mib = 0;
  int threads = 0;
};

TrainBenchResult bench_train(const TrainBenchOptions& options);

// The reference's arguments for the same settings: --backbone --batch --classes --steps --warmup --threads --seed.
std::vector<std::string> reference_train_args(const TrainBenchOptions& options);

}  // namespace ff::bench
