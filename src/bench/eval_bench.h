// `faceforge bench eval`: IJB-C-sized template aggregation, 1:1 scoring and 1:N search, and a
// 6,000-pair verification evaluation, all from features, timed beside a NumPy reference doing the
// same work on the same arrays (benchmarks/eval_reference.py).
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace ff::bench {

// Sizes default to IJB-C's (PROTOCOLS.md): 469,375 images, 23,124 templates, 15,658,489 pairs of
// which 19,557 genuine; 1:N with 3,500 gallery and 19,593 probe templates. The data are random
// features with identity structure (a subject centre plus noise), so every metric is finite.
struct EvalBenchOptions {
  int64_t images = 469375;
  int64_t templates = 23124;
  int64_t pairs = 15658489;
  int64_t genuine = 19557;
  // 1:1 pairs join an enrollment template (the first share of the templates) to a verification
  // template (the rest), as IJB-C's 1:1 protocol does; this sets how dense the pair matrix is.
  double enrollment_share = 0.15;
  int64_t gallery = 3500;
  int64_t probes = 19593;
  int64_t verification_pairs = 6000;
  int dim = 512;
  // Per-element noise of an image feature around its subject centre (centre elements ~ N(0, 1)):
  // at 10, same-subject templates of 512-d meet at cosine ~0.2, so TAR@FAR is not saturated.
  double image_noise = 10.0;
  uint64_t seed = 0;
  int threads = 0;  // 0 = all cores
  std::string data_dir;  // where the arrays for the reference are written (a temp folder when empty)
};

// Seconds per stage plus the headline metrics (so the reference can be checked to compute the same).
nlohmann::json bench_eval(const EvalBenchOptions& options, const std::string& reference_python,
                          const std::string& reference_script);

}  // namespace ff::bench
