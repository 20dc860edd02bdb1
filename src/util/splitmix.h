// splitmix64 (Steele, Lea & Flood 2014): one well-mixed 64-bit value from another. Used to derive
// independent, reproducible generator seeds from (seed, epoch, stream, ...) keys.
#pragma once
#include <cstdint>

namespace ff {

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

}  // namespace ff
