// Training-data options (`data.*` keys): the sources and how they mix, augmentation, and how
// batches are produced.
#pragma once
#include <string>
#include <vector>

#include "datasets/augment.h"
#include "datasets/pk_sampler.h"
#include "datasets/synthetic.h"

namespace ff::config {
class Schema;
}

namespace ff::datasets {

// One entry of `data.sources`.
struct SourceOptions {
  std::string name;               // in logs and the results store; default "<format><index>"
  std::string format = "folder";  // recordio | folder | list | synthetic
  // recordio: a folder holding train.rec/train.idx, or the .rec file; folder: the root with one
  // sub-folder per identity; list: the list file; synthetic: a `faceforge data synth` output folder,
  // or empty to render the identities on the fly.
  std::string path;
  std::string root;            // list: folder the list's relative paths start from (default: the list's folder)
  std::string kind = "auto";   // real | synthetic; auto: synthetic for format synthetic, else real
  double share = 1;            // fraction of every batch drawn from this source
  double weight = 1;           // loss weight of this source's classifier (data.label_space: per_source)
  int max_identities = 0;      // keep the first N identities (0: all)
  int max_images_per_identity = 0;  // keep each identity's first N images (0: all)
  std::string landmarks;       // align each image in the pipeline with these 5-point landmarks
  std::string landmarks_format = "auto";  // ijb | rfw | csv | auto
  SyntheticOptions synthetic;  // the generator's settings (format synthetic, empty path)
};

struct DataOptions {
  std::vector<SourceOptions> sources;  // at least one; shares sum to 1
  std::string label_space = "shared";  // shared: labels offset source after source; per_source: a classifier each
  std::string epoch_source;            // the source whose one pass is an epoch (default: the first)
  int steps_per_epoch = 0;             // > 0: an epoch is this many steps instead
  int workers = 2;                     // decode/augment threads
  int prefetch = 4;                    // batches prepared ahead of the trainer
  int max_bad_images = 100;            // unreadable images skipped (and counted) before the run stops
  AugmentOptions augment;
  PkOptions pk;                        // P x K batches, used whenever a triplet loss is active
};

void bind_schema(config::Schema& schema, DataOptions& options);
void bind_schema(config::Schema& schema, SourceOptions& options);  // relative keys of one source

// The source's name as logged ("real", or "recordio0" when unnamed) and its kind (real | synthetic).
std::string source_name(const SourceOptions& options, size_t index);
std::string source_kind(const SourceOptions& options);

// Cross-key checks: at least one source, each with the paths its format needs, shares summing to 1,
// names unique, epoch_source naming a source. Errors name the keys.
void check(const DataOptions& options);

}  // namespace ff::datasets
