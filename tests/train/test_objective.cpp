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

TEST_CASE("per-source branches: each classifier scores its source's rows, losses weighted and summed",
          "[train][losses]") {
  torch::manual_seed(9);
  ff::losses::HeadOptions o;
  o.head = "cosface";
  o.scale = 16;
  o.margin = 0.35;
  ff::train::Objective objective(o, {{"real", 3, 0.5}, {"synth", 4, 2.0}}, 8);
  auto x = torch::randn({7, 8});
  auto labels = torch::tensor({0, 2, 1, 3, 0, 1, 2});
  auto origins = torch::tensor({0, 0, 0, 1, 1, 1, 1});  // rows 0-2 real, 3-6 synthetic
  double loss = objective.forward(x, labels, origins).item<double>();
  auto params = objective.named_buffers();  // Partial FC's centres are buffers it updates itself
  REQUIRE(params.contains("classifier_0.weight"));
  REQUIRE(params.contains("classifier_1.weight"));
  CHECK(params["classifier_1.weight"].size(0) == 4);
  // CosFace recomputed by hand for each branch: s (cos - m at the target), cross-entropy, mean.
  auto branch = [&](const at::Tensor& w, int64_t first, int64_t count) {
    auto xs = torch::nn::functional::normalize(x.narrow(0, first, count), torch::nn::functional::NormalizeFuncOptions().dim(1));
    auto ws = torch::nn::functional::normalize(w, torch::nn::functional::NormalizeFuncOptions().dim(1));
    auto logits = o.scale * xs.matmul(ws.t());
    auto y = labels.narrow(0, first, count);
    logits = logits - o.scale * o.margin * torch::one_hot(y, w.size(0)).to(logits.dtype());
    return torch::nn::functional::cross_entropy(logits, y).item<double>();
  };
  double real = branch(params["classifier_0.weight"], 0, 3);
  double synth = branch(params["classifier_1.weight"], 3, 4);
  CHECK(objective.log_values().at("loss_real") == Approx(real));
  CHECK(objective.log_values().at("loss_synth") == Approx(synth));
  CHECK(loss == Approx(0.5 * real + 2.0 * synth));
  CHECK_THROWS_WITH(objective.forward(x, labels), Catch::Contains("need each image's source"));
  o.weights.triplet = 1;
  CHECK_THROWS_WITH(ff::train::Objective(o, {{"a", 3, 1.0}}, 8), Catch::Contains("a triplet loss needs one label space"));
}
