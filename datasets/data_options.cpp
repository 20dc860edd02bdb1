// Binds DataOptions to the `data.*` configuration keys.
#include "datasets/data_options.h"

#include "src/config/schema.h"

namespace ff::datasets {

using config::Bounds;

void bind_schema(config::Schema& s, DataOptions& o) {
  s.add("data.format", o.format, "training data source: an image folder or the embedded generator",
        {"folder", "synthetic"});
  s.add("data.root", o.root, "image folder root, one sub-folder per identity (format: folder)");
  s.add("data.synthetic.identities", o.synthetic.identities, "synthetic training identities", Bounds::at_least(1));
  s.add("data.synthetic.images_per_identity", o.synthetic.images_per_identity, "synthetic images per identity",
        Bounds::at_least(1));
  s.add("data.synthetic.seed", o.synthetic.seed, "synthetic dataset seed (same seed, same pixels)");
  s.add("data.synthetic.variation", o.synthetic.variation, "scale of within-identity variation (difficulty)",
        Bounds::at_least(0));
  s.add("data.workers", o.workers, "decode and augmentation threads", Bounds::closed(1, 64));
  s.add("data.prefetch", o.prefetch, "batches prepared ahead of the training step", Bounds::closed(1, 64));
  s.add("data.flip", o.flip, "probability of a random horizontal flip", Bounds::closed(0, 1));
  s.add("data.pk.identities_per_batch", o.pk.identities_per_batch,
        "P: identities per batch when a triplet loss is active (train.batch_size must be P x K)", Bounds::at_least(2));
  s.add("data.pk.images_per_identity", o.pk.images_per_identity, "K: images per identity in a P x K batch",
        Bounds::at_least(2));
  s.add("data.pk.short_identities", o.pk.short_identities,
        "identities with fewer than K images: sample them with replacement, or skip them", pk_short_identity_modes());
}

}  // namespace ff::datasets
