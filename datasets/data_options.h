// Training-data options (`data.*` keys): which source, where it lives, and how batches are produced.
#pragma once
#include <string>

#include "datasets/pk_sampler.h"
#include "datasets/synthetic.h"

namespace ff::config {
class Schema;
}

namespace ff::datasets {

struct DataOptions {
  std::string format = "folder";  // folder: root/<identity>/<image>; synthetic: rendered on the fly
  std::string root;               // image folder root (format: folder)
  SyntheticOptions synthetic;     // generator settings (format: synthetic)
  int workers = 2;                // decode/augment threads
  int prefetch = 4;               // batches prepared ahead of the trainer
  double flip = 0.5;              // probability of a random horizontal flip
  PkOptions pk;                   // P x K batches, used whenever a triplet loss is active
};

void bind_schema(config::Schema& schema, DataOptions& options);

}  // namespace ff::datasets
