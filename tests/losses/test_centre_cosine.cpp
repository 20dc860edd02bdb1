// centre_cosine's hand-written backward against autograd through normalize() and against finite differences.
#include <catch2/catch.hpp>

#include <torch/torch.h>

#include "losses/centre_cosine.h"
#include "losses/finite_difference.h"

namespace F = torch::nn::functional;

TEST_CASE("centre_cosine equals normalised matmul in value and in both gradients", "[losses]") {
  torch::manual_seed(7);
  // Centres of very different lengths, as trained centres are.
  auto x = F::normalize(torch::randn({6, 5}, torch::kDouble), F::NormalizeFuncOptions().dim(1));
  auto w = torch::randn({9, 5}, torch::kDouble) * torch::linspace(0.01, 3.0, 9, torch::kDouble).unsqueeze(1);
  auto upstream = torch::randn({6, 9}, torch::kDouble);

  auto x1 = x.clone().requires_grad_(true), w1 = w.clone().requires_grad_(true);
  auto fast = ff::losses::centre_cosine(x1, w1);
  (fast * upstream).sum().backward();

  auto x2 = x.clone().requires_grad_(true), w2 = w.clone().requires_grad_(true);
  auto plain = x2.matmul(F::normalize(w2, F::NormalizeFuncOptions().dim(1)).t());
  (plain * upstream).sum().backward();

  CHECK(torch::allclose(fast, plain, 0, 1e-12));
  CHECK(torch::allclose(x1.grad(), x2.grad(), 0, 1e-12));
  CHECK(torch::allclose(w1.grad(), w2.grad(), 0, 1e-12));

  // And the centre gradient by central differences, independent of any autograd formula.
  auto numeric = ff::test::central_difference(
      [&](const at::Tensor& centres) {
        return (x.matmul(centres.t()) / centres.norm(2, 1) * upstream).sum();
      },
      w);
  CHECK(torch::allclose(w1.grad(), numeric, 0, 1e-6));
}
