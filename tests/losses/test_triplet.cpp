// Triplet loss: hand-worked 2-D batches, a loop-by-loop reference, finite differences, degenerate batches.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "losses/finite_difference.h"
#include "losses/triplet.h"
#include "support.h"

using ff::losses::TripletLoss;
using ff::losses::TripletOptions;
using ff::losses::TripletStats;

namespace {

// Five points on circles of different radii (the loss normalises them), at angles
//   x0 0°, x1 30° (identity 0); x2 90°, x3 300° (identity 1); x4 135° (identity 2).
// d = 2 − 2 cos Δθ:
//   d01 = 2 − √3 (30°)   d02 = 2 (90°)        d03 = 1 (60°)         d04 = 2 + √2 (135°)
//   d12 = 1 (60°)        d13 = 2 (90°)        d14 = 2 + (√6 − √2)/2 (105°, cos 105° = −(√6 − √2)/4)
//   d23 = 2 + √3 (150°)  d24 = 2 − √2 (45°)   d34 = 2 + (√6 + √2)/2 (165°, cos 165° = −(√6 + √2)/4)
// Anchors with a positive: 0 (p 1), 1 (p 0), 2 (p 3), 3 (p 2); x4 is only ever a negative.
torch::Tensor hand_points() {
  const double degrees[] = {0, 30, 90, 300, 135};
  const double radius[] = {1, 2, 0.5, 3, 1.5};
  auto x = torch::empty({5, 2}, torch::kDouble);
  for (int i = 0; i < 5; ++i) {
    x[i][0] = radius[i] * std::cos(degrees[i] * M_PI / 180);
    x[i][1] = radius[i] * std::sin(degrees[i] * M_PI / 180);
  }
  return x;
}
torch::Tensor hand_labels() { return torch::tensor({0, 0, 1, 1, 2}, torch::kLong); }

const double r2 = std::sqrt(2.0), r3 = std::sqrt(3.0), r6 = std::sqrt(6.0);

struct Expected {
  double loss;
  int64_t triplets;
  double active_fraction, mean_positive, mean_negative;
};

void check(TripletLoss& loss, const torch::Tensor& x, const torch::Tensor& y, const Expected& e) {
  double value = loss.forward(x, y).item<double>();
  const TripletStats& s = loss.last_stats();
  CHECK(value == Approx(e.loss).epsilon(1e-10));
  CHECK(s.triplets == e.triplets);
  CHECK(s.active_fraction == Approx(e.active_fraction).epsilon(1e-10));
  CHECK(s.mean_positive == Approx(e.mean_positive).epsilon(1e-10));
  CHECK(s.mean_negative == Approx(e.mean_negative).epsilon(1e-10));
}

// Straight from the definitions in losses/triplet.h, one triplet at a time; distances as Σ (a − b)²
// of the normalised rows rather than from a Gram matrix.
Expected reference(const torch::Tensor& embeddings, const torch::Tensor& labels, const std::string& mining, double alpha) {
  auto x = embeddings.to(torch::kDouble).contiguous();
  const int64_t n = x.size(0), dim = x.size(1);
  std::vector<std::vector<double>> u(n, std::vector<double>(dim));
  for (int64_t i = 0; i < n; ++i) {
    double norm = 0;
    for (int64_t k = 0; k < dim; ++k) norm += x[i][k].item<double>() * x[i][k].item<double>();
    for (int64_t k = 0; k < dim; ++k) u[i][k] = x[i][k].item<double>() / std::sqrt(norm);
  }
  std::vector<std::vector<double>> d(n, std::vector<double>(n, 0));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t k = 0; k < dim; ++k) d[i][j] += (u[i][k] - u[j][k]) * (u[i][k] - u[j][k]);
  std::vector<int64_t> y(n);
  for (int64_t i = 0; i < n; ++i) y[i] = labels[i].item<int64_t>();

