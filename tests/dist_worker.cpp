// One rank of the multi-process tests (tests/dist/): joins the world the launcher's environment
// describes and either
//   ff_dist_worker OUT HEAD SAMPLE_RATE STEPS GLOBAL_ROWS CLASSES [dense]
// trains a linear "backbone" + Partial FC for a few steps on a fixed global batch and writes what
// it saw to OUT/rank<r>.pt, or
//   ff_dist_worker train CONFIG [key=value ...]
// runs the real trainer with the small test CNN registered as backbone "tiny".
#include <cstdio>
#include <filesystem>
#include <string>

#include <torch/torch.h>

#include "losses/margin_head.h"
#include "losses/partial_fc.h"
#include "src/dist/data_parallel.h"
#include "src/dist/rendezvous.h"
#include "src/dist/world.h"
#include "src/train/trainer.h"
#include "src/util/error.h"
#include "src/util/threads.h"
#include "tiny_net.h"

int main(int argc, char** argv) try {
  if (argc >= 3 && std::string(argv[1]) == "train") {
    ff::backbones::register_builtin_backbones();
    ff::test::register_tiny_backbone();
    auto config = ff::train::load_run_config(argv[2], std::vector<std::string>(argv + 3, argv + argc));
    auto result = ff::train::train(config, "ff_dist_worker");
    if (result.rank == 0) std::printf("run folder: %s\n", result.run_dir.c_str());
    for (const auto& report : result.evaluations) std::printf("accuracy=%.6f\n", report.value("accuracy"));
    return 0;
  }
  if (argc < 7) ff::fail("usage: ff_dist_worker OUT HEAD SAMPLE_RATE STEPS GLOBAL_ROWS CLASSES [dense]");
  const std::filesystem::path out = argv[1];
  ff::losses::HeadOptions head;
  head.head = argv[2];
  head.scale = 16;
  head.margin = head.head == "cosface" ? 0.35 : 0.5;
  head.partial_fc.sample_rate = std::stod(argv[3]);
  head.partial_fc.sparse_update = !(argc > 7 && std::string(argv[7]) == "dense");
  const int steps = std::stoi(argv[4]);
  const int64_t global_rows = std::stoll(argv[5]), classes = std::stoll(argv[6]);
  ff::set_compute_threads(1);
  ff::dist::DistOptions options;
  options.timeout_seconds = 60;
  auto world = ff::dist::World::connect(ff::dist::rendezvous_from_env(), options);
  const int64_t rows = global_rows / world->size();

  // The same backbone and global batch on every rank and in the test's single-process reference.
  torch::manual_seed(1);
  torch::nn::Linear backbone(10, 8);
  torch::manual_seed(2);
  at::Tensor inputs = torch::randn({global_rows, 10});
  at::Tensor labels = torch::randint(0, classes, {global_rows}, torch::kLong);
  at::Tensor my_inputs = inputs.narrow(0, world->rank() * rows, rows);
  at::Tensor my_labels = labels.narrow(0, world->rank() * rows, rows);

  ff::losses::PartialFC fc(world, classes, 8, ff::losses::make_margin_head(head), head.partial_fc, 5);
  fc.train();
  torch::optim::SGD sgd(backbone->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(5e-4));
  torch::serialize::OutputArchive archive;
  archive.write("range", torch::tensor({fc.range().begin, fc.range().end}));
  archive.write("sample_count", torch::tensor(fc.sample_count()));
  for (int s = 0; s < steps; ++s) {
    const std::string k = std::to_string(s);
    archive.write("weight_before_" + k, fc.weight.clone());
    archive.write("momentum_before_" + k, fc.weight_momentum.clone());
    sgd.zero_grad();
    fc.set_step(s);
    at::Tensor loss = fc.forward(backbone->forward(my_inputs), my_labels);
    loss.backward();
    ff::dist::average_gradients(*world, backbone->parameters(), 1.0);
    archive.write("loss_" + k, loss.detach());
    archive.write("grad_weight_" + k, backbone->weight.grad().clone());
    archive.write("grad_bias_" + k, backbone->bias.grad().clone());
    sgd.step();
    fc.update(0.1, 0.9, 5e-4);
    const at::Tensor& sampled = fc.last_sampled();
    archive.write("sampled_" + k, sampled.defined() ? sampled : torch::arange(fc.range().size()));
    archive.write("weight_after_" + k, fc.weight.clone());
    archive.write("momentum_after_" + k, fc.weight_momentum.clone());
  }
  archive.save_to((out / ("rank" + std::to_string(world->rank()) + ".pt")).string());
  world->barrier();
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
