// PK sampling for triplet training: batches of P identities x K images, one epoch at a time.
//
// One epoch, exactly:
//   1. Images are grouped by label. An identity with n < K images is short: `skip` leaves it out,
//      `replace` keeps it as one chunk of K made of all its n images plus K − n repeats drawn
//      uniformly with replacement from them, in random order.
//   2. Every other kept identity's images are shuffled and cut into c = floor(n / K) chunks of K;
//      the n mod K images past the last chunk sit out this epoch (a different subset each epoch).
//   3. The epoch has B batches, the most that these chunk counts allow with P distinct identities
//      per batch: B = max{b : Σ_i min(c_i, b) ≥ P·b}. Each batch takes one unused chunk from each of
//      P distinct identities; identities are drawn at random with weight = chunks left, except that
//      an identity with as many chunks left as batches left must be taken (this keeps all B batches
//      possible). So every chunk is used once, except fewer than P chunks in all plus, for an
//      identity with more than B chunks, the ones past B.
//   Hence an epoch is one pass over the data: each kept identity's images appear about once (at
//   most once, apart from a short identity's repeats), and an identity appears in about n / K
//   batches, i.e. as often as its images allow (equally often when identities are equally large),
//   not uniformly over identities.
//   4. Inside a batch the P identities come in random order, each as K consecutive indices.
// The plan depends only on (labels, options, seed, epoch), through a fixed generator and sampling
// code of our own (no std:: distributions), so it is the same with any standard library.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ff::datasets {

struct PkOptions {
  int identities_per_batch = 16;             // P (>= 2: a triplet needs a negative identity)
  int images_per_identity = 4;               // K (>= 2: a triplet needs a positive pair)
  std::string short_identities = "replace";  // replace | skip: identities with fewer than K images
};

struct PkPlan {
  std::vector<int64_t> order;   // batches · P · K sample indices, batch after batch
  int64_t batches = 0;
  int64_t short_identities = 0;  // identities with fewer than K images (kept or skipped)
  int64_t kept_identities = 0;   // identities that can appear this epoch
};

// labels[i] is the label of sample i (any integer values). Fails when P < 2, K < 2, the
// short_identities mode is unknown, or fewer than P identities remain.
PkPlan pk_epoch_order(const std::vector<int64_t>& labels, const PkOptions& options, uint64_t seed, int64_t epoch);

// One log line saying how many of `identities` identities are short and what happens to them;
// empty when none is short.
std::string describe_short_identities(const PkPlan& plan, const PkOptions& options, int64_t identities);

std::vector<std::string> pk_short_identity_modes();

}  // namespace ff::datasets
