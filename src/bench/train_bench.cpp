// The training-step benchmark: one fixed in-memory batch, the trainer's own pieces, wall time.
#include "src/bench/train_bench.h"

#include <sys/resource.h>

#include <chrono>

#include <torch/types.h>

#include "backbones/backbone.h"
#include "losses/margin_head.h"
#include "losses/partial_fc.h"
#include "src/dist/rendezvous.h"
#include "src/dist/world.h"
#include "src/train/optim_options.h"
#include "src/train/param_groups.h"
#include "src/util/error.h"
#include "src/util/threads.h"

namespace ff::bench {

TrainBenchResult bench_train(const TrainBenchOptions& o) {
  if (o.batch < 2 || o.steps < 1 || o.warmup < 0 || o.classes < 2)
    fail("bench train: --batch >= 2, --steps >= 1, --warmup >= 0 and --classes >= 2 are needed");
  TrainBenchResult result;
  result.threads = o.threads > 0 ? o.threads : cores();
  set_compute_threads(result.threads);
  torch::manual_seed(o.seed);
  backbones::register_builtin_backbones();
  auto net = backbones::make_backbone(o.model);
  auto world = dist::World::connect(dist::Rendezvous{}, dist::DistOptions{});
  losses::HeadOptions head;
  head.head = o.head;
  losses::PartialFC fc(world, o.classes, net->embedding_size(), losses::make_margin_head(head),
                       losses::PartialFCOptions{o.sample_rate, true}, static_cast<uint64_t>(o.seed));
  train::OptimOptions optim;  // SGD, lr 0.1, momentum 0.9, weight decay 5e-4: arcface_torch's
  std::vector<double> scales;
  auto sgd = train::make_optimizer(train::split_parameters(net->parameters(), fc.parameters(), false), optim, scales);
  at::Tensor images = at::randn({o.batch, 3, 112, 112});
  at::Tensor labels = at::randint(o.classes, {o.batch}, at::TensorOptions().dtype(at::kLong));
  net->train();
  fc.train();
  auto step = [&](int i) {
    sgd->zero_grad();
    fc.set_step(i);
    fc.forward(net->forward(images), labels).backward();
    sgd->step();
    fc.update(train::centre_step(optim, optim.lr));
  };
  for (int i = 0; i < o.warmup; ++i) step(i);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < o.steps; ++i) step(o.warmup + i);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.images_per_s = double(o.batch) * o.steps / seconds;
  result.step_ms = 1000 * seconds / o.steps;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  result.peak_rss_mib = usage.ru_maxrss / 1024.0;
  return result;
}

std::vector<std::string> reference_train_args(const TrainBenchOptions& o) {
  return {"--backbone", o.model.backbone,          "--batch", std::to_string(o.batch),
          "--classes",  std::to_string(o.classes), "--steps", std::to_string(o.steps),
          "--warmup",   std::to_string(o.warmup),  "--threads", std::to_string(o.threads > 0 ? o.threads : cores()),
          "--seed",     std::to_string(o.seed),    "--head", o.head,
          "--sample-rate", fmt::format("{}", o.sample_rate)};
}

}  // namespace ff::bench
