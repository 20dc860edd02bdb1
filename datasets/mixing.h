// Several training sources as one: caps applied, labels in one shared space or per source, and the
// per-batch quotas that honour each source's share exactly (rounding spread over an epoch's steps).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "datasets/data_options.h"
#include "datasets/source.h"

namespace ff::datasets {

// One member of a MixedSource and what survived its caps.
struct MixMember {
  std::string name, kind, format;
  std::unique_ptr<Source> source;
  std::vector<int64_t> records;  // kept records of `source`, identity by identity
  std::vector<int64_t> labels;   // their labels, dense from 0 within the member
  int64_t identities = 0;        // after caps
  int64_t label_offset = 0;      // added to `labels` in the shared label space
  double share = 1, weight = 1;
};

class MixedSource : public Source {
 public:
  // `per_source_labels`: label() is the member's own label (each member has its own classifier);
  // otherwise members' labels follow each other (member k starts after members 0..k-1).
  MixedSource(std::vector<MixMember> members, bool per_source_labels);

  int64_t size() const override { return static_cast<int64_t>(origin_.size()); }
  int64_t num_classes() const override;  // shared: the sum; per-source: the largest member's
  int64_t label(int64_t index) const override;
  int origin(int64_t index) const override { return origin_[static_cast<size_t>(index)]; }
  void load(int64_t index, cv::Mat& bgr) const override;
  std::string describe() const override;
  std::string record_name(int64_t index) const override;  // "<member>: <member's record name>"
  bool read_encoded(int64_t index, std::string& bytes) const override;

  const std::vector<MixMember>& members() const { return members_; }
  int64_t first_index(int member) const { return first_[static_cast<size_t>(member)]; }

 private:
  std::vector<MixMember> members_;
  bool per_source_labels_;
  std::vector<int64_t> first_;  // index of each member's first record
  std::vector<int> origin_;     // member of each index
};

// Caps the member's records: the first `max_identities` identities in label order, each with its
// first `max_images_per_identity` images in record order; labels renumbered densely.
MixMember make_member(std::unique_ptr<Source> source, const SourceOptions& options, size_t index);

// Opens every `data.sources` entry (with its caps and in-pipeline alignment) as one MixedSource.
std::unique_ptr<MixedSource> open_sources(const DataOptions& options);

// Which part of the data this process reads: rank r of `world` gets a disjoint, equal-sized share
// of every source's shuffled records (the remainder of each pass is dropped).
struct Shard {
  int rank = 0;
  int world = 1;
};

// Rank `shard.rank`'s batches of an epoch order laid out batch after batch (P x K orders): batches
// rank, rank + world, ...; every rank gets the same number, the remainder is dropped.
std::vector<int64_t> shard_batches(const std::vector<int64_t>& order, int batch_size, Shard shard);

// The images of each member per step: every batch holds exactly `batch_size` images, member k
// contributing floor(B share_k) or one more, chosen by the largest accumulated remainder so that
// after s steps member k has supplied s B share_k images to within one.
std::vector<std::vector<int>> batch_quotas(const std::vector<double>& shares, int batch_size, int64_t steps);

// An epoch's sample order for one rank: `steps_per_epoch` batches, member by member within each
// batch. Each member is read as an endless stream of passes, each pass a shuffle (seed, member,
// pass) cut into `world` disjoint slices; the epoch-defining member starts a new pass every epoch
// (its epoch is one pass, each image at most once), the others carry on where they stopped.
class MixSchedule {
 public:
  MixSchedule(const MixedSource& source, int batch_size, Shard shard, uint64_t seed, int epoch_member,
              int64_t steps_per_epoch);  // steps_per_epoch 0: one pass of epoch_member
  int64_t steps_per_epoch() const { return steps_; }
  const std::vector<std::vector<int>>& quotas() const { return quotas_; }  // [step][member]
  std::vector<int64_t> epoch_order(int64_t epoch) const;
  int64_t shard_size(int member) const { return shard_size_[static_cast<size_t>(member)]; }
  // Images member k supplies per epoch (the same every epoch).
  int64_t per_epoch(int member) const { return per_epoch_[static_cast<size_t>(member)]; }

 private:
  std::vector<int64_t> pass(int member, int64_t pass_index) const;  // this rank's slice

  const MixedSource& source_;
  int batch_size_;
  Shard shard_;
  uint64_t seed_;
  int epoch_member_;
  bool epoch_is_a_pass_;
  int64_t steps_ = 0;
  std::vector<std::vector<int>> quotas_;
  std::vector<int64_t> shard_size_, per_epoch_;
};

}  // namespace ff::datasets