  double sum = 0, sum_p = 0, sum_n = 0;
  int64_t count = 0, active = 0;
  auto add = [&](double dap, double dan) {
    double l = dap - dan + alpha;
    ++count;
    sum_p += dap;
    sum_n += dan;
    if (l > 0) {
      ++active;
      sum += l;
    }
  };
  for (int64_t a = 0; a < n; ++a) {
    bool has_negative = false;
    for (int64_t q = 0; q < n; ++q) has_negative |= y[q] != y[a];
    if (mining == "batch_hard") {
      int64_t hp = -1, hn = -1;
      for (int64_t q = 0; q < n; ++q) {
        if (q != a && y[q] == y[a] && (hp < 0 || d[a][q] > d[a][hp])) hp = q;
        if (y[q] != y[a] && (hn < 0 || d[a][q] < d[a][hn])) hn = q;
      }
      if (hp >= 0 && hn >= 0) add(d[a][hp], d[a][hn]);
      continue;
    }
    for (int64_t p = 0; p < n; ++p) {
      if (p == a || y[p] != y[a] || !has_negative) continue;
      if (mining == "batch_all") {
        for (int64_t q = 0; q < n; ++q)
          if (y[q] != y[a]) add(d[a][p], d[a][q]);
      } else {
        int64_t nearest = -1, farthest = -1;
        for (int64_t q = 0; q < n; ++q) {
          if (y[q] == y[a]) continue;
          if (d[a][q] > d[a][p] && (nearest < 0 || d[a][q] < d[a][nearest])) nearest = q;
          if (farthest < 0 || d[a][q] > d[a][farthest]) farthest = q;
        }
        add(d[a][p], d[a][nearest >= 0 ? nearest : farthest]);
      }
    }
  }
  Expected e{};
  e.triplets = count;
  if (count == 0) return e;
  // batch_all averages over active triplets, the others over all mined ones.
  e.loss = mining == "batch_all" ? (active ? sum / active : 0) : sum / count;
  e.active_fraction = static_cast<double>(active) / count;
  e.mean_positive = sum_p / count;
  e.mean_negative = sum_n / count;
  return e;
}

}  // namespace

TEST_CASE("triplet batch_all on hand-worked points", "[losses]") {
  auto x = hand_points();
  auto y = hand_labels();
  // 4 anchors x 1 positive x 3 negatives = 12 triplets. α = 0.5, l = d_ap − d_an + α:
  //   (0,1,·): d_ap = 2 − √3 ≈ 0.268 against d_an 2, 1, 3.41  → all < 0
  //   (1,0,·): d_ap = 2 − √3        against d_an 1, 2, 2.52  → all < 0
  //   (2,3,·): d_ap = 2 + √3 ≈ 3.73 against d_an 2, 1, 2 − √2 → √3 + 0.5, √3 + 1.5, √3 + √2 + 0.5
  //   (3,2,·): d_ap = 2 + √3        against d_an 1, 2, 3.93   → √3 + 1.5, √3 + 0.5, √3 + 0.5 − (√6 + √2)/2
  // 6 active; sum = 6√3 + 5 + √2 − (√6 + √2)/2. mean d_ap = (6(2 − √3) + 6(2 + √3))/12 = 2;
  // Σ d_an = (2 + 1 + 2 + √2) + (1 + 2 + 2 + (√6 − √2)/2) + (2 + 1 + 2 − √2) + (1 + 2 + 2 + (√6 + √2)/2) = 20 + √6.
  TripletLoss loss(TripletOptions().mining("batch_all").margin(0.5));
  check(loss, x, y, {(6 * r3 + 5 + r2 - (r6 + r2) / 2) / 6, 12, 0.5, 2.0, (20 + r6) / 12});
  // α = 0.1 drops (3,2,4): 0.30 − 0.4 < 0. Active: √3 + 0.1, √3 + 1.1, √3 + √2 + 0.1, √3 + 1.1, √3 + 0.1.
  TripletLoss small(TripletOptions().mining("batch_all").margin(0.1));
  check(small, x, y, {(5 * r3 + r2 + 2.5) / 5, 12, 5.0 / 12, 2.0, (20 + r6) / 12});
}

