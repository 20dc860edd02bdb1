// fp16 loss scaling: the scale's growth and back-off, and the training step that unscales, checks,
// and skips — on CPU tensors, where the rule is the same as on CUDA.
#include <catch2/catch.hpp>

#include <limits>

#include <torch/torch.h>

#include "src/dist/world.h"
#include "src/train/loss_scaler.h"
#include "src/train/objective.h"
#include "src/train/optimizer_step.h"
#include "src/train/param_groups.h"
#include "tiny_net.h"

TEST_CASE("loss scale: grows after the interval of finite steps, halves and counts each skipped step", "[train]") {
  ff::train::LossScalerOptions o;
  o.init_scale = 1024;
  o.growth_interval = 3;
  ff::train::LossScaler scaler(true, o);
  for (int i = 0; i < 2; ++i) scaler.update(false);
  CHECK(scaler.scale() == 1024);
  scaler.update(false);  // the third finite step in a row
  CHECK(scaler.scale() == 2048);
  scaler.update(false);
  scaler.update(true);  // back off, and the finite-step count starts again
  CHECK(scaler.scale() == 1024);
  CHECK(scaler.skipped_steps() == 1);
  scaler.update(false);
  scaler.update(false);
  CHECK(scaler.scale() == 1024);
  scaler.update(false);
  CHECK(scaler.scale() == 2048);

  // The state travels in checkpoints.
  ff::train::LossScaler copy(true, o);
  scaler.update(false);
  copy.load_state(scaler.state());
  copy.update(false);
  copy.update(false);
  CHECK(copy.scale() == 4096);  // 1 + 2 finite steps since the last growth
  CHECK(copy.skipped_steps() == 1);

  // Unscale divides in place and reports non-finite values.
  at::Tensor g = torch::full({3}, 2048.0f);
  CHECK(scaler.unscale({g}));
  CHECK(g.equal(torch::ones({3})));
  at::Tensor bad = torch::tensor({1.0f, std::numeric_limits<float>::infinity()});
  CHECK_FALSE(scaler.unscale({g, bad}));
  at::Tensor nan = torch::tensor({std::numeric_limits<float>::quiet_NaN()});
  CHECK_FALSE(scaler.unscale({nan}));

  ff::train::LossScaler off(false);
  at::Tensor loss = torch::tensor(3.0f);
  CHECK(off.scale_loss(loss).item<float>() == 3.0f);
  CHECK(off.unscale({bad}));  // disabled: nothing checked
}

TEST_CASE("a scaled training step equals the unscaled one, and a non-finite gradient skips it everywhere", "[train]") {
  // Two copies of net + head; one trains with loss x 2^16 then unscaling, the other plainly. Scaling
  // by a power of two and back is exact in floating point, so the steps agree bit for bit.
  ff::losses::HeadOptions head;
  head.head = "cosface";
  auto world = std::make_shared<ff::dist::World>();
  torch::manual_seed(2);
  at::Tensor images = torch::randn({6, 3, 112, 112});
  at::Tensor labels = torch::tensor({0, 1, 2, 0, 1, 2}, torch::kLong);
  struct Setup {
    std::shared_ptr<ff::test::TinyNet> net = std::make_shared<ff::test::TinyNet>();
    std::shared_ptr<ff::train::Objective> objective;
    std::unique_ptr<torch::optim::Optimizer> optimizer;
    std::vector<at::Tensor> parameters;
  };
  auto make = [&] {
    torch::manual_seed(5);
    Setup s;
    s.objective = std::make_shared<ff::train::Objective>(head, 3, 128, world, 1);
    ff::train::OptimOptions optim;
    std::vector<double> scales;
    auto groups = ff::train::split_parameters(s.net->parameters(), s.objective->parameters(), false);
    s.optimizer = ff::train::make_optimizer(groups, optim, scales);
    s.parameters = groups.all();
    return s;
  };
  Setup plain = make(), scaled = make();
  ff::train::OptimOptions optim;
  ff::train::LossScaler off(false), on(true);
  auto step = [&](Setup& s, ff::train::LossScaler& scaler, bool poison) {
    s.optimizer->zero_grad();
    at::Tensor loss = s.objective->forward(s.net->forward(images), labels);
    scaler.scale_loss(loss).backward();
    if (poison) s.parameters[0].mutable_grad()[0][0][0][0] = std::numeric_limits<float>::infinity();
    return ff::train::apply_step(*world, s.parameters, s.parameters, *s.optimizer, *s.objective,
                                 ff::train::centre_step(optim, optim.lr), scaler, {});
  };
  for (int i = 0; i < 2; ++i) {
    CHECK_FALSE(step(plain, off, false).skipped);
    CHECK_FALSE(step(scaled, on, false).skipped);
  }
  auto params_equal = [](const Setup& a, const Setup& b) {
    for (size_t i = 0; i < a.parameters.size(); ++i)
      if (!a.parameters[i].equal(b.parameters[i])) return false;
    return a.objective->classifiers()[0]->weight.equal(b.objective->classifiers()[0]->weight);
  };
  CHECK(params_equal(plain, scaled));

  // A poisoned gradient: nothing moves (backbone, centres), the scale halves, the pending centre
  // gradients are dropped so the next step does not apply them.
  std::vector<at::Tensor> before;
  for (const auto& p : scaled.parameters) before.push_back(p.detach().clone());
  at::Tensor centres = scaled.objective->classifiers()[0]->weight.clone();
  auto outcome = step(scaled, on, true);
  CHECK(outcome.skipped);
  CHECK(on.scale() == 32768);
  CHECK(on.skipped_steps() == 1);
  for (size_t i = 0; i < before.size(); ++i) CHECK(scaled.parameters[i].equal(before[i]));
  CHECK(scaled.objective->classifiers()[0]->weight.equal(centres));
  CHECK(scaled.objective->classifiers()[0]->pending_gradients().empty());
  // And the next finite step matches the plain run's next step again.
  CHECK_FALSE(step(plain, off, false).skipped);
  CHECK_FALSE(step(scaled, on, false).skipped);
  CHECK(params_equal(plain, scaled));
}
