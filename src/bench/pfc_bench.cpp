// Partial FC cost on one rank: centre and logits memory, peak RSS, classifier-only and full training step times.
#include "src/bench/pfc_bench.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/optim/sgd.h>
#include <torch/utils.h>

#include "backbones/backbone.h"
#include "losses/head_options.h"
#include "losses/margin_head.h"
#include "losses/partial_fc.h"
#include "src/dist/data_parallel.h"
#include "src/dist/world.h"
#include "src/util/error.h"
#include "src/util/threads.h"

namespace ff::bench {

namespace {

constexpr double kMiB = 1024.0 * 1024.0;
// arcface_torch's defaults; the values only matter in that every configuration uses the same ones.
constexpr double kLr = 0.1, kMomentum = 0.9, kWeightDecay = 5e-4;
constexpr double kBucketMb = 25;
constexpr uint64_t kSeed = 0x9fcbe7c4ULL;

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

double cpu_ms() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto ms = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3; };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

struct StepTime {
  double wall_ms = 0, cpu_ms = 0;
};

// Mean wall and process CPU milliseconds of the `iters` steps after `warmup` untimed ones. The
// barriers on both sides make every rank's clock cover the same steps of all ranks, so per-rank
// times are comparable (a rank that finishes its share early waits for the slowest, as in training).
// CPU time is the check on a shared machine: other processes stretch wall time, hardly CPU time.
template <typename Step>
StepTime mean_step_time(dist::World& world, int warmup, int iters, Step&& step) {
  for (int i = 0; i < warmup; ++i) step(i, false);
  world.barrier();
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = cpu_ms();
  for (int i = 0; i < iters; ++i) step(warmup + i, true);
  world.barrier();
  const double wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return {wall / iters, (cpu_ms() - cpu_start) / iters};
}

}  // namespace

PfcBenchRank bench_pfc_rank(const PfcBenchOptions& o, dist::World& world) {
  if (o.classes < 2 || o.dim < 1 || o.batch < 1 || o.iters < 1 || o.warmup < 0)
    fail("bench pfc: need --classes >= 2, --dim >= 1, --batch >= 1, --iters >= 1, --warmup >= 0; got {}, {}, {}, {}, {}",
         o.classes, o.dim, o.batch, o.iters, o.warmup);
  if (!(o.sample_rate > 0 && o.sample_rate <= 1)) fail("bench pfc: --sample-rate must be in (0, 1], got {}", o.sample_rate);
  set_compute_threads(o.threads > 0 ? o.threads : std::max(1, cores() / world.size()));
  torch::manual_seed(kSeed);

  // The backbone comes first so a bad name fails before minutes of centre initialisation.
  std::shared_ptr<backbones::Backbone> net;
  if (!o.backbone.empty()) {
    backbones::register_builtin_backbones();
    backbones::BackboneOptions model;
    model.backbone = o.backbone;
    model.embedding_size = o.dim;
    net = backbones::make_backbone(model);
    if (net->embedding_size() != o.dim)
      fail("bench pfc: backbone {} gives {}-d embeddings, --dim is {}", o.backbone, net->embedding_size(), o.dim);
    // Every rank starts from rank 0's weights, as in training.
    std::vector<at::Tensor> state = net->parameters();
    for (auto& b : net->buffers()) state.push_back(b);
    dist::broadcast_tensors(world, state, kBucketMb);
  }

  // PartialFC keeps a shared_ptr to its World; the caller owns this one and outlives the benchmark.
  std::shared_ptr<dist::World> shared(&world, [](dist::World*) {});
  losses::HeadOptions head;  // arcface, s = 64, m = 0.5: the head Partial FC is usually run with
  losses::PartialFC fc(shared, o.classes, o.dim, losses::make_margin_head(head),
                       losses::PartialFCOptions{o.sample_rate, o.sparse_update}, kSeed);
  fc.train();

  PfcBenchRank r;
  r.rank = world.rank();
  r.local_classes = fc.range().size();
  r.centre_mib = static_cast<double>(fc.weight.nbytes() + fc.weight_momentum.nbytes()) / kMiB;
  if (fc.bias.defined()) r.centre_mib += static_cast<double>(fc.bias.nbytes() + fc.bias_momentum.nbytes()) / kMiB;

  // Each rank draws its own labels, uniform over every class (so most positives of a rank's rows live
  // on other ranks, as in real training), fresh each step.
  auto generator = at::make_generator<at::CPUGeneratorImpl>(kSeed + 7919ULL * static_cast<uint64_t>(world.rank() + 1));
  auto labels = [&] { return at::randint(o.classes, {o.batch}, generator, at::TensorOptions().dtype(at::kLong)); };
  int64_t sampled_sum = 0, sampled_steps = 0;
  auto count_sampled = [&] {
    const at::Tensor& s = fc.last_sampled();
    sampled_sum += s.defined() ? s.numel() : fc.range().size();
    ++sampled_steps;
  };

  at::Tensor x = (at::randn({o.batch, o.dim}, generator, at::TensorOptions()) * 10).requires_grad_(true);
  const StepTime head_time = mean_step_time(world, o.warmup, o.iters, [&](int i, bool timed) {
    x.mutable_grad() = at::Tensor();
    fc.set_step(i);
    fc.forward(x, labels()).backward();
    fc.update(kLr, kMomentum, kWeightDecay);
    if (timed) count_sampled();
  });
  r.head_step_ms = head_time.wall_ms;
  r.head_step_cpu_ms = head_time.cpu_ms;

  if (net) {
    std::vector<at::Tensor> parameters = net->parameters();
    torch::optim::SGD sgd(parameters, torch::optim::SGDOptions(kLr).momentum(kMomentum).weight_decay(kWeightDecay));
    at::Tensor images = at::randn({o.batch, 3, 112, 112}, generator, at::TensorOptions());
    net->train();
    // Steps continue the head phase's numbering so Partial FC draws new negatives.
    const int first = o.warmup + o.iters;
    const StepTime full_time = mean_step_time(world, o.warmup, o.iters, [&](int i, bool timed) {
      sgd.zero_grad();
      fc.set_step(first + i);
      fc.forward(net->forward(images), labels()).backward();
      dist::average_gradients(world, parameters, kBucketMb);
      sgd.step();
      fc.update(kLr, kMomentum, kWeightDecay);
      if (timed) count_sampled();
    });
    r.full_step_ms = full_time.wall_ms;
    r.full_step_cpu_ms = full_time.cpu_ms;
  }

  r.sampled = (sampled_sum + sampled_steps / 2) / sampled_steps;
  const int64_t global_batch = int64_t{o.batch} * world.size();
  r.logits_mib = static_cast<double>(global_batch * r.sampled * fc.sub_centers()) * 4.0 / kMiB;
  r.peak_rss_mib = peak_rss_mib();
  return r;
}

}  // namespace ff::bench