TEST_CASE("triplet batch_hard on hand-worked points", "[losses]") {
  auto x = hand_points();
  auto y = hand_labels();
  // One positive per anchor, so it is the hardest; hardest negative = nearest one:
  //   a0: d01 = 2 − √3, nearest negative x3 (1)       → l = 0.5 − √3 + 1 < 0
  //   a1: d10 = 2 − √3, nearest negative x2 (1)       → l < 0
  //   a2: d23 = 2 + √3, nearest negative x4 (2 − √2)  → l = √3 + √2 + α
  //   a3: d32 = 2 + √3, nearest negative x0 (1)       → l = √3 + 1 + α
  // mean d_an = (1 + 1 + 2 − √2 + 1)/4.
  TripletLoss loss(TripletOptions().mining("batch_hard").margin(0.5));
  check(loss, x, y, {(2 * r3 + r2 + 2) / 4, 4, 0.5, 2.0, (5 - r2) / 4});
  TripletLoss small(TripletOptions().mining("batch_hard").margin(0.1));
  check(small, x, y, {(2 * r3 + r2 + 1.2) / 4, 4, 0.5, 2.0, (5 - r2) / 4});
}

TEST_CASE("triplet semi_hard on hand-worked points, including the farthest-negative fallback", "[losses]") {
  auto x = hand_points();
  auto y = hand_labels();
  // Per positive pair, the nearest negative strictly farther than the positive:
  //   (0,1): d_ap 2 − √3; negatives 2, 1, 3.41 → x3 (1)               → l = 0.5 − √3 + 1 < 0
  //   (1,0): d_ap 2 − √3; negatives 1, 2, 2.52 → x2 (1)               → l < 0
  //   (2,3): d_ap 2 + √3; negatives 2, 1, 0.59 all nearer → fallback: farthest x0 (2) → l = √3 + α
  //   (3,2): d_ap 2 + √3; negatives 1, 2, 3.93 → x4 (2 + (√6 + √2)/2) → l = √3 − (√6 + √2)/2 + α ≈ 0.30
  // mean d_an = (1 + 1 + 2 + 2 + (√6 + √2)/2)/4.
  TripletLoss loss(TripletOptions().mining("semi_hard").margin(0.5));
  check(loss, x, y, {(2 * r3 + 1 - (r6 + r2) / 2) / 4, 4, 0.5, 2.0, (6 + (r6 + r2) / 2) / 4});
  // α = 0.1: (3,2) gives 0.30 − 0.4 < 0, only the fallback pair is left active.
  TripletLoss small(TripletOptions().mining("semi_hard").margin(0.1));
  check(small, x, y, {(r3 + 0.1) / 4, 4, 0.25, 2.0, (6 + (r6 + r2) / 2) / 4});
}

TEST_CASE("triplet loss matches a loop-by-loop reference on random batches", "[losses]") {
  torch::manual_seed(11);
  // A small batch and a large one (300 rows, 100 labels: anchors with 0 to ~8 positives, singletons
  // included) against the O(B³) loops.
  for (int64_t batch : {14, 300}) {
    auto x = torch::randn({batch, 6}, torch::kDouble);
    auto y = torch::randint(0, batch / 3, {batch}, torch::kLong);
    for (const std::string mining : {"batch_all", "batch_hard", "semi_hard"}) {
      INFO("batch " << batch << " mining " << mining);
      TripletLoss loss(TripletOptions().mining(mining).margin(0.3));
      Expected e = reference(x, y, mining, 0.3);
      REQUIRE(e.triplets > 0);
      check(loss, x, y, e);
      // float32 embeddings give the same answer to float precision.
      double single = loss.forward(x.to(torch::kFloat), y).item<double>();
      CHECK(single == Approx(e.loss).epsilon(1e-4));
    }
  }
}

