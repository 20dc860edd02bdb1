// Mixed sources: caps, label offsets, exact per-batch quotas and each rank's share of each pass.
#include "datasets/mixing.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <random>

#include <fmt/format.h>

#include "datasets/aligned_source.h"
#include "src/util/error.h"
#include "src/util/splitmix.h"

namespace ff::datasets {

MixMember make_member(std::unique_ptr<Source> source, const SourceOptions& o, size_t index) {
  MixMember m;
  m.name = source_name(o, index);
  m.kind = source_kind(o);
  m.format = o.format;
  m.share = o.share;
  m.weight = o.weight;
  // Group record indices by label (records keep their order within an identity).
  std::map<int64_t, std::vector<int64_t>> by_label;
  for (int64_t i = 0; i < source->size(); ++i) by_label[source->label(i)].push_back(i);
  int64_t dense = 0;
  for (auto& [label, records] : by_label) {
    if (o.max_identities > 0 && dense >= o.max_identities) break;
    size_t keep = records.size();
    if (o.max_images_per_identity > 0) keep = std::min(keep, static_cast<size_t>(o.max_images_per_identity));
    for (size_t j = 0; j < keep; ++j) {
      m.records.push_back(records[j]);
      m.labels.push_back(dense);
    }
    ++dense;
  }
  m.identities = dense;
  m.source = std::move(source);
  if (m.records.empty()) fail("data.sources[{}] ({}): no images left after the caps", index, m.name);
  return m;
}

MixedSource::MixedSource(std::vector<MixMember> members, bool per_source_labels)
    : members_(std::move(members)), per_source_labels_(per_source_labels) {
  int64_t offset = 0;
  for (size_t k = 0; k < members_.size(); ++k) {
    auto& m = members_[k];
    m.label_offset = per_source_labels_ ? 0 : offset;
    offset += m.identities;
    first_.push_back(static_cast<int64_t>(origin_.size()));
    origin_.insert(origin_.end(), m.records.size(), static_cast<int>(k));
  }
}

int64_t MixedSource::num_classes() const {
  int64_t n = 0;
  for (const auto& m : members_) n = per_source_labels_ ? std::max(n, m.identities) : n + m.identities;
  return n;
}

int64_t MixedSource::label(int64_t index) const {
  const auto& m = members_[static_cast<size_t>(origin(index))];
  return m.labels[static_cast<size_t>(index - first_[static_cast<size_t>(origin(index))])] + m.label_offset;
}

void MixedSource::load(int64_t index, cv::Mat& bgr) const {
  const auto& m = members_[static_cast<size_t>(origin(index))];
  int64_t record = m.records[static_cast<size_t>(index - first_[static_cast<size_t>(origin(index))])];
  try {
    m.source->load(record, bgr);
  } catch (const std::exception& e) {
    fail("source '{}': {}", m.name, e.what());
  }
}

bool MixedSource::read_encoded(int64_t index, std::string& bytes) const {
  const auto& m = members_[static_cast<size_t>(origin(index))];
  return m.source->read_encoded(m.records[static_cast<size_t>(index - first_[static_cast<size_t>(origin(index))])],
                                bytes);
}

std::string MixedSource::record_name(int64_t index) const {
  const auto& m = members_[static_cast<size_t>(origin(index))];
  return m.name + ": " +
         m.source->record_name(m.records[static_cast<size_t>(index - first_[static_cast<size_t>(origin(index))])]);
}

std::string MixedSource::describe() const {
  if (members_.size() == 1) return members_[0].source->describe();
  std::string out;
  for (const auto& m : members_)
    out += fmt::format("{}{} ({}, share {}): {} identities, {} images", out.empty() ? "" : "; ", m.name, m.kind,
                       m.share, m.identities, m.records.size());
  return out;
}

std::unique_ptr<MixedSource> open_sources(const DataOptions& options) {
  check(options);
  std::vector<MixMember> members;
  for (size_t i = 0; i < options.sources.size(); ++i) {
    const auto& o = options.sources[i];
    std::unique_ptr<Source> source;
    try {
      source = open_source(o);
      if (!o.landmarks.empty()) source = make_aligned_source(std::move(source), o.landmarks, o.landmarks_format);
    } catch (const Error& e) {
      fail("data.sources[{}] ({}): {}", i, source_name(o, i), e.what());
    }
    members.push_back(make_member(std::move(source), o, i));
  }
  return std::make_unique<MixedSource>(std::move(members), options.label_space == "per_source");
}

std::vector<int64_t> shard_batches(const std::vector<int64_t>& order, int batch_size, Shard shard) {
  const int64_t per_rank = static_cast<int64_t>(order.size()) / batch_size / shard.world;
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(per_rank * batch_size));
  for (int64_t b = 0; b < per_rank; ++b) {
    auto first = order.begin() + (b * shard.world + shard.rank) * batch_size;
    out.insert(out.end(), first, first + batch_size);
  }
  return out;
}

