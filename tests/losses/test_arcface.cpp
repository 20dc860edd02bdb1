// ArcFace against closed forms on hand-picked angles and against central finite differences.
#include <catch2/catch.hpp>

#include <cmath>

#include <torch/torch.h>

#include "losses/arcface.h"
#include "losses/classifier.h"
#include "losses/finite_difference.h"

using ff::losses::ArcFace;
using ff::losses::ArcFaceOptions;

namespace {
// The insightface target written independently with std:: math on one angle.
double reference_target(double theta, double m, bool easy) {
  double c = std::cos(theta);
  if (easy) return c > 0 ? std::cos(theta + m) : c;
  return c > std::cos(M_PI - m) ? std::cos(theta + m) : c - m * std::sin(M_PI - m);
}
}  // namespace

TEST_CASE("ArcFace target logits equal the closed form, including past pi - m", "[losses]") {
  const double m = 0.5, s = 64;
  for (bool easy : {false, true}) {
    ArcFace head(ArcFaceOptions().scale(s).margin(m).easy_margin(easy));
    std::vector<double> angles = {1e-4, 0.3, 1.0, M_PI / 2 - 0.01, M_PI / 2 + 0.01, M_PI - m - 0.01, M_PI - m + 0.01, 3.0};
    auto theta = torch::tensor(angles, torch::kDouble);
    auto cosine = torch::stack({torch::cos(theta), torch::full_like(theta, 0.2), torch::full_like(theta, -0.3)}, 1);
    auto labels = torch::zeros({static_cast<int64_t>(angles.size())}, torch::kLong);
    auto logits = head.forward(cosine, labels);
    for (size_t i = 0; i < angles.size(); ++i) {
      INFO("theta " << angles[i] << " easy " << easy);
      CHECK(logits[i][0].item<double>() == Approx(s * reference_target(angles[i], m, easy)).epsilon(1e-9));
      CHECK(logits[i][1].item<double>() == Approx(s * 0.2));
      CHECK(logits[i][2].item<double>() == Approx(s * -0.3));
    }
  }
}

TEST_CASE("ArcFace rows whose target is not in these columns are only scaled", "[losses]") {
  ArcFace head(ArcFaceOptions().scale(10).margin(0.4));
  auto cosine = torch::tensor({{0.5, 0.1}, {0.3, 0.9}}, torch::kDouble);
  auto labels = torch::tensor({-1, 1}, torch::kLong);
  auto logits = head.forward(cosine, labels);
  CHECK(logits[0][0].item<double>() == Approx(5.0));
  CHECK(logits[0][1].item<double>() == Approx(1.0));
  CHECK(logits[1][0].item<double>() == Approx(3.0));
  CHECK(logits[1][1].item<double>() == Approx(10 * std::cos(std::acos(0.9) + 0.4)));
}

TEST_CASE("ArcFace margin 0 reduces to NormFace s*cos", "[losses]") {
  ArcFace head(ArcFaceOptions().scale(30).margin(0.0));
  auto cosine = torch::rand({4, 6}, torch::kDouble) * 2 - 1;
  auto labels = torch::tensor({0, 5, 2, 3}, torch::kLong);
  CHECK(torch::allclose(head.forward(cosine, labels), cosine * 30, 1e-9, 1e-9));
}

TEST_CASE("ArcFace gradient matches central finite differences (double)", "[losses]") {
  torch::manual_seed(3);
  for (bool easy : {false, true}) {
    ArcFace head(ArcFaceOptions().scale(8).margin(0.5).easy_margin(easy));
    // Cosines spread over both branches, away from the kinks at cos(pi - m) and 0.
    auto cosine = torch::tensor({{0.95, 0.1, -0.2}, {0.2, -0.6, 0.4}, {-0.5, 0.3, 0.0}, {-0.95, 0.5, 0.1}}, torch::kDouble)
                      .requires_grad_(true);
    auto labels = torch::tensor({0, 1, 0, 0}, torch::kLong);
    auto weights = torch::randn({4, 3}, torch::kDouble);
    auto objective = [&](const torch::Tensor& c) { return (head.forward(c, labels) * weights).sum(); };
    objective(cosine).backward();
    auto numeric = ff::test::central_difference(objective, cosine);
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 3; ++j) {
        INFO("easy " << easy << " entry " << i << "," << j);
        CHECK(cosine.grad()[i][j].item<double>() == Approx(numeric[i][j].item<double>()).epsilon(1e-6).margin(1e-6));
      }
  }
}

TEST_CASE("classifier loss equals cross-entropy of the margin logits computed by hand", "[losses]") {
  torch::manual_seed(5);
  auto head = std::make_shared<ArcFace>(ArcFaceOptions().scale(16).margin(0.3));
  ff::losses::MarginClassifier fc(5, 8, head);
  auto x = torch::randn({3, 8});
  auto y = torch::tensor({4, 0, 2}, torch::kLong);
  double loss = fc.forward(x, y).item<double>();
  auto xd = x.to(torch::kDouble), wd = fc.weight.detach().to(torch::kDouble);
  auto cos = torch::mm(xd / xd.norm(2, 1, true), (wd / wd.norm(2, 1, true)).t());
  double expected = 0;
  for (int i = 0; i < 3; ++i) {
    double denominator = 0, target = 0;
    for (int j = 0; j < 5; ++j) {
      double c = cos[i][j].item<double>();
      double logit = 16 * (j == y[i].item<int64_t>() ? std::cos(std::acos(c) + 0.3) : c);
      denominator += std::exp(logit);
      if (j == y[i].item<int64_t>()) target = logit;
    }
    expected += (std::log(denominator) - target) / 3;
  }
  CHECK(loss == Approx(expected).epsilon(1e-4));
}
