// The training-step benchmark: one fixed in-memory batch, the trainer's own pieces, wall time.
#include "src/bench/train_bench.h"

#include <sys/resource.h>

#include <chrono>

#include <torch/cuda.h>
#include <torch/types.h>

#include "backbones/backbone.h"
#include "backbones/summary.h"
#include "losses/head_options.h"
#include "src/dist/rendezvous.h"
#include "src/dist/world.h"
#include "src/train/optim_options.h"
#include "src/train/loss_scaler.h"
#include "src/train/objective.h"
#include "src/train/optimizer_step.h"
#include "src/train/param_groups.h"
#include "src/util/torch_compat.h"
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
  if (o.device != "cpu" && o.device != "cuda") fail("bench train: --device is cpu or cuda, got '{}'", o.device);
  if (o.device == "cuda" && !compat::cuda_available())
    fail("bench train --device cuda: no CUDA device is visible to this LibTorch ({})", compat::torch_version());
  const at::Device device(o.device == "cuda" ? at::kCUDA : at::kCPU);
  auto net = backbones::make_backbone(o.model);
  // Forward MACs of one image (counted on CPU); a step is forward + backward (about twice the
  // forward) for the backbone and the classifier's [D x C] product.
  const double macs = static_cast<double>(backbones::summarize(o.model.backbone, *net).macs) +
                      static_cast<double>(net->embedding_size()) * o.classes * o.sample_rate;
  result.flops_per_image = 3 * 2 * macs;
  auto world = dist::World::connect(dist::Rendezvous{}, dist::DistOptions{});
  // The trainer's own objective (a Partial FC classifier of o.classes) and end of step.
  losses::HeadOptions head;
  head.head = o.head;
  head.partial_fc.sample_rate = o.sample_rate;
  train::Objective objective(head, o.classes, net->embedding_size(), world, static_cast<uint64_t>(o.seed));
  train::OptimOptions optim;  // SGD, lr 0.1, momentum 0.9, weight decay 5e-4: arcface_torch's
  std::vector<double> scales;
  net->to(device);
  objective.to(device);
  const auto groups = train::split_parameters(net->parameters(), objective.parameters(), false);
  auto sgd = train::make_optimizer(groups, optim, scales);
  at::Tensor images = at::randn({o.batch, 3, 112, 112}).to(device);
  at::Tensor labels = at::randint(o.classes, {o.batch}, at::TensorOptions().dtype(at::kLong)).to(device);
  // fp16 autocast trains with dynamic loss scaling, as the trainer does (and the reference's GradScaler).
  train::LossScaler scaler(o.model.autocast == "fp16");
  const std::vector<at::Tensor> parameters = groups.all();
  net->train();
  objective.train();
  auto step = [&](int i) {
    sgd->zero_grad();
    objective.on_step(i);
    scaler.scale_loss(objective.forward(net->forward(images), labels)).backward();
    train::apply_step(*world, parameters, {}, *sgd, objective, train::centre_step(optim, optim.lr), scaler, {});
  };
  auto wait = [&] {
    if (device.is_cuda()) torch::cuda::synchronize();
  };
  for (int i = 0; i < o.warmup; ++i) step(i);
  wait();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < o.steps; ++i) step(o.warmup + i);
  wait();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.images_per_s = double(o.batch) * o.steps / seconds;
  result.step_ms = 1000 * seconds / o.steps;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  result.peak_rss_mib = usage.ru_maxrss / 1024.0;
  if (device.is_cuda()) result.peak_device_mib = compat::cuda_peak_allocated_mib(0);
  result.tflops = result.flops_per_image * result.images_per_s / 1e12;
  return result;
}

std::vector<std::string> reference_train_args(const TrainBenchOptions& o) {
  std::vector<std::string> args = {"--backbone", o.model.backbone,          "--batch", std::to_string(o.batch),
          "--classes",  std::to_string(o.classes), "--steps", std::to_string(o.steps),
          "--warmup",   std::to_string(o.warmup),  "--threads", std::to_string(o.threads > 0 ? o.threads : cores()),
          "--seed",     std::to_string(o.seed),    "--head", o.head,
          "--sample-rate", fmt::format("{}", o.sample_rate), "--device", o.device,
          "--channels-last", o.model.channels_last};  // the same memory format as ours, auto included
  if (o.model.autocast == "fp16") args.push_back("--fp16");
  return args;
}

}  // namespace ff::bench
