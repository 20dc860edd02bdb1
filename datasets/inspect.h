// `faceforge data inspect`: what a training source holds (identities, images per identity, label
// range) and how many of its records cannot be decoded.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "datasets/source.h"

namespace ff::datasets {

struct InspectReport {
  std::string description;
  int64_t images = 0;
  int64_t identities = 0;  // distinct labels
  int64_t min_label = 0, max_label = 0;
  int64_t images_per_identity_min = 0, images_per_identity_max = 0;
  double images_per_identity_median = 0;
  bool decoded = false;             // whether every image was decoded
  int64_t unreadable = 0;           // images that failed to decode (when decoded)
  std::vector<std::string> errors;  // the first few decode errors
};

// Reads every label; with `decode`, also decodes every image on `threads` threads, calling
// `progress(done, total)` now and then.
InspectReport inspect_source(const Source& source, bool decode, int threads,
                             const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace ff::datasets
