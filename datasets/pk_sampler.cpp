// PK epoch plans: chunks of K per identity, batches of P distinct identities, as many as possible.
#include "datasets/pk_sampler.h"

#include <algorithm>
#include <random>
#include <stdexcept>
#include <utility>

#include "src/util/error.h"
#include "src/util/splitmix.h"
#include "src/util/strings.h"

namespace ff::datasets {

namespace {

// Turns (seed, epoch) into a well-spread generator seed.
uint64_t mix(uint64_t x) { return splitmix64(x); }

// Uniform in [0, n) for n > 0 by rejection: mt19937_64's output is fixed by the standard, while the
// std:: distributions differ between standard libraries, so plans would not be reproducible.
uint64_t below(std::mt19937_64& rng, uint64_t n) {
  const uint64_t threshold = (0 - n) % n;  // 2^64 mod n: drop that many values to remove the bias
  while (true) {
    uint64_t r = rng();
    if (r >= threshold) return r % n;
  }
}

template <typename T>
void shuffle(std::vector<T>& items, std::mt19937_64& rng) {
  for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[below(rng, i)]);
}

// Weighted draws among identities in O(log n): a Fenwick tree over the weights.
class WeightTree {
 public:
  explicit WeightTree(size_t n) : tree_(n + 1, 0) {
    while (top_ * 2 <= n) top_ *= 2;
  }
  void add(size_t i, int64_t delta) {
    total_ += delta;
    for (++i; i < tree_.size(); i += i & (~i + 1)) tree_[i] += delta;
  }
  int64_t total() const { return total_; }
  // The item whose share of [0, total) contains `target`.
  size_t find(int64_t target) const {
    size_t position = 0;
    for (size_t step = top_; step > 0; step >>= 1) {
      if (position + step < tree_.size() && tree_[position + step] <= target) {
        position += step;
        target -= tree_[position];
      }
    }
    return position;
  }

 private:
  std::vector<int64_t> tree_;
  size_t top_ = 1;
  int64_t total_ = 0;
};

// The most batches of P distinct identities that chunk counts c allow: max{b : Σ min(c_i, b) ≥ P·b}.
// Σ min(c_i, b) − P·b is concave in b and 0 at b = 0, so the b that satisfy it form [0, answer].
int64_t most_batches(const std::vector<int64_t>& chunks, int64_t p) {
  int64_t total = 0;
  for (int64_t c : chunks) total += c;
  auto fits = [&](int64_t b) {
    int64_t usable = 0;
    for (int64_t c : chunks) usable += std::min(c, b);
    return usable >= p * b;
  };
  int64_t low = 0, high = total / p;
  while (low < high) {
    int64_t middle = low + (high - low + 1) / 2;
    if (fits(middle)) low = middle;
    else high = middle - 1;
  }
  return low;
}

}  // namespace

std::vector<std::string> pk_short_identity_modes() { return {"replace", "skip"}; }