std::vector<std::vector<int>> batch_quotas(const std::vector<double>& shares, int batch_size, int64_t steps) {
  // Exact integer arithmetic: each share as a multiple of 2^-20 of the batch, the units adjusted so
  // they sum to the whole batch; the remainders accumulate and the largest ones get the spare slots.
  constexpr int64_t kUnit = int64_t{1} << 20;
  const size_t n = shares.size();
  std::vector<int64_t> units(n);
  int64_t total = 0;
  for (size_t k = 0; k < n; ++k) total += units[k] = std::llround(shares[k] * static_cast<double>(batch_size * kUnit));
  auto largest = std::max_element(units.begin(), units.end());
  *largest += static_cast<int64_t>(batch_size) * kUnit - total;
  std::vector<int> base(n);
  std::vector<int64_t> remainder(n), carried(n, 0);
  int spare = batch_size;
  for (size_t k = 0; k < n; ++k) {
    base[k] = static_cast<int>(units[k] / kUnit);
    remainder[k] = units[k] % kUnit;
    spare -= base[k];
  }
  std::vector<std::vector<int>> out(static_cast<size_t>(steps), base);
  std::vector<size_t> by_carry(n);
  for (int64_t s = 0; s < steps; ++s) {
    for (size_t k = 0; k < n; ++k) carried[k] += remainder[k];
    std::iota(by_carry.begin(), by_carry.end(), size_t{0});
    std::stable_sort(by_carry.begin(), by_carry.end(), [&](size_t a, size_t b) { return carried[a] > carried[b]; });
    for (int j = 0; j < spare; ++j) {
      ++out[static_cast<size_t>(s)][by_carry[static_cast<size_t>(j)]];
      carried[by_carry[static_cast<size_t>(j)]] -= kUnit;
    }
  }
  return out;
}

MixSchedule::MixSchedule(const MixedSource& source, int batch_size, Shard shard, uint64_t seed, int epoch_member,
                         int64_t steps_per_epoch)
    : source_(source), batch_size_(batch_size), shard_(shard), seed_(seed), epoch_member_(epoch_member) {
  if (shard.world < 1 || shard.rank < 0 || shard.rank >= shard.world)
    fail("data shard: rank {} of world {} is not a valid rank", shard.rank, shard.world);
  const auto& members = source.members();
  std::vector<double> shares;
  for (size_t k = 0; k < members.size(); ++k) {
    shard_size_.push_back(static_cast<int64_t>(members[k].records.size()) / shard.world);
    shares.push_back(members[k].share);
    if (shard_size_.back() < 1)
      fail("source '{}' has {} images, fewer than one per rank ({} ranks)", members[k].name, members[k].records.size(),
           shard.world);
  }
  epoch_is_a_pass_ = steps_per_epoch == 0;
  const double epoch_share = members[static_cast<size_t>(epoch_member)].share;
  int64_t pass_images = shard_size_[static_cast<size_t>(epoch_member)];
  if (epoch_is_a_pass_) {
    // As many steps as the epoch member's pass fills (quotas vary by one, so check the sum).
    steps_ = static_cast<int64_t>(static_cast<double>(pass_images) / (epoch_share * batch_size)) + 1;
    while (steps_ > 0) {
      auto q = batch_quotas(shares, batch_size, steps_);
      int64_t used = 0;
      for (const auto& step : q) used += step[static_cast<size_t>(epoch_member)];
      if (used <= pass_images) break;
      --steps_;
    }
    if (steps_ < 1)
      fail("source '{}' holds {} images per rank, less than its share ({} of {}) of one batch",
           members[static_cast<size_t>(epoch_member)].name, pass_images, epoch_share, batch_size);
  } else {
    steps_ = steps_per_epoch;
  }
  quotas_ = batch_quotas(shares, batch_size, steps_);
  per_epoch_.assign(members.size(), 0);
  for (const auto& step : quotas_)
    for (size_t k = 0; k < members.size(); ++k) per_epoch_[k] += step[k];
}

std::vector<int64_t> MixSchedule::pass(int member, int64_t pass_index) const {
  const auto& m = source_.members()[static_cast<size_t>(member)];
  std::vector<int64_t> order(m.records.size());
  std::iota(order.begin(), order.end(), source_.first_index(member));
  std::mt19937_64 rng(splitmix64(seed_ ^ splitmix64((static_cast<uint64_t>(member) << 32) ^
                                                    static_cast<uint64_t>(pass_index + 1))));
  std::shuffle(order.begin(), order.end(), rng);
  int64_t n = shard_size_[static_cast<size_t>(member)];
  return {order.begin() + shard_.rank * n, order.begin() + (shard_.rank + 1) * n};
}

std::vector<int64_t> MixSchedule::epoch_order(int64_t epoch) const {
  const size_t members = source_.members().size();
  // Where each member's stream stands at the start of this epoch.
  std::vector<int64_t> position(members);
  for (size_t k = 0; k < members; ++k)
    position[k] = epoch_is_a_pass_ && static_cast<int>(k) == epoch_member_ ? epoch * shard_size_[k]
                                                                            : epoch * per_epoch_[k];
  std::vector<int64_t> order;
  order.reserve(static_cast<size_t>(steps_ * batch_size_));
  std::vector<int64_t> cached_pass_index(members, -1);
  std::vector<std::vector<int64_t>> cached(members);
  for (const auto& step : quotas_) {
    for (size_t k = 0; k < members; ++k) {
      for (int j = 0; j < step[k]; ++j, ++position[k]) {
        int64_t p = position[k] / shard_size_[k];
        if (p != cached_pass_index[k]) {
          cached[k] = pass(static_cast<int>(k), p);
          cached_pass_index[k] = p;
        }
        order.push_back(cached[k][static_cast<size_t>(position[k] % shard_size_[k])]);
      }
    }
  }
  return order;
}

}  // namespace ff::datasets
