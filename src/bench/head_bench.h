// `faceforge bench heads`: training steps per second of every loss head on the same random
// embeddings (classifier or triplet loss, forward + backward + SGD step; no backbone), reported
// relative to softmax measured in the same invocation.
#pragma once
#include <string>
#include <vector>

namespace ff::bench {

struct HeadBenchOptions {
  int classes = 10000;
  int batch = 128;
  int embedding_size = 512;
  int iters = 20;
  int warmup = 3;
  int threads = 0;  // 0 = all cores
};

struct HeadBenchRow {
  std::string head;
  double steps_per_s = 0;
  double relative_to_softmax = 0;
};

std::vector<HeadBenchRow> bench_heads(const HeadBenchOptions& options);

}  // namespace ff::bench
