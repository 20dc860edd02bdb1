// `faceforge bench pfc`: what Partial FC costs one rank — centre and logits memory, peak RSS, and the
// time of a classifier step alone and of a whole training step with a backbone — at a class count and
// sample rate, so sampling's savings can be read off against sample_rate 1 on the same machine.
#pragma once
#include <cstdint>
#include <string>

namespace ff::dist {
class World;
}

namespace ff::bench {

struct PfcBenchOptions {
  int64_t classes = 1000000;
  int dim = 512;
  int world = 1;  // ranks; the CLI starts this many local workers when no launcher did
  double sample_rate = 0.1;
  int batch = 64;        // images (embeddings) per rank
  std::string backbone;  // "" = head alone; e.g. "mbf": also a full step (backbone forward+backward, grad all-reduce, SGD, Partial FC)
  int iters = 3;
  int warmup = 1;
  int threads = 0;  // threads per rank, 0 = cores / world
  bool sparse_update = true;
};

struct PfcBenchRank {
  int rank = 0;
  int64_t local_classes = 0;
  int64_t sampled = 0;       // classes (logit columns, one centre each) scored per step, mean over the timed steps
  double centre_mib = 0;     // weight + momentum buffers of this rank
  double logits_mib = 0;     // global batch x sampled columns x 4 bytes (the logits matrix this rank holds)
  double peak_rss_mib = 0;   // getrusage(RUSAGE_SELF).ru_maxrss at the end
  double head_step_ms = 0;   // PartialFC forward + backward + update on random embeddings, mean over iters
  double full_step_ms = 0;   // with the backbone (0 when none)
  // The same steps in this process's CPU time (all its threads): on a machine shared with other
  // work, wall time stretches with the load while CPU time barely moves.
  double head_step_cpu_ms = 0;
  double full_step_cpu_ms = 0;
};

// One rank's part of the benchmark; every rank of `world` must call it with the same options
// (it runs collectives). Embeddings, labels and images are random from fixed seeds.
PfcBenchRank bench_pfc_rank(const PfcBenchOptions& options, dist::World& world);

}  // namespace ff::bench
