// Binds DataOptions to the `data.*` configuration keys and checks them together.
#include "datasets/data_options.h"

#include <cmath>
#include <set>

#include <fmt/ranges.h>

#include "src/config/schema.h"
#include "src/util/error.h"

namespace ff::datasets {

using config::Bounds;

void bind_schema(config::Schema& s, SourceOptions& o) {
  s.add("name", o.name, "the source's name in logs and the results store (default: format and index)");
  s.add("format", o.format, "how the source is stored", {"recordio", "folder", "list", "synthetic"});
  s.add("path", o.path,
        "recordio: folder with train.rec/.idx or the .rec; folder: root; list: the list file; "
        "synthetic: a `data synth` folder (empty: render on the fly)");
  s.add("root", o.root, "list: folder the listed paths are relative to (default: the list file's folder)");
  s.add("kind", o.kind, "real or synthetic identities (auto: synthetic for format synthetic)",
        {"auto", "real", "synthetic"});
  s.add("share", o.share, "fraction of every batch drawn from this source (shares sum to 1)", Bounds{0, 1, true, false});
  s.add("weight", o.weight, "loss weight of this source's classifier (label_space per_source)", Bounds::at_least(0));
  s.add("max_identities", o.max_identities, "keep only the first N identities (0: all)", Bounds::at_least(0));
  s.add("max_images_per_identity", o.max_images_per_identity, "keep only each identity's first N images (0: all)",
        Bounds::at_least(0));
  s.add("landmarks", o.landmarks, "5-point landmarks file: align every image in the pipeline (empty: the images are already aligned)");
  s.add("landmarks_format", o.landmarks_format, "landmarks file format", {"auto", "ijb", "rfw", "csv"});
  s.add("synthetic.identities", o.synthetic.identities, "generated identities (format synthetic)", Bounds::at_least(1));
  s.add("synthetic.images_per_identity", o.synthetic.images_per_identity, "generated images per identity",
        Bounds::at_least(1));
  s.add("synthetic.seed", o.synthetic.seed, "generator seed (same seed, same pixels)");
  s.add("synthetic.variation", o.synthetic.variation, "scale of within-identity variation (difficulty)",
        Bounds::at_least(0));
}

void bind_schema(config::Schema& s, DataOptions& o) {
  s.add_list<SourceOptions>("data.sources", o.sources, "training data sources, mixed per batch by share",
                            [](config::Schema& element, SourceOptions& source) { bind_schema(element, source); });
  s.add("data.label_space", o.label_space,
        "shared: one classifier, each source's labels after the previous ones; per_source: one classifier each",
        {"shared", "per_source"});
  s.add("data.epoch_source", o.epoch_source, "name of the source whose one pass is an epoch (default: the first)");
  s.add("data.steps_per_epoch", o.steps_per_epoch, "an epoch is this many steps (0: one pass over epoch_source)",
        Bounds::at_least(0));
  s.add("data.workers", o.workers, "decode and augmentation threads", Bounds::closed(1, 64));
  s.add("data.prefetch", o.prefetch, "batches prepared ahead of the training step", Bounds::closed(1, 64));
  s.add("data.max_bad_images", o.max_bad_images, "unreadable images skipped (and counted) before the run stops",
        Bounds::at_least(0));
  bind_schema(s, o.augment);
  s.add("data.pk.identities_per_batch", o.pk.identities_per_batch,
        "P: identities per batch when a triplet loss is active (train.batch_size must be P x K)", Bounds::at_least(2));
  s.add("data.pk.images_per_identity", o.pk.images_per_identity, "K: images per identity in a P x K batch",
        Bounds::at_least(2));
  s.add("data.pk.short_identities", o.pk.short_identities,
        "identities with fewer than K images: sample them with replacement, or skip them", pk_short_identity_modes());
}

std::string source_name(const SourceOptions& o, size_t index) {
  return o.name.empty() ? o.format + std::to_string(index) : o.name;
}

std::string source_kind(const SourceOptions& o) {
  if (o.kind != "auto") return o.kind;
  return o.format == "synthetic" ? "synthetic" : "real";
}

void check(const DataOptions& o) {
  if (o.sources.empty())
    fail("data.sources is empty: list at least one source, e.g. data.sources: [{{format: folder, path: DIR}}]");
  double total = 0;
  std::set<std::string> names;
  for (size_t i = 0; i < o.sources.size(); ++i) {
    const auto& s = o.sources[i];
    std::string key = "data.sources[" + std::to_string(i) + "]";
    if (s.path.empty() && s.format != "synthetic")
      fail("{}.path is empty: format {} needs the {}", key, s.format,
           s.format == "recordio" ? "pack folder or .rec file" : s.format == "list" ? "list file" : "image folder");
    if (!names.insert(source_name(s, i)).second)
      fail("{}.name: '{}' names two sources; give each a different name", key, source_name(s, i));
    total += s.share;
  }
  if (std::abs(total - 1.0) > 1e-6) {
    std::string shares;
    for (size_t i = 0; i < o.sources.size(); ++i)
      shares += (i ? " + " : "") + fmt::format("{}", o.sources[i].share);
    fail("data.sources: shares must sum to 1, got {} = {}", shares, total);
  }
  if (!o.epoch_source.empty() && !names.count(o.epoch_source))
    fail("data.epoch_source: no source is named '{}' (sources: {})", o.epoch_source, fmt::join(names, ", "));
  check(o.augment);
}

}  // namespace ff::datasets
