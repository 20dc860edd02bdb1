// Loss-head cost on random embeddings, each head timed the same way in one process.
#include "src/bench/head_bench.h"

#include <chrono>

#include <torch/optim/sgd.h>
#include <torch/utils.h>

#include "losses/margin_head.h"
#include "src/train/objective.h"
#include "src/util/error.h"
#include "src/util/threads.h"

namespace ff::bench {

std::vector<HeadBenchRow> bench_heads(const HeadBenchOptions& o) {
  if (o.classes < 2 || o.batch < 4 || o.iters < 1) fail("bench heads: need --classes >= 2, --batch >= 4, --iters >= 1");
  set_compute_threads(o.threads > 0 ? o.threads : cores());
  torch::manual_seed(0);
  // Four images per label so every triplet strategy finds positives, as a P x K batch would.
  at::Tensor labels = at::arange(o.batch / 4, at::kLong).repeat_interleave(4);
  at::Tensor embeddings = at::randn({labels.size(0), o.embedding_size}) * 10;
  std::vector<HeadBenchRow> rows;
  for (const auto& name : losses::margin_head_names()) {
    losses::HeadOptions options;
    options.head = name;
    train::Objective objective(options, o.classes, o.embedding_size);
    objective.train();
    at::Tensor x = embeddings.clone().requires_grad_(true);
    std::vector<at::Tensor> parameters = objective.parameters();
    parameters.push_back(x);
    torch::optim::SGD sgd(parameters, torch::optim::SGDOptions(0.01).momentum(0.9));
    auto step = [&](int64_t i) {
      sgd.zero_grad();
      objective.on_step(i);
      objective.forward(x, labels).backward();
      sgd.step();
      objective.update_classifiers(losses::CentreStep{losses::CentreStep::Rule::sgd, 0.01, 0.9, 0.0});
    };
    for (int i = 0; i < o.warmup; ++i) step(i);
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < o.iters; ++i) step(o.warmup + i);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rows.push_back({name, o.iters / seconds, 0});
  }
  for (auto& row : rows) row.relative_to_softmax = row.steps_per_s / rows.front().steps_per_s;
  return rows;
}

}  // namespace ff::bench
