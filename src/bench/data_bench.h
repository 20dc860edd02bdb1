// `faceforge bench data`: decoded + augmented images/s of the training loader on one source,
// optionally beside PyTorch's DataLoader on the same RecordIO pack (benchmarks/data_reference.py).
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "datasets/augment.h"

namespace ff::bench {

struct DataBenchOptions {
  std::string source;            // pack, folder, list file or `data synth` folder
  std::string format = "auto";   // how `source` is stored
  int threads = 2;               // loader workers (decode + augment threads)
  int batch = 128;
  int64_t images = 5000;         // timed images (after the warm-up batches)
  int warmup_batches = 3;
  uint64_t seed = 0;
  datasets::AugmentOptions augment;  // default: flip only, as the reference
};

struct DataBenchResult {
  double images_per_second = 0;
  int64_t images = 0;
  double seconds = 0;
  std::string source;  // the source's one-line description
};

DataBenchResult bench_data(const DataBenchOptions& options);

// Runs the Python reference on the same pack with `threads` DataLoader workers; its JSON line.
nlohmann::json run_data_reference(const std::string& python, const std::string& script, const DataBenchOptions& options);

}  // namespace ff::bench