TEST_CASE("triplet loss gradient matches central finite differences (double)", "[losses]") {
  torch::manual_seed(7);
  auto x = torch::randn({8, 3}, torch::kDouble);
  auto y = torch::tensor({0, 0, 0, 1, 1, 2, 2, 3}, torch::kLong);
  const double alpha = 0.3;
  // Selection must be locally constant: no two distances in a row within 1e-4 of each other and no
  // triplet within 1e-4 of its hinge, so the h = 1e-6 steps never change which triplets count.
  auto u = x / x.norm(2, 1, true);
  auto d = (u.unsqueeze(1) - u.unsqueeze(0)).pow(2).sum(2);
  for (int a = 0; a < 8; ++a)
    for (int i = 0; i < 8; ++i)
      for (int j = 0; j < 8; ++j) {
        if (i != j && i != a && j != a) REQUIRE(std::abs(d[a][i].item<double>() - d[a][j].item<double>()) > 1e-4);
        if (i != a && y[i].item<int64_t>() == y[a].item<int64_t>() && y[j].item<int64_t>() != y[a].item<int64_t>())
          REQUIRE(std::abs(d[a][i].item<double>() - d[a][j].item<double>() + alpha) > 1e-4);
      }
  for (const std::string mining : {"batch_all", "batch_hard", "semi_hard"}) {
    INFO("mining " << mining);
    TripletLoss loss(TripletOptions().mining(mining).margin(alpha));
    auto input = x.clone().requires_grad_(true);
    auto objective = [&](const torch::Tensor& e) { return loss.forward(e, y); };
    auto value = objective(input);
    REQUIRE(loss.last_stats().active_fraction > 0);  // a batch where the gradient is not trivially zero
    value.backward();
    auto numeric = ff::test::central_difference(objective, input);
    REQUIRE(input.grad().abs().sum().item<double>() > 0);
    for (int i = 0; i < 8; ++i)
      for (int k = 0; k < 3; ++k) {
        INFO("entry " << i << "," << k);
        CHECK(input.grad()[i][k].item<double>() == Approx(numeric[i][k].item<double>()).epsilon(1e-6).margin(1e-6));
      }
  }
}

TEST_CASE("triplet loss on batches without a valid triplet is a graph-connected zero", "[losses]") {
  auto x = torch::randn({6, 4}, torch::kDouble);
  for (const std::string& mining : ff::losses::triplet_mining_names()) {
    for (auto labels : {torch::full({6}, 3, torch::kLong), torch::arange(6, torch::kLong)}) {
      INFO("mining " << mining << " labels " << labels);
      TripletLoss loss(TripletOptions().mining(mining));
      auto input = x.clone().requires_grad_(true);
      auto value = loss.forward(input, labels);
      CHECK(value.item<double>() == 0);
      CHECK(value.requires_grad());
      value.backward();
      REQUIRE(input.grad().defined());
      CHECK(input.grad().abs().sum().item<double>() == 0);
      CHECK(loss.last_stats().triplets == 0);
      CHECK(loss.last_stats().active_fraction == 0);
      CHECK(loss.last_stats().mean_positive == 0);
    }
  }
}

TEST_CASE("batch_all with no active triplet returns a connected zero with its stats", "[losses]") {
  // Two tight clusters far apart: every d_ap ≈ 0 and every d_an ≈ 4, so no triplet beats α = 0.2.
  auto x = torch::tensor({{1.0, 0.01}, {1.0, -0.01}, {-1.0, 0.01}, {-1.0, -0.01}}, torch::kDouble).requires_grad_(true);
  auto y = torch::tensor({0, 0, 1, 1}, torch::kLong);
  TripletLoss loss(TripletOptions().mining("batch_all"));
  auto value = loss.forward(x, y);
  CHECK(value.item<double>() == 0);
  value.backward();
  CHECK(x.grad().abs().sum().item<double>() == 0);
  CHECK(loss.last_stats().triplets == 8);
  CHECK(loss.last_stats().active_fraction == 0);
  CHECK(loss.last_stats().mean_negative == Approx(4.0).epsilon(1e-3));
}

TEST_CASE("triplet options: defaults, unknown mining, bad margin, bad shapes", "[losses]") {
  TripletOptions defaults;
  CHECK(defaults.mining_ == "batch_hard");
  CHECK(defaults.margin_ == 0.2);
  const std::vector<std::string> names = {"batch_all", "batch_hard", "semi_hard"};
  CHECK(ff::losses::triplet_mining_names() == names);
  std::string message = ff::test::error_of([] { TripletLoss(TripletOptions().mining("hardest")); });
  CHECK(message == "unknown triplet mining 'hardest': known strategies are batch_all, batch_hard, semi_hard");
  message = ff::test::error_of([] { TripletLoss(TripletOptions().margin(-0.1)); });
  CHECK(message == "triplet margin must be a finite number >= 0, got -0.1");
  TripletLoss loss{TripletOptions()};
  message = ff::test::error_of([&] { loss.forward(torch::randn({4, 3}), torch::zeros({5}, torch::kLong)); });
  CHECK(message == "triplet loss expects embeddings [B, D] and labels [B], got [4, 3] and [5]");
  message = ff::test::error_of([&] { loss.forward(torch::randn({4, 3}), torch::zeros({4})); });
  CHECK(message == "triplet loss expects integer labels, got Float");
}
