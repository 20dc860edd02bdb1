// CosFace and NormFace against their closed forms, finite differences, and through the registry.
#include <catch2/catch.hpp>

#include <torch/torch.h>

#include "losses/cosface.h"
#include "losses/finite_difference.h"
#include "losses/head_options.h"
#include "losses/margin_head.h"

using ff::losses::CosFace;
using ff::losses::CosFaceOptions;

TEST_CASE("CosFace subtracts m from the target cosine only, then scales", "[losses]") {
  CosFace head(CosFaceOptions().scale(30).margin(0.35));
  auto cosine = torch::tensor({{0.9, 0.1, -0.2}, {0.2, -0.6, 0.4}, {-0.5, 0.3, 0.0}}, torch::kDouble);
  auto labels = torch::tensor({0, 2, -1}, torch::kLong);
  auto logits = head.forward(cosine, labels);
  double expected[3][3] = {{30 * (0.9 - 0.35), 3, -6}, {6, -18, 30 * (0.4 - 0.35)}, {-15, 9, 0}};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) CHECK(logits[i][j].item<double>() == Approx(expected[i][j]).margin(1e-12));
}

TEST_CASE("CosFace gradient is s on every entry (central differences)", "[losses]") {
  CosFace head(CosFaceOptions().scale(8).margin(0.4));
  auto cosine = torch::tensor({{0.7, -0.1}, {0.3, 0.2}}, torch::kDouble).requires_grad_(true);
  auto labels = torch::tensor({1, -1}, torch::kLong);
  auto weights = torch::tensor({{0.3, -1.2}, {2.0, 0.5}}, torch::kDouble);
  auto objective = [&](const torch::Tensor& c) { return (head.forward(c, labels) * weights).sum(); };
  objective(cosine).backward();
  auto numeric = ff::test::central_difference(objective, cosine);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) CHECK(cosine.grad()[i][j].item<double>() == Approx(numeric[i][j].item<double>()).epsilon(1e-7));
}

TEST_CASE("the registry builds normface as s*cos and names known heads on error", "[losses]") {
  ff::losses::HeadOptions o;
  o.head = "normface";
  o.scale = 10;
  auto head = ff::losses::make_margin_head(o);
  auto cosine = torch::rand({3, 4}, torch::kDouble) * 2 - 1;
  CHECK(torch::allclose(head->forward(cosine, torch::tensor({1, 0, 3}, torch::kLong)), cosine * 10));
  o.head = "arcfaec";
  CHECK_THROWS_WITH(ff::losses::make_margin_head(o),
                    Catch::StartsWith("unknown margin head 'arcfaec': known heads are softmax, normface, sphereface, cosface, arcface,"));
}
