// Backbone throughput measurement and the PyTorch reference run beside it.
#include "src/bench/model_bench.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>

#include <torch/utils.h>

#include "backbones/backbone.h"
#include "src/bench/python_reference.h"
#include "src/util/error.h"
#include "src/util/threads.h"

namespace ff::bench {

namespace {

template <typename Fn>
double images_per_second(int iters, int warmup, int batch, Fn&& step) {
  for (int i = 0; i < warmup; ++i) step();
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) step();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return double(iters) * batch / seconds;
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // Linux reports KiB
}

}  // namespace

ModelBenchResult bench_model(const ModelBenchOptions& o) {
  if (o.batch < 1 || o.iters < 1 || o.warmup < 0) fail("bench model: --batch and --iters must be >= 1, --warmup >= 0");
  ModelBenchResult result;
  result.threads = o.threads > 0 ? o.threads : cores();
  set_compute_threads(result.threads);
  torch::manual_seed(0);
  backbones::register_builtin_backbones();
  auto net = backbones::make_backbone(o.model);
  at::Tensor images = at::randn({o.batch, 3, 112, 112});

  net->eval();
  result.forward_images_per_s = images_per_second(o.iters, o.warmup, o.batch, [&] {
    torch::NoGradGuard no_grad;
    net->forward(images);
  });
  net->train();
  result.train_images_per_s = images_per_second(o.iters, o.warmup, o.batch, [&] {
    net->zero_grad();
    net->forward(images).square().mean().backward();
  });
  result.peak_rss_mib = peak_rss_mib();
  return result;
}

nlohmann::json run_torch_reference(const std::string& python, const std::string& script, const ModelBenchOptions& o) {
  return run_python_reference(python, script,
                              {"--backbone", o.model.backbone, "--batch", std::to_string(o.batch), "--iters",
                               std::to_string(o.iters), "--warmup", std::to_string(o.warmup), "--threads",
                               std::to_string(o.threads)});
}

}  // namespace ff::bench
