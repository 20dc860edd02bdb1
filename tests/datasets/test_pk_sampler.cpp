// PK sampler: batch structure, coverage of each epoch, determinism, short identities, errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include "datasets/pk_sampler.h"
#include "support.h"

using ff::datasets::describe_short_identities;
using ff::datasets::pk_epoch_order;
using ff::datasets::PkOptions;
using ff::datasets::PkPlan;

namespace {

PkOptions pk(int p, int k, const std::string& mode = "replace") {
  PkOptions o;
  o.identities_per_batch = p;
  o.images_per_identity = k;
  o.short_identities = mode;
  return o;
}

// Labels for identities of the given sizes, stored interleaved (sample i goes round-robin over the
// identities that still have images) so that grouping by label is exercised.
std::vector<int64_t> labels_for(const std::vector<int>& sizes) {
  std::vector<int64_t> labels;
  std::vector<int> left = sizes;
  for (bool added = true; added;) {
    added = false;
    for (size_t id = 0; id < sizes.size(); ++id)
      if (left[id] > 0) {
        --left[id];
        labels.push_back(static_cast<int64_t>(id) * 10 + 7);  // labels need not be 0..C-1
        added = true;
      }
  }
  return labels;
}

// Every batch: P distinct identities, each as K consecutive indices of that identity.
void check_batches(const PkPlan& plan, const std::vector<int64_t>& labels, int p, int k) {
  REQUIRE(plan.order.size() == static_cast<size_t>(plan.batches * p * k));
  for (int64_t b = 0; b < plan.batches; ++b) {
    std::map<int64_t, int> per_label;
    for (int j = 0; j < p; ++j) {
      int64_t label = labels.at(static_cast<size_t>(plan.order[static_cast<size_t>((b * p + j) * k)]));
      for (int i = 0; i < k; ++i) {
        int64_t index = plan.order[static_cast<size_t>((b * p + j) * k + i)];
        REQUIRE(index >= 0);
        REQUIRE(index < static_cast<int64_t>(labels.size()));
        CHECK(labels[static_cast<size_t>(index)] == label);
        ++per_label[labels[static_cast<size_t>(index)]];
      }
    }
    INFO("batch " << b);
    CHECK(per_label.size() == static_cast<size_t>(p));
    for (const auto& [label, count] : per_label) CHECK(count == k);
  }
}

bool is_permutation_of_all(const PkPlan& plan, size_t samples) {
  std::vector<int64_t> sorted = plan.order;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> all(samples);
  std::iota(all.begin(), all.end(), 0);
  return sorted == all;
}

}  // namespace

TEST_CASE("pk batches hold P identities x K images and long identities never repeat an image", "[datasets]") {
  // Sizes 9, 8, 8, 8, 5, 3, 2 with K = 4: chunks 2, 2, 2, 2, 1 and one padded chunk each for the two
  // short identities (replace) = 11 chunks. P = 3: B = max{b : Σ min(c, b) ≥ 3b} = 3 (Σ min(c, 3) =
  // 11 ≥ 9, Σ min(c, 4) = 11 < 12), so 9 chunks are used and 2 (< P) are left over.
  const std::vector<int> sizes = {9, 8, 8, 8, 5, 3, 2};
  auto labels = labels_for(sizes);
  for (int64_t epoch = 0; epoch < 20; ++epoch) {
    INFO("epoch " << epoch);
    PkPlan plan = pk_epoch_order(labels, pk(3, 4), 5, epoch);
    CHECK(plan.batches == 3);
    CHECK(plan.kept_identities == 7);
    CHECK(plan.short_identities == 2);
    check_batches(plan, labels, 3, 4);
    std::map<int64_t, std::vector<int64_t>> by_label;
    for (int64_t index : plan.order) by_label[labels[static_cast<size_t>(index)]].push_back(index);
    for (auto& [label, indices] : by_label) {
      std::set<int64_t> distinct(indices.begin(), indices.end());
      int size = sizes[static_cast<size_t>((label - 7) / 10)];
      if (size >= 4) {
        CHECK(distinct.size() == indices.size());  // without replacement
      } else {
        // A short identity fills its chunk with all of its images plus repeats.
        CHECK(indices.size() == 4);
        CHECK(distinct.size() == static_cast<size_t>(size));
      }
    }
  }
}

TEST_CASE("pk epochs use every chunk when the counts allow it", "[datasets]") {
  // Balanced: 8 identities x 8 images, P = 4, K = 4 → 16 chunks, 4 batches, every image exactly once.
  auto balanced = labels_for(std::vector<int>(8, 8));
  // One large identity: 16 + 4 x 4 images, P = 2, K = 4 → chunks 4, 1, 1, 1, 1 and B = 4, which is
  // only reachable when the large identity is in every batch (the draw must be forced to take it).
  auto skewed = labels_for({16, 4, 4, 4, 4});
  for (int64_t epoch = 0; epoch < 50; ++epoch) {
    INFO("epoch " << epoch);
    PkPlan plan = pk_epoch_order(balanced, pk(4, 4), 17, epoch);
    CHECK(plan.batches == 4);
    check_batches(plan, balanced, 4, 4);
    CHECK(is_permutation_of_all(plan, balanced.size()));

    plan = pk_epoch_order(skewed, pk(2, 4), 17, epoch);
    CHECK(plan.batches == 4);
    check_batches(plan, skewed, 2, 4);
    CHECK(is_permutation_of_all(plan, skewed.size()));
  }
  // More chunks than batches: 40 + 4 + 4 images, P = 2, K = 4 → chunks 10, 1, 1 and B = 2 (Σ min(c, 3)
  // = 5 < 6): the large identity fills one slot of both batches, 8 of its 40 images are used.
  auto dominant = labels_for({40, 4, 4});
  PkPlan plan = pk_epoch_order(dominant, pk(2, 4), 3, 0);
  CHECK(plan.batches == 2);
  check_batches(plan, dominant, 2, 4);
  int64_t from_large = std::count_if(plan.order.begin(), plan.order.end(),
                                     [&](int64_t i) { return dominant[static_cast<size_t>(i)] == 7; });
  CHECK(from_large == 8);
}

