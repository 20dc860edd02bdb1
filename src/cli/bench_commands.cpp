// `faceforge bench model | heads | data`: print throughput, append a JSON line, and report ratios
// against PyTorch's run of the same work when a reference interpreter is given.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "src/bench/head_bench.h"
#include "src/bench/model_bench.h"
#include "src/cli/commands.h"
#include "src/util/progress.h"
#include "src/util/torch_compat.h"

namespace ff::cli {

int run_bench_model(const BenchModelArgs& args) {
  bench::ModelBenchOptions o;
  o.model = model_options(args.backbone, args.overrides);
  o.batch = args.batch;
  o.iters = args.iters;
  o.warmup = args.warmup;
  o.threads = args.threads;
  auto r = bench::bench_model(o);
  o.threads = r.threads;
  nlohmann::json j = {{"bench", "model"},
                      {"backbone", o.model.backbone},
                      {"channels_last", o.model.channels_last},
                      {"autocast", o.model.autocast},
                      {"batch", o.batch},
                      {"iters", o.iters},
                      {"threads", r.threads},
                      {"libtorch", compat::torch_version()},
                      {"forward_images_per_s", r.forward_images_per_s},
                      {"train_images_per_s", r.train_images_per_s},
                      {"peak_rss_mib", r.peak_rss_mib}};
  std::printf("%s batch %d, %d threads: forward %.1f images/s, forward+backward %.1f images/s, peak RSS %.0f MiB\n",
              o.model.backbone.c_str(), o.batch, r.threads, r.forward_images_per_s, r.train_images_per_s, r.peak_rss_mib);
  if (!args.reference_python.empty()) {
    std::string script = args.reference_script.empty() ? std::string(FF_SOURCE_DIR) + "/benchmarks/torch_reference.py"
                                                       : args.reference_script;
    nlohmann::json ref = bench::run_torch_reference(args.reference_python, script, o);
    double fwd = ref.at("forward_images_per_s").get<double>(), train = ref.at("train_images_per_s").get<double>();
    j["reference"] = ref;
    j["forward_ratio"] = r.forward_images_per_s / fwd;
    j["train_ratio"] = r.train_images_per_s / train;
    std::printf("PyTorch %s: forward %.1f images/s, forward+backward %.1f images/s\n",
                ref.value("torch", std::string("?")).c_str(), fwd, train);
    std::printf("FaceForge / PyTorch: forward x%.2f, forward+backward x%.2f\n", r.forward_images_per_s / fwd,
                r.train_images_per_s / train);
  }
  if (!args.json.empty()) {
    JsonLines(args.json).write(j);
  } else {
    std::printf("%s\n", j.dump().c_str());
  }
  return 0;
}

int run_bench_heads(const BenchHeadsArgs& args) {
  const bench::HeadBenchOptions& o = args.options;
  auto rows = bench::bench_heads(o);
  nlohmann::json j = {{"bench", "heads"}, {"classes", o.classes}, {"batch", o.batch}, {"embedding_size", o.embedding_size},
                      {"iters", o.iters}, {"libtorch", compat::torch_version()}};
  std::printf("%d classes, batch %d, %d-d embeddings: classifier/loss step (forward, backward, SGD)\n", o.classes,
              o.batch, o.embedding_size);
  std::printf("%-18s %12s %12s\n", "head", "steps/s", "vs softmax");
  for (const auto& r : rows) {
    std::printf("%-18s %12.1f %11.2fx\n", r.head.c_str(), r.steps_per_s, r.relative_to_softmax);
    j["heads"][r.head] = {{"steps_per_s", r.steps_per_s}, {"relative_to_softmax", r.relative_to_softmax}};
  }
  if (!args.json.empty()) JsonLines(args.json).write(j);
  return 0;
}

int run_bench_data(const BenchDataArgs& args) {
  const bench::DataBenchOptions& o = args.options;
  auto r = bench::bench_data(o);
  nlohmann::json j = {{"bench", "data"}, {"source", o.source}, {"threads", o.threads}, {"batch", o.batch},
                      {"images", r.images}, {"seconds", r.seconds}, {"images_per_second", r.images_per_second},
                      {"libtorch", compat::torch_version()}};
  std::printf("%s\nFaceForge loader, %d threads, batch %d: %.1f images/s (%lld images in %.2f s)\n", r.source.c_str(),
              o.threads, o.batch, r.images_per_second, static_cast<long long>(r.images), r.seconds);
  if (!args.reference_python.empty()) {
    std::string script = args.reference_script.empty() ? std::string(FF_SOURCE_DIR) + "/benchmarks/data_reference.py"
                                                       : args.reference_script;
    nlohmann::json ref = bench::run_data_reference(args.reference_python, script, o);
    double reference = ref.at("images_per_second").get<double>();
    j["reference"] = ref;
    j["ratio"] = r.images_per_second / reference;
    std::printf("PyTorch %s DataLoader, %d workers: %.1f images/s\nFaceForge / PyTorch: x%.2f\n",
                ref.value("torch", std::string("?")).c_str(), o.threads, reference, r.images_per_second / reference);
  }
  if (!args.json.empty()) {
    JsonLines(args.json).write(j);
  } else {
    std::printf("%s\n", j.dump().c_str());
  }
  return 0;
}

}  // namespace ff::cli