PkPlan pk_epoch_order(const std::vector<int64_t>& labels, const PkOptions& options, uint64_t seed, int64_t epoch) {
  const int64_t p = options.identities_per_batch;
  const int64_t k = options.images_per_identity;
  if (p < 2) fail("pk sampler: identities per batch P must be >= 2 (a triplet needs a negative identity), got {}", p);
  if (k < 2) fail("pk sampler: images per identity K must be >= 2 (a triplet needs a positive pair), got {}", k);
  const bool replace = options.short_identities == "replace";
  if (!replace && options.short_identities != "skip")
    fail("pk sampler: unknown short_identities mode '{}': known modes are {}", options.short_identities,
         join(pk_short_identity_modes(), ", "));

  // Identities in ascending label order, each with its sample indices in ascending order, so the
  // random draws below meet them in an order that does not depend on how `labels` is stored.
  std::vector<std::pair<int64_t, int64_t>> by_label(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) by_label[i] = {labels[i], static_cast<int64_t>(i)};
  std::sort(by_label.begin(), by_label.end());
  std::vector<std::vector<int64_t>> identities;
  for (size_t i = 0; i < by_label.size(); ++i) {
    if (i == 0 || by_label[i].first != by_label[i - 1].first) identities.emplace_back();
    identities.back().push_back(by_label[i].second);
  }

  PkPlan plan;
  std::vector<std::vector<int64_t>> kept;
  for (auto& images : identities) {
    bool is_short = static_cast<int64_t>(images.size()) < k;
    plan.short_identities += is_short;
    if (!is_short || replace) kept.push_back(std::move(images));
  }
  plan.kept_identities = static_cast<int64_t>(kept.size());
  if (plan.kept_identities < p) {
    if (replace)
      fail("pk sampler: the data has {} identities, fewer than P={} identities per batch", plan.kept_identities, p);
    fail("pk sampler: {} of {} identities have at least K={} images, fewer than P={} identities per batch "
         "(short identities are skipped; data.pk.short_identities: replace would keep them)",
         plan.kept_identities, identities.size(), k, p);
  }

  std::mt19937_64 rng(mix(seed ^ mix(static_cast<uint64_t>(epoch) + 0x706b)));
  // Each kept identity's images in this epoch's order; chunk j is [j·K, (j+1)·K).
  std::vector<int64_t> chunks(kept.size());
  for (size_t i = 0; i < kept.size(); ++i) {
    auto& images = kept[i];
    const auto n = static_cast<int64_t>(images.size());
    for (int64_t extra = n; extra < k; ++extra) images.push_back(images[below(rng, static_cast<uint64_t>(n))]);
    shuffle(images, rng);
    chunks[i] = static_cast<int64_t>(images.size()) / k;
  }

  plan.batches = most_batches(chunks, p);
  plan.order.reserve(static_cast<size_t>(plan.batches * p * k));

  // Identities with at least as many chunks left as batches left are "forced": each remaining batch
  // must take them or it runs out of distinct identities before the last batch. The others are drawn
  // with weight = chunks left, from the tree. An identity becomes forced when the batches left fall
  // to its chunk count; `waiting[c]` lists identities that had c chunks left when last changed.
  std::vector<int64_t> left = chunks;
  std::vector<int64_t> next_chunk(kept.size(), 0);
  std::vector<char> is_forced(kept.size(), 0);
  std::vector<size_t> forced;
  std::vector<std::vector<size_t>> waiting(static_cast<size_t>(plan.batches) + 1);
  WeightTree weights(kept.size());
  for (size_t i = 0; i < kept.size(); ++i) {
    if (left[i] >= plan.batches) {
      is_forced[i] = 1;
      forced.push_back(i);
    } else {
      weights.add(i, left[i]);
      waiting[static_cast<size_t>(left[i])].push_back(i);
    }
  }

  std::vector<size_t> picked;
  for (int64_t batches_left = plan.batches; batches_left > 0; --batches_left) {
    for (size_t i : waiting[static_cast<size_t>(batches_left)]) {
      if (is_forced[i] || left[i] != batches_left) continue;  // stale entry: it has been drawn since
      is_forced[i] = 1;
      forced.push_back(i);
      weights.add(i, -left[i]);
    }
    std::vector<size_t>().swap(waiting[static_cast<size_t>(batches_left)]);

    picked.clear();
    if (static_cast<int64_t>(forced.size()) >= p) {
      for (size_t j = 0; j < static_cast<size_t>(p); ++j) {
        std::swap(forced[j], forced[j + below(rng, forced.size() - j)]);
        picked.push_back(forced[j]);
      }
      for (size_t i : picked) --left[i];
    } else {
      picked = forced;
      const size_t first_drawn = picked.size();
      while (static_cast<int64_t>(picked.size()) < p) {
        // Before every batch Σ_i min(left_i, batches_left) ≥ P·batches_left: true at the start by the
        // choice of B; a batch with F < P forced identities lowers the sum by exactly P, and with
        // F ≥ P the forced ones alone keep it. Unforced identities hold fewer than batches_left
        // chunks each, so more than P − F of them still have chunks: this cannot fire.
        if (weights.total() <= 0) throw std::logic_error("pk sampler: ran out of identities mid-epoch");
        size_t i = weights.find(static_cast<int64_t>(below(rng, static_cast<uint64_t>(weights.total()))));
        picked.push_back(i);
        weights.add(i, -left[i]);  // no second draw of the same identity in this batch
      }
      for (size_t j = 0; j < picked.size(); ++j) {
        size_t i = picked[j];
        --left[i];
        if (j < first_drawn) continue;
        weights.add(i, left[i]);
        if (left[i] > 0) waiting[static_cast<size_t>(left[i])].push_back(i);
      }
    }

    shuffle(picked, rng);
    for (size_t i : picked) {
      auto first = kept[i].begin() + next_chunk[i]++ * k;
      plan.order.insert(plan.order.end(), first, first + k);
    }
  }
  return plan;
}

std::string describe_short_identities(const PkPlan& plan, const PkOptions& options, int64_t identities) {
  if (plan.short_identities == 0) return "";
  const bool replace = options.short_identities == "replace";
  return fmt::format("pk sampler: {} of {} identities {} fewer than K={} images: {} (data.pk.short_identities: {})",
                     plan.short_identities, identities, plan.short_identities == 1 ? "has" : "have",
                     options.images_per_identity, replace ? "sampled with replacement" : "skipped",
                     options.short_identities);
}

}  // namespace ff::datasets
