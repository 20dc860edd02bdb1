// Triplet loss: mining on detached distances, the loss rebuilt from the chosen distances with grad.
#include "losses/triplet.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <ATen/Functions.h>

#include "src/util/error.h"
#include "src/util/strings.h"

namespace ff::losses {

namespace {
constexpr double kInfinity = std::numeric_limits<double>::infinity();

double to_double(const at::Tensor& scalar) { return scalar.item<double>(); }
}  // namespace

std::vector<std::string> triplet_mining_names() { return {"batch_all", "batch_hard", "semi_hard"}; }

TripletLoss::TripletLoss(const TripletOptions& options) : options_(options) {
  if (options.mining_ == "batch_all") {
    mining_ = Mining::batch_all;
  } else if (options.mining_ == "batch_hard") {
    mining_ = Mining::batch_hard;
  } else if (options.mining_ == "semi_hard") {
    mining_ = Mining::semi_hard;
  } else {
    fail("unknown triplet mining '{}': known strategies are {}", options.mining_, join(triplet_mining_names(), ", "));
  }
  if (!(std::isfinite(options.margin_) && options.margin_ >= 0))
    fail("triplet margin must be a finite number >= 0, got {}", options.margin_);
}

at::Tensor TripletLoss::forward(const at::Tensor& embeddings, const at::Tensor& labels) {
  if (embeddings.dim() != 2 || labels.dim() != 1 || labels.size(0) != embeddings.size(0))
    fail("triplet loss expects embeddings [B, D] and labels [B], got {} and {}",
         format_shape(embeddings.sizes().vec()), format_shape(labels.sizes().vec()));
  if (!at::isIntegralType(labels.scalar_type(), /*includeBool=*/false))
    fail("triplet loss expects integer labels, got {}", c10::toString(labels.scalar_type()));
  stats_ = TripletStats{};

  // On unit vectors |x − y|² = 2 − 2 x·y exactly; rounding can take it a hair below 0.
  at::Tensor unit = embeddings / embeddings.norm(2, {1}, /*keepdim=*/true).clamp_min(1e-12);
  at::Tensor distance = (2.0 - 2.0 * unit.mm(unit.t())).clamp_min(0.0);

  const int64_t batch = embeddings.size(0);
  at::Tensor y = labels.to(embeddings.device(), at::kLong);
  at::Tensor index = at::arange(batch, y.options());
  at::Tensor same = y.unsqueeze(1) == y.unsqueeze(0);
  at::Tensor positive = same & (index.unsqueeze(1) != index.unsqueeze(0));
  at::Tensor negative = same.logical_not();

  // Every strategy needs an anchor with both a positive and a negative; without one the reductions
  // below would run over empty sets. The zero keeps backward() working for a caller that always calls it.
  if (!(positive.any(1) & negative.any(1)).any().item<bool>()) return embeddings.sum() * 0.0;

  switch (mining_) {
    case Mining::batch_all: return batch_all(distance, positive, negative);
    case Mining::batch_hard: return batch_hard(distance, positive, negative);
    case Mining::semi_hard: return semi_hard(distance, positive, negative);
  }
  fail("triplet loss: unhandled mining strategy");
}

at::Tensor TripletLoss::batch_all(const at::Tensor& distance, const at::Tensor& positive, const at::Tensor& negative) {
  // Σ over active triplets of d(a,p) − d(a,n) + α equals
  //   Σ_{a,p} d(a,p)·#{n active with (a,p)} − Σ_{a,n} d(a,n)·#{p active with (a,n)} + α·#active,
  // and both counts come from binary searches in each anchor's sorted distances: O(B² log B) time
  // and O(B²) memory instead of a [B, B, B] cube, and the graph holds [B, B] tensors only.
  const double margin = options_.margin_;
  at::Tensor value = distance.detach();
  // Per anchor ascending; +inf for the columns of the other kind sorts last and is never counted.
  at::Tensor negatives_sorted = std::get<0>(value.masked_fill(negative.logical_not(), kInfinity).sort(1));
  at::Tensor positives_sorted = std::get<0>(value.masked_fill(positive.logical_not(), kInfinity).sort(1));
  at::Tensor positives_per_anchor = positive.sum(1, /*keepdim=*/true);
  at::Tensor negatives_per_anchor = negative.sum(1, /*keepdim=*/true);
  // (a, p, n) is active ⇔ d(a,n) < d(a,p) + α: for a pair, the negatives strictly below that bound;
  // for an (a, n), the positives strictly above d(a,n) − α (all of them minus those at or below it).
  at::Tensor per_pair = at::searchsorted(negatives_sorted, value + margin).masked_fill(positive.logical_not(), 0);
  at::Tensor per_negative =
      (positives_per_anchor - at::searchsorted(positives_sorted, value - margin, /*out_int32=*/false, /*right=*/true))
          .masked_fill(negative.logical_not(), 0);
  const int64_t active = per_pair.sum().item<int64_t>();

  at::Tensor value64 = value.to(at::kDouble);
  stats_.triplets = (positives_per_anchor * negatives_per_anchor).sum().item<int64_t>();
  // Each positive pair (a, p) sits in #negatives(a) triplets, each (a, n) in #positives(a).
  stats_.mean_positive = to_double((value64 * positive * negatives_per_anchor).sum()) / stats_.triplets;
  stats_.mean_negative = to_double((value64 * negative * positives_per_anchor).sum()) / stats_.triplets;
  stats_.active_fraction = static_cast<double>(active) / stats_.triplets;

  at::Tensor total = (distance * per_pair).sum() - (distance * per_negative).sum() + margin * static_cast<double>(active);
  // With nothing active both counts are zero and `total` is already a graph-connected zero.
  return total / static_cast<double>(std::max<int64_t>(active, 1));
}

at::Tensor TripletLoss::batch_hard(const at::Tensor& distance, const at::Tensor& positive, const at::Tensor& negative) {
  at::Tensor value = distance.detach();
  at::Tensor anchors = (positive.any(1) & negative.any(1)).nonzero().squeeze(1);
  at::Tensor hardest_positive = value.masked_fill(positive.logical_not(), -kInfinity).argmax(1, /*keepdim=*/true);
  at::Tensor hardest_negative = value.masked_fill(negative.logical_not(), kInfinity).argmin(1, /*keepdim=*/true);
  at::Tensor d_ap = distance.gather(1, hardest_positive).squeeze(1).index_select(0, anchors);
  at::Tensor d_an = distance.gather(1, hardest_negative).squeeze(1).index_select(0, anchors);
  at::Tensor hinge = d_ap - d_an + options_.margin_;

  stats_.triplets = anchors.size(0);
  stats_.active_fraction = to_double((hinge.detach() > 0).to(at::kDouble).mean());
  stats_.mean_positive = to_double(d_ap.detach().to(at::kDouble).mean());
  stats_.mean_negative = to_double(d_an.detach().to(at::kDouble).mean());
  return hinge.relu().mean();
}

at::Tensor TripletLoss::semi_hard(const at::Tensor& distance, const at::Tensor& positive, const at::Tensor& negative) {
  at::Tensor value = distance.detach();
  at::Tensor pairs = positive & negative.any(1, /*keepdim=*/true);
  // Per anchor, its negatives nearest first (other columns +inf, last) and where they came from.
  auto [sorted, column] = value.masked_fill(negative.logical_not(), kInfinity).sort(1);
  at::Tensor negatives_per_anchor = negative.sum(1, /*keepdim=*/true);
  // rank[a][p]: how many negatives of a lie at or below d(a,p), so sorted[a][rank] is the nearest one
  // strictly farther than the positive, if rank < #negatives; otherwise take the farthest negative.
  at::Tensor rank = at::searchsorted(sorted, value, /*out_int32=*/false, /*right=*/true);
  at::Tensor farthest = (negatives_per_anchor - 1).clamp_min(0);
  at::Tensor chosen = column.gather(1, at::where(rank < negatives_per_anchor, rank, farthest));
  at::Tensor d_ap = distance.masked_select(pairs);
  at::Tensor d_an = distance.gather(1, chosen).masked_select(pairs);
  at::Tensor hinge = d_ap - d_an + options_.margin_;

  stats_.triplets = d_ap.size(0);
  stats_.active_fraction = to_double((hinge.detach() > 0).to(at::kDouble).mean());
  stats_.mean_positive = to_double(d_ap.detach().to(at::kDouble).mean());
  stats_.mean_negative = to_double(d_an.detach().to(at::kDouble).mean());
  return hinge.relu().mean();
}

}  // namespace ff::losses
