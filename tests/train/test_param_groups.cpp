// Parameter groups, per-group learning rates, clipping by global norm, and checkpoint pruning.
#include <ATen/ATen.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>

#include <torch/torch.h>

#include "src/train/checkpoint.h"
#include "src/train/param_groups.h"
#include "support.h"
#include "tiny_net.h"

namespace fs = std::filesystem;

TEST_CASE("parameter groups: 1-D backbone parameters without decay, the head at its own lr and decay", "[train]") {
  ff::test::TinyNet net;
  std::vector<at::Tensor> backbone = net.parameters();
  std::vector<at::Tensor> head = {torch::zeros({4, 3}, torch::requires_grad())};
  size_t one_d = 0;
  for (const auto& p : backbone) one_d += p.dim() <= 1;
  REQUIRE(one_d > 0);  // BN weights and biases, PReLU slopes, the linear bias
  auto g = ff::train::split_parameters(backbone, head, true);
  CHECK(g.backbone_no_decay.size() == one_d);
  CHECK(g.backbone_decay.size() == backbone.size() - one_d);
  for (const auto& p : g.backbone_decay) CHECK(p.dim() > 1);
  CHECK(g.all().size() == backbone.size() + 1);
  CHECK(ff::train::split_parameters(backbone, head, false).backbone_no_decay.empty());

  ff::train::OptimOptions o;
  o.lr = 0.1;
  o.momentum = 0.8;
  o.weight_decay = 5e-4;
  o.head_lr_scale = 10;
  o.head_weight_decay = 0;
  std::vector<double> scales;
  auto sgd = ff::train::make_optimizer(g, o, scales);
  REQUIRE(sgd->param_groups().size() == 3);
  CHECK(scales == std::vector<double>{1, 1, 10});
  auto options = [&](size_t i) { return static_cast<torch::optim::SGDOptions&>(sgd->param_groups()[i].options()); };
  CHECK(options(0).weight_decay() == 5e-4);
  CHECK(options(1).weight_decay() == 0);
  CHECK(options(2).weight_decay() == 0);
  CHECK(options(0).momentum() == 0.8);
  ff::train::set_learning_rate(*sgd, 0.05, scales);
  CHECK(options(0).lr() == 0.05);
  CHECK(options(2).lr() == Approx(0.5));
  // One step of plain SGD on the head: w -= lr_head * grad (momentum buffer starts as the gradient).
  head[0].mutable_grad() = torch::ones({4, 3});
  sgd->step();
  CHECK(head[0].allclose(torch::full({4, 3}, -0.5)));
}

TEST_CASE("clipping scales gradients to the global norm and reports the norm before", "[train]") {
  at::Tensor a = torch::zeros({2}, torch::requires_grad()), b = torch::zeros({1}, torch::requires_grad());
  at::Tensor c = torch::zeros({3}, torch::requires_grad());  // no gradient: skipped
  a.mutable_grad() = torch::tensor({3.0f, 4.0f});
  b.mutable_grad() = torch::tensor({12.0f});
  CHECK(ff::train::clip_gradients({a, b, c}, 6.5) == Approx(13.0));  // sqrt(9 + 16 + 144)
  CHECK(a.grad().allclose(torch::tensor({1.5f, 2.0f}), 1e-5));
  CHECK(b.grad().allclose(torch::tensor({6.0f}), 1e-5));
  CHECK(ff::train::clip_gradients({a, b}, 100) == Approx(6.5).epsilon(1e-5));  // below the limit: unchanged
  CHECK(a.grad().allclose(torch::tensor({1.5f, 2.0f}), 1e-5));
}

TEST_CASE("pruning keeps the newest checkpoints, each rank removes its own shards", "[train]") {
  ff::test::TempDir dir("prune");
  auto touch = [&](const std::string& name) { std::ofstream(dir / name) << "x"; };
  for (int step : {5, 10, 15}) {
    touch("step_" + std::to_string(step) + ".pt");
    for (int r = 0; r < 2; ++r) touch("step_" + std::to_string(step) + ".classifier-" + std::to_string(r) + "-of-2.pt");
  }
  touch("step_5.classifier-2-of-3.pt");  // from a run on 3 ranks, resumed on 2
  touch("best.pt");
  touch("step_5.pt.tmp.123");
  CHECK(ff::train::prune_checkpoints(dir.path(), 2, 1, 2) == std::vector<int64_t>{5});
  CHECK_FALSE(fs::exists(dir / "step_5.classifier-1-of-2.pt"));
  CHECK(fs::exists(dir / "step_5.pt"));  // rank 1 leaves the main file to rank 0
  CHECK(ff::train::prune_checkpoints(dir.path(), 2, 0, 2) == std::vector<int64_t>{5});
  std::set<std::string> left;
  for (const auto& e : fs::directory_iterator(dir.path())) left.insert(e.path().filename().string());
  CHECK(left == std::set<std::string>{"step_10.pt", "step_10.classifier-0-of-2.pt", "step_10.classifier-1-of-2.pt",
                                      "step_15.pt", "step_15.classifier-0-of-2.pt", "step_15.classifier-1-of-2.pt",
                                      "best.pt", "step_5.pt.tmp.123"});
  CHECK(ff::train::prune_checkpoints(dir.path(), 5, 0, 2).empty());
}