TEST_CASE("pk epoch order is deterministic in (seed, epoch) and changes with either", "[datasets]") {
  auto labels = labels_for({12, 9, 8, 8, 7, 6, 5, 4, 4, 3});
  PkOptions options = pk(4, 3);
  PkPlan a = pk_epoch_order(labels, options, 42, 3);
  PkPlan b = pk_epoch_order(labels, options, 42, 3);
  CHECK(a.order == b.order);
  CHECK(a.batches == b.batches);
  CHECK(pk_epoch_order(labels, options, 42, 4).order != a.order);
  CHECK(pk_epoch_order(labels, options, 43, 3).order != a.order);
  // The plan depends on the labels' values, not on how the samples happen to be numbered: the same
  // multiset of labels in another storage order yields batches of the same identities.
  std::vector<int64_t> reversed(labels.rbegin(), labels.rend());
  PkPlan c = pk_epoch_order(reversed, options, 42, 3);
  REQUIRE(c.order.size() == a.order.size());
  for (size_t i = 0; i < a.order.size(); ++i)
    CHECK(reversed[static_cast<size_t>(c.order[i])] == labels[static_cast<size_t>(a.order[i])]);
}

TEST_CASE("pk short identities: replace keeps them, skip drops them, and the log line says so", "[datasets]") {
  auto labels = labels_for({8, 8, 8, 3, 2});  // labels 7, 17, 27 long; 37, 47 short for K = 4
  PkPlan replaced = pk_epoch_order(labels, pk(2, 4, "replace"), 1, 0);
  CHECK(replaced.kept_identities == 5);
  CHECK(replaced.short_identities == 2);
  check_batches(replaced, labels, 2, 4);
  CHECK(describe_short_identities(replaced, pk(2, 4, "replace"), 5) ==
        "pk sampler: 2 of 5 identities have fewer than K=4 images: sampled with replacement "
        "(data.pk.short_identities: replace)");

  PkPlan skipped = pk_epoch_order(labels, pk(2, 4, "skip"), 1, 0);
  CHECK(skipped.kept_identities == 3);
  CHECK(skipped.short_identities == 2);
  CHECK(skipped.batches == 3);  // chunks 2, 2, 2 over P = 2
  check_batches(skipped, labels, 2, 4);
  for (int64_t index : skipped.order) CHECK(labels[static_cast<size_t>(index)] < 37);
  CHECK(describe_short_identities(skipped, pk(2, 4, "skip"), 5) ==
        "pk sampler: 2 of 5 identities have fewer than K=4 images: skipped (data.pk.short_identities: skip)");

  PkPlan one = pk_epoch_order(labels_for({8, 8, 3}), pk(2, 4), 1, 0);
  CHECK(describe_short_identities(one, pk(2, 4), 3) ==
        "pk sampler: 1 of 3 identities has fewer than K=4 images: sampled with replacement "
        "(data.pk.short_identities: replace)");
  PkPlan none = pk_epoch_order(labels_for({8, 8, 4}), pk(2, 4), 1, 0);
  CHECK(none.short_identities == 0);
  CHECK(describe_short_identities(none, pk(2, 4), 3).empty());
}

TEST_CASE("pk sampler errors name the setting and the numbers", "[datasets]") {
  using ff::test::error_of;
  auto labels = labels_for({8, 3, 3});
  CHECK(error_of([&] { pk_epoch_order(labels, pk(1, 4), 0, 0); }) ==
        "pk sampler: identities per batch P must be >= 2 (a triplet needs a negative identity), got 1");
  CHECK(error_of([&] { pk_epoch_order(labels, pk(2, 1), 0, 0); }) ==
        "pk sampler: images per identity K must be >= 2 (a triplet needs a positive pair), got 1");
  CHECK(error_of([&] { pk_epoch_order(labels, pk(2, 4, "drop"), 0, 0); }) ==
        "pk sampler: unknown short_identities mode 'drop': known modes are replace, skip");
  CHECK(error_of([&] { pk_epoch_order(labels, pk(2, 4, "skip"), 0, 0); }) ==
        "pk sampler: 1 of 3 identities have at least K=4 images, fewer than P=2 identities per batch "
        "(short identities are skipped; data.pk.short_identities: replace would keep them)");
  CHECK(error_of([&] { pk_epoch_order(labels, pk(4, 4), 0, 0); }) ==
        "pk sampler: the data has 3 identities, fewer than P=4 identities per batch");
  CHECK(error_of([&] { pk_epoch_order({}, pk(2, 2), 0, 0); }) ==
        "pk sampler: the data has 0 identities, fewer than P=2 identities per batch");
  // Enough identities once the short ones are kept.
  CHECK(pk_epoch_order(labels, pk(3, 4), 0, 0).batches == 1);
}
