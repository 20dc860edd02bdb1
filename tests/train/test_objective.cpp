// The training objective: a margin head, the triplet loss, or their weighted sum.
#include <catch2/catch.hpp>

#include <torch/torch.h>

#include "losses/triplet.h"
#include "src/train/objective.h"

TEST_CASE("the objective sums the margin head and the weighted triplet loss", "[train][losses]") {
  torch::manual_seed(8);
  ff::losses::HeadOptions o;
  o.head = "cosface";
  o.margin = 0.3;
  o.weights.margin = 0.7;
  o.weights.triplet = 0.5;
  ff::train::Objective objective(o, 6, 16);
  auto x = torch::randn({12, 16});
  auto y = torch::tensor({0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3});
  double loss = objective.forward(x, y).item<double>();
  const auto& v = objective.log_values();
  // The triplet term recomputed by a separate TripletLoss with the same options.
  ff::losses::TripletLoss triplet(ff::losses::TripletOptions().mining(o.triplet.mining).margin(o.triplet.margin));
  double expected_triplet = triplet.forward(x, y).item<double>();
  CHECK(v.at("triplet_loss") == Approx(expected_triplet));
  CHECK(loss == Approx(0.7 * v.at("margin_loss") + 0.5 * expected_triplet));
  CHECK(v.at("triplet_active") == Approx(triplet.last_stats().active_fraction));
  CHECK(v.at("triplet_d_ap") == Approx(triplet.last_stats().mean_positive));

  o.head = "triplet";
  o.weights.triplet = 0;  // triplet alone weighs 1
  ff::train::Objective alone(o, 6, 16);
  CHECK(alone.forward(x, y).item<double>() == Approx(expected_triplet));
  CHECK(alone.uses_triplets());

  o.head = "arcface";
  o.weights.margin = 0;
  CHECK_THROWS_WITH(ff::train::Objective(o, 6, 16), Catch::Contains("every loss term has weight 0"));
}
