// `faceforge bench model | heads | pfc | data`: print throughput (and Partial FC's memory), append JSON
// lines, and report ratios against PyTorch's run of the same work when a reference interpreter is given.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "src/bench/head_bench.h"
#include "src/bench/model_bench.h"
#include "src/bench/python_reference.h"
#include "src/bench/train_bench.h"
#include "src/bench/pfc_bench.h"
#include "src/cli/commands.h"
#include "src/dist/launcher.h"
#include "src/dist/rendezvous.h"
#include "src/dist/world.h"
#include "src/util/allocator.h"
#include "src/util/error.h"
#include "src/util/threads.h"
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

int run_bench_train(const BenchTrainArgs& args) {
  bench::TrainBenchOptions o = args.options;
  o.model = model_options(args.backbone, args.overrides);
  auto r = bench::bench_train(o);
  o.threads = r.threads;
  nlohmann::json j = {{"bench", "train"},        {"backbone", o.model.backbone}, {"batch", o.batch},
                      {"head", o.head},          {"sample_rate", o.sample_rate}, {"classes", o.classes},
                      {"steps", o.steps},        {"warmup", o.warmup},           {"threads", r.threads},
                      {"libtorch", compat::torch_version()},                      {"images_per_s", r.images_per_s},
                      {"step_ms", r.step_ms},    {"peak_rss_mib", r.peak_rss_mib},
                      {"device", o.device},      {"autocast", o.model.autocast}, {"peak_device_mib", r.peak_device_mib},
                      {"flops_per_image", r.flops_per_image}, {"tflops", r.tflops},
                      {"huge_pages", huge_pages_in_use()}};
  std::printf("%s batch %d, %s, %d classes (sample rate %g), %s%s, %d threads: %.1f images/s, %.0f ms/step, peak RSS "
              "%.0f MiB%s, %.3f TFLOP/s\n",
              o.model.backbone.c_str(), o.batch, o.head.c_str(), o.classes, o.sample_rate, o.device.c_str(),
              o.model.autocast == "none" ? "" : (" " + o.model.autocast).c_str(), r.threads, r.images_per_s, r.step_ms,
              r.peak_rss_mib, o.device == "cuda" ? fmt::format(", peak GPU {:.0f} MiB", r.peak_device_mib).c_str() : "",
              r.tflops);
  if (args.peak_tflops > 0) {
    j["peak_tflops"] = args.peak_tflops;
    j["utilisation"] = r.tflops / args.peak_tflops;
    std::printf("%.1f%% of the %.0f TFLOP/s peak given\n", 100 * r.tflops / args.peak_tflops, args.peak_tflops);
  }
  if (!args.reference_python.empty()) {
    std::string script = args.reference_script.empty()
                             ? std::string(FF_SOURCE_DIR) + "/scripts/bench/reference_train.py"
                             : args.reference_script;
    nlohmann::json ref = bench::run_python_reference(args.reference_python, script, bench::reference_train_args(o));
    const double py = ref.at("images_per_s").get<double>();
    j["reference"] = ref;
    j["ratio"] = r.images_per_s / py;
    std::printf("PyTorch %s: %.1f images/s, peak RSS %.0f MiB\nFaceForge / PyTorch: x%.2f\n",
                ref.value("torch", std::string("?")).c_str(), py, ref.value("peak_rss_mib", 0.0), r.images_per_s / py);
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

namespace {

// A loopback port nobody listens on now, for the workers' rendezvous: the usual 29500 may belong to a
// training run or another benchmark on the same machine.
int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) fail("bench pfc: cannot open a socket to find a free port: {}", std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  const int error = errno;
  ::close(fd);
  if (!ok) fail("bench pfc: cannot find a free loopback port: {}", std::strerror(error));
  return ntohs(address.sin_port);
}

// The workers' command line: this binary and the same options, so each worker measures exactly what
// the user asked for (RANK in their environment keeps them from launching again).
std::vector<std::string> pfc_worker_command(const BenchPfcArgs& args) {
  const bench::PfcBenchOptions& o = args.options;
  std::vector<std::string> command = {dist::this_program("bench pfc"), "bench", "pfc",
                                      "--classes", std::to_string(o.classes),
                                      "--dim", std::to_string(o.dim),
                                      "--world", std::to_string(o.world),
                                      "--sample-rate", fmt::format("{}", o.sample_rate),  // shortest text that reads back exactly
                                      "--batch", std::to_string(o.batch),
                                      "--iters", std::to_string(o.iters),
                                      "--warmup", std::to_string(o.warmup),
                                      "--threads", std::to_string(o.threads)};
  if (!o.backbone.empty()) command.insert(command.end(), {"--backbone", o.backbone});
  if (!o.sparse_update) command.emplace_back("--dense");
  if (!args.json.empty()) command.insert(command.end(), {"--json", args.json});
  return command;
}

}  // namespace

int run_bench_pfc(const BenchPfcArgs& args) {
  bench::PfcBenchOptions o = args.options;
  if (o.world < 1) fail("bench pfc: --world must be >= 1, got {}", o.world);
  const dist::Rendezvous rendezvous = dist::rendezvous_from_env();
  if (rendezvous.launcher == "none" && o.world > 1) {
    dist::LaunchOptions launch;
    launch.nproc_per_node = o.world;
    launch.master = fmt::format("127.0.0.1:{}", free_local_port());
    launch.command = pfc_worker_command(args);
    return dist::launch(launch);
  }
  auto world = dist::World::connect(rendezvous, dist::DistOptions{});
  o.world = world->size();  // a launcher's WORLD_SIZE wins over --world
  if (o.threads <= 0) {
    // Share the cores among the ranks on this machine, not the whole world (several nodes).
    o.threads = std::max(1, cores() / std::max(1, rendezvous.local_world));
  }
  const bench::PfcBenchRank r = bench::bench_pfc_rank(o, *world);
  std::printf("rank %d: %lld classes, %lld sampled, centres %.1f MiB, logits %.1f MiB, peak %.0f MiB, head step %.1f ms, "
              "full step %.1f ms\n",
              r.rank, static_cast<long long>(r.local_classes), static_cast<long long>(r.sampled), r.centre_mib,
              r.logits_mib, r.peak_rss_mib, r.head_step_ms, r.full_step_ms);
  std::fflush(stdout);
  if (!args.json.empty()) {
    nlohmann::json j = {{"bench", "pfc"},
                        {"rank", r.rank},
                        {"world", o.world},
                        {"classes", o.classes},
                        {"dim", o.dim},
                        {"sample_rate", o.sample_rate},
                        {"sparse_update", o.sparse_update},
                        {"batch", o.batch},
                        {"backbone", o.backbone},
                        {"iters", o.iters},
                        {"warmup", o.warmup},
                        {"threads", o.threads},
                        {"local_classes", r.local_classes},
                        {"sampled", r.sampled},
                        {"centre_mib", r.centre_mib},
                        {"logits_mib", r.logits_mib},
                        {"peak_rss_mib", r.peak_rss_mib},
                        {"head_step_ms", r.head_step_ms},
                        {"full_step_ms", r.full_step_ms},
                        {"head_step_cpu_ms", r.head_step_cpu_ms},
                        {"full_step_cpu_ms", r.full_step_cpu_ms},
                        {"libtorch", compat::torch_version()}};
    JsonLines(args.json).write(j);
  }
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

int run_bench_eval(const BenchEvalArgs& args) {
  const bench::EvalBenchOptions& o = args.options;
  const std::string script = args.reference_script.empty() ? std::string(FF_SOURCE_DIR) + "/benchmarks/eval_reference.py"
                                                           : args.reference_script;
  nlohmann::json r = bench::bench_eval(o, args.reference_python, script);
  r["bench"] = "eval";
  r["libtorch"] = compat::torch_version();
  const auto& s = r["seconds"];
  const bool reference = r.contains("reference");
  auto line = [&](const char* what, const char* stage, const char* target) {
    std::printf("%-52s %8.3f s", what, s[stage].get<double>());
    if (reference)
      std::printf("   NumPy %8.3f s   x%.1f", r["reference"]["seconds"][stage].get<double>(),
                  r["speedup_over_reference"][stage].get<double>());
    std::printf("%s\n", target);
  };
  std::printf("%lld images, %lld templates, %lld pairs, %d-d, %d threads\n", static_cast<long long>(o.images),
              static_cast<long long>(o.templates), static_cast<long long>(o.pairs), o.dim, r["threads"].get<int>());
  line("IJB templates (media means, summed, normalised)", "ijb_templates", "");
  line("IJB 1:1 pair scores", "ijb_pair_scores", "");
  line("IJB 1:1 TAR@FAR 1e-6..1e-1", "ijb_tar_at_far", "");
  line("IJB 1:1 from templates (scores + TAR@FAR)", "ijb_1to1_from_templates", "   target <= 15 s");
  line("IJB 1:N (matrix, open set, CMC)", "ijb_1n", "   target <= 5 s");
  line("verification pack from features (10-fold, ROC)", "verification", "   target < 1 s");
  if (!args.json.empty()) {
    JsonLines(args.json).write(r);
  } else {
    std::printf("%s\n", r.dump().c_str());
  }
  return 0;
}

}  // namespace ff::cli
