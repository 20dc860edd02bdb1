// `faceforge bench model`: prints throughput, appends a JSON line, and reports ratios against
// PyTorch's run of the same network when a reference interpreter is given.
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "src/bench/model_bench.h"
#include "src/cli/commands.h"
#include "src/util/error.h"
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
    std::ofstream out(args.json, std::ios::app);
    out << j.dump() << "\n";
    if (!out) fail("cannot write {}", args.json);
  } else {
    std::printf("%s\n", j.dump().c_str());
  }
  return 0;
}

}  // namespace ff::cli
