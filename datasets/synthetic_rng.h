// The counter-based random streams behind every synthetic file: the renderer's and the protocol trees'.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <utility>
#include <vector>

#include "src/util/splitmix.h"

namespace ff::datasets {

// Key of one random stream: every (salt, seed, stream, a, b) gets its own generator, so no draw
// depends on what was rendered before or on another thread. Each writer has its own salt, which
// keeps its streams apart from the others'.
inline uint64_t synthetic_stream_key(uint64_t salt, int seed, uint64_t stream, int64_t a, int64_t b = 0) {
  uint64_t h = splitmix64(static_cast<uint64_t>(static_cast<uint32_t>(seed)) ^ salt);
  h = splitmix64(h ^ stream);
  h = splitmix64(h ^ static_cast<uint64_t>(a));
  return splitmix64(h ^ static_cast<uint64_t>(b));
}

// Counter-based generator with hand-written distributions: std:: distributions differ between
// standard libraries, and pixels must not.
class SyntheticRng {
 public:
  explicit SyntheticRng(uint64_t key) : state_(key) {}
  uint64_t next() { return splitmix64(state_++); }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  double normal(double mean = 0.0, double sigma = 1.0) {  // Box-Muller
    double u1 = 1.0 - uniform(), u2 = uniform();
    return mean + sigma * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  double clamped_normal(double mean, double sigma, double lo, double hi) {
    return std::clamp(normal(mean, sigma), lo, hi);
  }
  bool chance(double p) { return uniform() < p; }
  int below(int n) { return static_cast<int>(next() % static_cast<uint64_t>(n)); }
  int between(int lo, int hi) { return lo + below(hi - lo + 1); }  // inclusive
  // An index drawn with probability proportional to its weight.
  int pick(const std::vector<double>& weights) {
    double total = 0;
    for (double w : weights) total += w;
    double x = uniform() * total;
    for (size_t i = 0; i < weights.size(); ++i) {
      if (x < weights[i]) return static_cast<int>(i);
      x -= weights[i];
    }
    return static_cast<int>(weights.size()) - 1;
  }
  template <typename T>
  void shuffle(std::vector<T>& v) {  // Fisher-Yates
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[static_cast<size_t>(below(static_cast<int>(i)))]);
  }

 private:
  uint64_t state_;
};

}  // namespace ff::datasets
