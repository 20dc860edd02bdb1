// The training loop on every rank and its bookkeeping (run folder, logs, checkpoints and store on
// rank 0).
#include "src/train/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <ctime>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <torch/optim/sgd.h>
#include <torch/cuda.h>
#include <torch/utils.h>
#include <c10/core/DeviceGuard.h>

#include "backbones/backbone.h"
#include "datasets/loader.h"
#include "datasets/mixing.h"
#include "datasets/pk_sampler.h"
#include "src/dist/data_parallel.h"
#include "src/dist/rendezvous.h"
#include "src/dist/world.h"
#include "src/store/results_store.h"
#include "src/train/checkpoint.h"
#include "src/train/lr_schedule.h"
#include "src/train/objective.h"
#include "src/train/optimizer_step.h"
#include "src/train/param_groups.h"
#include "src/train/loss_scaler.h"
#include "src/train/run_folder.h"
#include "src/store/queries.h"
#include "src/util/atomic_file.h"
#include "src/util/error.h"
#include "src/util/host.h"
#include "src/util/sha256.h"
#include "src/util/threads.h"
#include "src/util/torch_compat.h"
#include "src/util/progress.h"

namespace ff::train {

namespace fs = std::filesystem;

namespace {

std::atomic<bool> g_stop_requested{false};
void on_stop_signal(int) { g_stop_requested = true; }

// Restores the previous SIGINT/SIGTERM handlers when training ends, however it ends.
class StopSignals {
 public:
  StopSignals() {
    g_stop_requested = false;
    previous_int_ = std::signal(SIGINT, on_stop_signal);
    previous_term_ = std::signal(SIGTERM, on_stop_signal);
  }
  ~StopSignals() {
    std::signal(SIGINT, previous_int_);
    std::signal(SIGTERM, previous_term_);
  }

 private:
  void (*previous_int_)(int);
  void (*previous_term_)(int);
};

// The commit of the working directory's git checkout, if there is one (provenance only).
std::string git_commit() {
  std::FILE* pipe = ::popen("git rev-parse HEAD 2>/dev/null", "r");
  if (!pipe) return "";
  char buffer[128] = {0};
  std::string out;
  if (std::fgets(buffer, sizeof buffer, pipe)) out = buffer;
  ::pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// FNV-1a 64-bit: a stable digest of the resolved config, to group identical configurations.
std::string fnv1a_hex(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return fmt::format("{:016x}", h);
}

// P x K batches for triplet losses: checks the batch size, says what happens to short identities.
datasets::EpochOrder pk_order(const datasets::Source& source, const RunConfig& config) {
  const auto& pk = config.data.pk;
  if (config.train.batch_size != pk.identities_per_batch * pk.images_per_identity) {
    fail("train.batch_size is {}, but a triplet loss samples P x K = data.pk.identities_per_batch {} x "
         "data.pk.images_per_identity {} = {} images per batch",
         config.train.batch_size, pk.identities_per_batch, pk.images_per_identity,
         pk.identities_per_batch * pk.images_per_identity);
  }
  std::vector<int64_t> labels(static_cast<size_t>(source.size()));
  for (int64_t i = 0; i < source.size(); ++i) labels[static_cast<size_t>(i)] = source.label(i);
  std::string notice = datasets::describe_short_identities(
      datasets::pk_epoch_order(labels, pk, static_cast<uint64_t>(config.seed), 0), pk, source.num_classes());
  if (!notice.empty()) std::printf("%s\n", notice.c_str());
  return [labels = std::move(labels), pk, seed = static_cast<uint64_t>(config.seed)](int64_t epoch) {
    return datasets::pk_epoch_order(labels, pk, seed, epoch).order;
  };
}

// The member whose one pass is an epoch: data.epoch_source by name, else the first.
int epoch_member(const datasets::MixedSource& source, const datasets::DataOptions& data) {
  const auto& members = source.members();
  for (size_t k = 0; k < members.size(); ++k)
    if (members[k].name == data.epoch_source) return static_cast<int>(k);
  return 0;
}

// What each source held and what training drew from it, for logs and the results store.
std::vector<store::DataSourceRow> data_source_rows(const datasets::MixedSource& source, const datasets::DataOptions& data,
                                                   const std::vector<int64_t>& seen) {
  std::vector<store::DataSourceRow> rows;
  int64_t total = 0;
  for (int64_t n : seen) total += n;
  const auto& members = source.members();
  for (size_t k = 0; k < members.size(); ++k) {
    const auto& m = members[k];
    const std::string& path = data.sources[k].path;
    rows.push_back({static_cast<int>(k), m.name, m.kind, m.format, path.empty() ? "(rendered)" : path, m.identities,
                    static_cast<int64_t>(m.records.size()), seen[k], m.share,
                    total > 0 ? static_cast<double>(seen[k]) / static_cast<double>(total) : 0.0});
  }
  return rows;
}

// train.device for this rank: cuda:LOCAL_RANK when asked for, or with auto when LibTorch sees a GPU.
at::Device training_device(const std::string& choice, int local_rank) {
  const int gpus = compat::cuda_device_count();
  if (choice == "cpu" || (choice == "auto" && gpus == 0)) return at::kCPU;
  if (gpus == 0)
    fail("train.device cuda: this LibTorch ({}) sees no CUDA device; use train.device=cpu or auto",
         compat::torch_version());
  if (local_rank >= gpus)
    fail("train.device cuda: local rank {} has no GPU of its own ({} visible); start at most {} ranks per node",
         local_rank, gpus, gpus);
  return {at::kCUDA, static_cast<c10::DeviceIndex>(local_rank)};
}

nlohmann::json to_json(const std::vector<store::DataSourceRow>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : rows)
    out.push_back({{"name", r.name}, {"kind", r.kind}, {"format", r.format}, {"identities", r.identities},
                   {"images", r.images}, {"images_seen", r.images_seen}, {"share", r.share},
                   {"share_achieved", r.share_achieved}});
  return out;
}


}  // namespace

TrainResult train(const RunConfig& given, const std::string& command_line) {
  using clock = std::chrono::steady_clock;
  const auto started = clock::now();
  RunConfig config = given;
  // Parsed (and their protocols detected) before any work, so a wrong path fails at once.
  std::vector<eval::Target> eval_targets;
  for (const auto& spec : config.eval.targets) eval_targets.push_back(eval::parse_target(spec));
  if (!config.eval.best.empty()) {
    const auto slash = config.eval.best.find('/');
    std::vector<std::string> names;
    for (const auto& t : eval_targets) names.push_back(t.name);
    if (slash == std::string::npos || slash + 1 == config.eval.best.size() ||
        std::find(names.begin(), names.end(), config.eval.best.substr(0, slash)) == names.end())
      fail("eval.best '{}': expected TARGET/METRIC with TARGET one of eval.targets ({})", config.eval.best,
           names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", ")));
  }

  // A world of one unless a launcher (faceforge launch, torchrun, SLURM) set the rendezvous.
  const dist::Rendezvous rendezvous = dist::rendezvous_from_env();
  const at::Device device = training_device(config.train.device, rendezvous.local_rank);
  // Allocations that name no device index (and NCCL's communicator) go to this rank's GPU.
  c10::OptionalDeviceGuard device_guard;
  if (device.is_cuda()) device_guard.reset_device(device);
  auto world = dist::World::connect(rendezvous, config.dist, device);
  const bool main_rank = world->is_main();
  const int ranks = world->size();
  // fp16 autocast needs CUDA (LibTorch's CPU autocast has no half-precision kernels), so a CPU run
  // of an fp16 config trains in fp32 and says so. bf16 works on both.
  std::string precision_note;
  if (config.model.autocast == "fp16" && !device.is_cuda()) {
    config.model.autocast = "none";
    precision_note = "model.autocast fp16 needs CUDA; this CPU run trains in fp32 (no loss scaling)";
    if (main_rank) std::printf("note: %s\n", precision_note.c_str());
  }
  LossScaler scaler(config.model.autocast == "fp16");
  // train.resume: auto continues the newest unfinished run of this name, if any (a requeued job).
  if (config.train.resume == "auto") {
    std::optional<fs::path> found = main_rank ? find_resumable_run(config.output, config.name) : std::nullopt;
    config.train.resume = world->broadcast_string(found ? found->string() : std::string());
    if (main_rank)
      std::printf("train.resume auto: %s\n", config.train.resume.empty() ? "no unfinished run of this name, starting a new one"
                                                                          : ("continuing " + config.train.resume).c_str());
  }
  int threads = config.train.threads > 0 ? config.train.threads : std::max(1, cores() / std::max(1, rendezvous.local_world));
  set_compute_threads(threads);
  torch::manual_seed(static_cast<uint64_t>(config.seed));

  auto source = datasets::open_sources(config.data);
  const auto& members = source->members();
  const bool triplets = config.loss.head == "triplet" || config.loss.weights.triplet > 0;
  const datasets::Shard shard{world->rank(), ranks};
  std::unique_ptr<datasets::MixSchedule> mix;
  datasets::EpochOrder order;
  if (triplets) {
    if (members.size() > 1)
      fail("a triplet loss samples P x K batches from one source; data.sources lists {}", members.size());
    order = [pk = pk_order(*source, config), shard, batch = config.train.batch_size,
             steps = int64_t{config.data.steps_per_epoch}](int64_t epoch) {
      auto o = datasets::shard_batches(pk(epoch), batch, shard);
      if (steps > 0 && static_cast<int64_t>(o.size()) > steps * batch) o.resize(static_cast<size_t>(steps * batch));
      return o;
    };
  } else {
    mix = std::make_unique<datasets::MixSchedule>(*source, config.train.batch_size, shard,
                                                  static_cast<uint64_t>(config.seed), epoch_member(*source, config.data),
                                                  config.data.steps_per_epoch);
    order = [&mix](int64_t epoch) { return mix->epoch_order(epoch); };
  }
  datasets::Loader loader(*source, config.train.batch_size, config.data, static_cast<uint64_t>(config.seed), order,
                          shard.rank);
  // An optimizer step sums the gradients of `accumulate` micro-batches (a last incomplete group
  // of an epoch is dropped).
  const int accumulate = config.train.accumulate_steps;
  const int64_t steps_per_epoch = loader.batches_per_epoch() / accumulate;
  if (steps_per_epoch < 1)
    fail("an epoch holds {} batches per rank, fewer than train.accumulate_steps {}", loader.batches_per_epoch(),
         accumulate);
  const int64_t global_batch = int64_t{config.train.batch_size} * ranks * accumulate;
  const int64_t total_steps = steps_per_epoch * config.train.epochs;
  const int64_t run_steps = config.train.max_steps > 0 ? std::min<int64_t>(config.train.max_steps, total_steps) : total_steps;
  const auto warmup_steps = std::min<int64_t>(
      total_steps, static_cast<int64_t>(std::llround(config.optim.warmup_epochs * static_cast<double>(steps_per_epoch))));
  LrScheduleOptions schedule_options;
  schedule_options.kind = config.optim.schedule;
  schedule_options.base_lr = config.optim.lr;
  schedule_options.warmup_steps = warmup_steps;
  schedule_options.total_steps = total_steps;
  schedule_options.power = config.optim.power;
  schedule_options.min_lr = config.optim.min_lr;
  schedule_options.gamma = config.optim.gamma;
  for (double epochs : config.optim.milestones)
    schedule_options.milestones.push_back(std::llround(epochs * static_cast<double>(steps_per_epoch)));
  const LrSchedule schedule(schedule_options);

  auto backbone = backbones::make_backbone(config.model);
  if (!config.model.init_from.empty()) load_initial_weights(config.model.init_from, *backbone);
  std::shared_ptr<Objective> objective;
  if (config.data.label_space == "per_source") {
    std::vector<Branch> branches;
    for (const auto& m : members) branches.push_back({m.name, m.identities, m.weight});
    objective = std::make_shared<Objective>(config.loss, branches, backbone->embedding_size(), world,
                                            static_cast<uint64_t>(config.seed));
  } else {
    objective = std::make_shared<Objective>(config.loss, source->num_classes(), backbone->embedding_size(), world,
                                            static_cast<uint64_t>(config.seed));
  }
  // On the device before the optimizer takes the parameters (and before a checkpoint fills them).
  backbone->to(device);
  objective->to(device);
  // The classifiers' centres are not here: Objective::update_classifiers() steps them.
  const ParameterGroups groups =
      split_parameters(backbone->parameters(), objective->parameters(), config.optim.no_decay_bn_bias);
  std::vector<at::Tensor> parameters = groups.all();
  std::vector<at::Tensor> clipped = groups.backbone_decay;
  clipped.insert(clipped.end(), groups.backbone_no_decay.begin(), groups.backbone_no_decay.end());
  if (config.optim.clip_head) clipped.insert(clipped.end(), groups.head.begin(), groups.head.end());
  std::vector<double> lr_scales;
  auto optimizer_owner = make_optimizer(groups, config.optim, lr_scales);
  torch::optim::Optimizer& optimizer = *optimizer_owner;
  {
    // Every rank starts from rank 0's backbone (initialisation draws are not shared otherwise).
    std::vector<at::Tensor> state = backbone->parameters();
    for (auto& b : backbone->buffers()) state.push_back(b);
    dist::broadcast_tensors(*world, state, config.dist.bucket_mb);
  }

  TrainResult result;
  result.rank = world->rank();
  CheckpointCounters resumed;
  TrainingState resumed_state;
  std::optional<ResolvedRun> previous;
  if (!config.train.resume.empty()) {
    previous = resolve_run(config.train.resume);
    resumed = load_checkpoint(previous->checkpoint, *backbone, *objective, optimizer, &resumed_state, world->rank(),
                              ranks);
    result.run_dir = previous->run_dir;
    result.checkpoint = previous->checkpoint;
  } else {
    result.run_dir =
        world->broadcast_string(main_rank ? make_run_dir(config.output, config.name).string() : std::string());
  }
  std::string resolved = to_yaml(config);
  std::unique_ptr<store::ResultsStore> store;
  if (main_rank) {
    if (previous && !previous->results_db.empty()) {
      result.results_db = previous->results_db;
      store = store::open_results_store(result.results_db.string());
      result.run_id = previous->run_id;
      // A job killed outright (SIGKILL, out of memory) never recorded its end: it still reads running.
      if (auto row = store->get_run(result.run_id); row && row->status == store::RunStatus::running)
        store->finish_run(result.run_id, store::RunStatus::interrupted);
      store->resume_run(result.run_id);
      update_run_json(result.run_dir, {{"status", "running"}});
    } else {
      if (!previous) write_file_atomically(result.run_dir / "config.yaml", resolved);
      result.results_db = config.results.url.empty() ? fs::path(config.output) / "results.db"
                                                     : fs::path(store::store_path_from_url(config.results.url));
      store = store::open_results_store(result.results_db.string());
      store::RunInfo info;
      info.name = config.name;
      info.config = resolved;
      info.host = host_name();
      info.git_commit = git_commit();
      info.run_dir = result.run_dir.string();
      info.command_line = command_line;
      info.config_hash = fnv1a_hex(resolved);
      if (const char* user = std::getenv("USER")) info.user_name = user;
      info.hardware = cpu_summary();
      if (device.is_cuda()) info.hardware += fmt::format("; cuda: {} devices", compat::cuda_device_count());
      info.world_size = ranks;
      result.run_id = store->begin_run(info);
      update_run_json(result.run_dir, {{"run_id", result.run_id},
                                       {"results_db", fs::absolute(result.results_db).string()},
                                       {"name", config.name},
                                       {"command", command_line},
                                       {"status", "running"}});
    }
  }

  // Where training starts: after the resumed checkpoint's batches. With another global batch size
  // the same number of images into the epoch is kept.
  int64_t step = resumed.step;
  int64_t first_epoch = resumed.epoch;
  int64_t first_batch = resumed.global_batch == global_batch || resumed.global_batch == 0
                            ? resumed.batch_in_epoch
                            : resumed.batch_in_epoch * resumed.global_batch / global_batch;
  if (first_batch >= steps_per_epoch) {
    ++first_epoch;
    first_batch = 0;
  }

  std::vector<int64_t> seen(members.size(), 0);  // images this rank drew from each source
  // Restored counters: the images drawn so far (all ranks' totals, kept by rank 0), the loss
  // scale, and the best evaluation.
  if (auto it = resumed_state.find("images_seen"); it != resumed_state.end() && main_rank) {
    if (it->second.numel() != static_cast<int64_t>(seen.size()))
      fail("{} counted images of {} data sources, this run has {}", previous->checkpoint.string(), it->second.numel(),
           seen.size());
    for (size_t k = 0; k < seen.size(); ++k) seen[k] = it->second[static_cast<int64_t>(k)].item<int64_t>();
  }
  if (auto it = resumed_state.find("loss_scaler"); it != resumed_state.end() && scaler.enabled())
    scaler.load_state(it->second);
  // The best periodic evaluation so far: [value, step]; NaN before the first.
  double best_value = std::nan(""), best_step = -1;
  if (auto it = resumed_state.find("best"); it != resumed_state.end()) {
    best_value = it->second[0].item<double>();
    best_step = it->second[1].item<double>();
  }
  // Collective: the images every rank drew from each source.
  auto seen_by_all = [&] {
    at::Tensor counts = at::tensor(seen);
    world->all_reduce(counts);
    return std::vector<int64_t>(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + counts.numel());
  };
  if (store) store->set_data_sources(result.run_id, data_source_rows(*source, config.data, seen));

  std::optional<JsonLines> log;
  if (main_rank) log.emplace(result.run_dir / "train.jsonl");
  auto write_log = [&](const nlohmann::json& record) {
    if (log) log->write(record);
  };
  ProgressLine progress;
  if (main_rank) {
    std::printf("run %s (id %lld): %lld steps/epoch, %lld steps, %d ranks x %d images%s on %s, %d threads per rank%s\n",
                result.run_dir.c_str(), static_cast<long long>(result.run_id), static_cast<long long>(steps_per_epoch),
                static_cast<long long>(run_steps), ranks, config.train.batch_size,
                accumulate > 1 ? fmt::format(" x {} micro-batches", accumulate).c_str() : "", device.str().c_str(), threads,
                previous ? fmt::format(", resumed at step {} from {}", step, previous->checkpoint.string()).c_str() : "");
    for (size_t k = 0; k < members.size(); ++k) {
      const auto& m = members[k];
      const bool capped = m.source->size() != static_cast<int64_t>(m.records.size());
      std::printf("  source %s (%s): %s%s; share %g%s\n", m.name.c_str(), m.kind.c_str(), m.source->describe().c_str(),
                  capped ? fmt::format(", capped to {} identities, {} images", m.identities, m.records.size()).c_str() : "",
                  m.share,
                  mix ? fmt::format(", {} images per epoch per rank", mix->per_epoch(static_cast<int>(k))).c_str() : "");
    }
    std::fflush(stdout);
  }
  write_log({{"event", previous ? "resume" : "start"}, {"step", step}, {"world_size", ranks},
             {"global_batch", global_batch}, {"backend", world->backend()}, {"device", device.str()},
             {"precision", config.model.autocast == "none" ? "fp32" : config.model.autocast},
             {"loss_scaling", scaler.enabled()}});
  if (!precision_note.empty()) write_log({{"event", "note"}, {"message", precision_note}});
  write_log({{"event", "data"}, {"sources", to_json(data_source_rows(*source, config.data, seen))}});
  int64_t bad_reported = 0;
  auto report_bad_images = [&] {
    const int64_t bad = loader.bad_images();
    if (bad == bad_reported) return;
    auto messages = loader.bad_image_messages();
    for (size_t i = static_cast<size_t>(bad_reported); i < messages.size(); ++i) {
      progress.finish();
      std::printf("warning: skipped an unreadable image: %s\n", messages[i].c_str());
    }
    write_log({{"event", "bad_images"}, {"count", bad}, {"limit", config.data.max_bad_images}});
    bad_reported = bad;
  };

  StopSignals signals;
  bool stop = false;  // agreed by every rank at each step
  try {
    backbone->train();
    objective->train();
    auto window_start = clock::now();
    auto last_heartbeat = clock::now();
    double grad_norm = 0;  // the last step's, when optim.clip_grad_norm is set
    int64_t window_images = 0;
    double loss_sum = 0;
    int64_t loss_count = 0;
    auto saved_at = [&](int64_t at_step) { return result.checkpoint.filename() == fmt::format("step_{}.pt", at_step); };
    // Collective. What exact resume needs beyond the weights travels in the TrainingState.
    auto save = [&](int64_t epochs_done, int64_t batch_in_epoch) {
      result.checkpoint = result.run_dir / "checkpoints" / fmt::format("step_{}.pt", step);
      TrainingState state;
      state["images_seen"] = at::tensor(seen_by_all());
      if (scaler.enabled()) state["loss_scaler"] = scaler.state();
      // Rank 0 evaluates; every rank must know the best step before pruning its shards.
      best_step = std::stod(world->broadcast_string(fmt::format("{}", best_step)));
      if (best_step >= 0) state["best"] = at::tensor({best_value, best_step}, at::kDouble);
      save_checkpoint(result.checkpoint, *backbone, *objective, optimizer,
                      {step, epochs_done, batch_in_epoch, ranks, global_batch}, *world, state);
      write_log({{"event", "checkpoint"}, {"step", step}, {"epoch", epochs_done}, {"path", result.checkpoint.string()}});
      if (store) store->add_checkpoint(result.run_id, {step, result.checkpoint.string(), sha256_file(result.checkpoint), ""});
      if (config.train.keep_checkpoints > 0)
        prune_checkpoints(result.run_dir / "checkpoints", config.train.keep_checkpoints, world->rank(), ranks,
                          static_cast<int64_t>(best_step));
    };
    // eval.best: the value that ranks checkpoints, from this evaluation's results (none: not ranked).
    struct Score {
      std::string target, metric;
      double value;
    };
    auto score_of = [&](const std::vector<eval::TargetResult>& results) -> std::optional<Score> {
      if (results.empty()) return std::nullopt;
      if (config.eval.best.empty()) {  // the first target's headline
        for (const char* metric : {"accuracy", "tar@far=1e-4", "rank1"})
          if (results[0].has(metric)) return Score{results[0].target.name, metric, results[0].value(metric)};
        return std::nullopt;
      }
      const auto slash = config.eval.best.find('/');
      const std::string target = config.eval.best.substr(0, slash), metric = config.eval.best.substr(slash + 1);
      for (const auto& r : results)
        if (r.target.name == target && r.has(metric)) return Score{target, metric, r.value(metric)};
      return std::nullopt;
    };
    // Evaluates the current weights on eval.targets (rank 0 only; the other ranks wait in their next
    // collective, so a long evaluation needs dist.timeout_seconds to match). Every value goes to the
    // store and the JSON log under the checkpoint just written.
    auto evaluate = [&](int64_t at_step, bool print) {
      std::vector<eval::TargetResult> results;
      // Provenance: the checkpoint written at this step, else the step (its weights were not saved).
      const std::string provenance = result.checkpoint.filename() == fmt::format("step_{}.pt", at_step)
                                         ? result.checkpoint.string()
                                         : fmt::format("step_{}", at_step);
      eval::ModelFeatures features(*backbone, eval::embedder_options(config.eval), provenance);
      for (const auto& target : eval_targets) {
        eval::TargetResult r = eval::evaluate_target(target, features, config.eval);
        nlohmann::json record = {{"event", "eval"}, {"step", at_step}, {"target", target.name}};
        for (const auto& e : r.evaluations) {
          store->add_evaluation(result.run_id, e);
          for (const auto& v : e.values) record[v.group.empty() ? v.metric : v.metric + "/" + v.group] = v.value;
        }
        write_log(record);
        // Headline values also join the training curves at this step (accuracy vs step).
        std::vector<std::pair<std::string, double>> curve;
        for (const auto& e : r.evaluations)
          for (const auto& v : e.values)
            if (v.group.empty() && !v.metric.starts_with("roc@")) curve.push_back({"eval/" + target.name + "/" + v.metric, v.value});
        store->add_training_metrics(result.run_id, at_step, curve);
        if (print)
          for (const auto& line : r.lines) std::printf("%s\n", line.c_str());
        results.push_back(std::move(r));
      }
      // The best checkpoint: marked in the store and run.json, kept by train.keep_checkpoints.
      if (auto score = score_of(results); score && saved_at(at_step) && std::isfinite(score->value)) {
        const bool lower = store::lower_is_better(score->metric);
        if (std::isnan(best_value) || (lower ? score->value < best_value : score->value > best_value)) {
          best_value = score->value;
          best_step = static_cast<double>(at_step);
          store->mark_best_checkpoint(result.run_id, result.checkpoint.string());
          update_run_json(result.run_dir, {{"best", {{"step", at_step}, {"checkpoint", result.checkpoint.string()},
                                                     {"target", score->target}, {"metric", score->metric},
                                                     {"value", score->value}}}});
          write_log({{"event", "best"}, {"step", at_step}, {"target", score->target}, {"metric", score->metric},
                     {"value", score->value}, {"path", result.checkpoint.string()}});
          if (print) std::printf("best so far: %s %s = %.6g (%s)\n", score->target.c_str(), score->metric.c_str(),
                                 score->value, result.checkpoint.c_str());
        }
      }
      return results;
    };
    for (int64_t epoch = first_epoch; epoch < config.train.epochs && step < run_steps && !stop; ++epoch) {
      int64_t batch_in_epoch = epoch == first_epoch ? first_batch : 0;
      loader.start_epoch(epoch, batch_in_epoch * accumulate);
      objective->on_epoch(epoch);
      while (step < run_steps && !stop && batch_in_epoch < steps_per_epoch) {
        double lr = schedule.lr(step);
        set_learning_rate(optimizer, lr, lr_scales);
        optimizer.zero_grad();
        objective->on_step(step);
        double step_loss = 0;
        for (int micro = 0; micro < accumulate; ++micro) {
          auto batch = loader.next();
          if (!batch) fail("the loader ended epoch {} early, at batch {}", epoch, batch_in_epoch * accumulate + micro);
          const datasets::Batch on_device = batch->to(device);  // asynchronous from pinned memory
          at::Tensor loss = objective->forward(backbone->forward(on_device.images), on_device.labels, on_device.origins);
          const auto* origin = batch->origins.data_ptr<int64_t>();
          for (int64_t i = 0; i < batch->origins.numel(); ++i) ++seen[static_cast<size_t>(origin[i])];
          report_bad_images();
          // The step's loss is the mean over its micro-batches, so each contributes 1/accumulate.
          scaler.scale_loss(accumulate == 1 ? loss : loss / accumulate).backward();
          step_loss += loss.item<double>() / accumulate;
        }
        const StepOutcome outcome = apply_step(*world, parameters, clipped, optimizer, *objective,
                                               centre_step(config.optim, lr), scaler,
                                               {config.optim.clip_grad_norm, config.dist.bucket_mb});
        grad_norm = outcome.grad_norm;
        if (outcome.skipped) {
          if (main_rank) {
            progress.finish();
            std::printf("step %lld skipped: non-finite gradient under fp16 loss scaling; scale now %g (%lld skipped)\n",
                        static_cast<long long>(step + 1), scaler.scale(), static_cast<long long>(scaler.skipped_steps()));
          }
          write_log({{"event", "skipped_step"}, {"step", step + 1}, {"loss_scale", scaler.scale()},
                     {"skipped_steps", scaler.skipped_steps()}});
        }
        // One small all-reduce per step: the mean loss over ranks and whether any rank was asked to stop.
        at::Tensor agreed = at::tensor({step_loss, g_stop_requested ? 1.0 : 0.0}, at::kDouble);
        world->all_reduce(agreed);
        const double loss_value = agreed[0].item<double>() / ranks;
        stop = agreed[1].item<double>() > 0;
        if (!std::isfinite(loss_value))
          fail("training diverged at step {}: loss is {} (last checkpoint: {})", step, loss_value,
               result.checkpoint.empty() ? "none" : result.checkpoint.string());
        ++step;
        ++batch_in_epoch;
        window_images += global_batch;
        loss_sum += loss_value;
        ++loss_count;
        result.final_loss = loss_value;
        if (step % config.train.log_every == 0 || step == run_steps) {
          double seconds = std::chrono::duration<double>(clock::now() - window_start).count();
          double images_per_second = window_images / std::max(seconds, 1e-9);
          double eta = (run_steps - step) * global_batch / std::max(images_per_second, 1e-9);
          double mean_loss = loss_sum / static_cast<double>(loss_count);
          // The objective's own numbers (triplet activity and distances) are rank 0's, of the last step.
          std::string extra;
          nlohmann::json record = {{"event", "step"}, {"step", step}, {"epoch", epoch}, {"loss", mean_loss}, {"lr", lr},
                                   {"images_per_second", images_per_second}, {"eta_seconds", eta}};
          if (config.optim.clip_grad_norm > 0) record["grad_norm"] = grad_norm;  // before clipping
          if (scaler.enabled()) {
            record["loss_scale"] = scaler.scale();
            record["skipped_steps"] = scaler.skipped_steps();
          }
          for (const auto& [name, value] : objective->log_values()) {
            extra += fmt::format(" {} {:.3f}", name, value);
            record[name] = value;
          }
          if (main_rank)
            progress.update(fmt::format("step {}/{} epoch {}/{} loss {:.4f}{} lr {:.5f} {:.1f} img/s eta {}", step,
                                        run_steps, epoch + 1, config.train.epochs, mean_loss, extra, lr,
                                        images_per_second, format_duration(eta)));
          write_log(record);
          if (main_rank) {
            std::vector<std::pair<std::string, double>> curve = {
                {"loss", mean_loss}, {"lr", lr}, {"images_per_second", images_per_second}};
            for (const auto& [name, value] : objective->log_values()) curve.push_back({name, value});
            store->add_training_metrics(result.run_id, step, curve);
            // A run killed outright stays "running"; its stale heartbeat shows it failed.
            if (clock::now() - last_heartbeat > std::chrono::seconds(30)) {
              store->heartbeat(result.run_id);
              last_heartbeat = clock::now();
            }
          }
          window_start = clock::now();
          window_images = 0;
          loss_sum = 0;
          loss_count = 0;
        }
        const bool epoch_done = batch_in_epoch == steps_per_epoch;
        // Every periodic evaluation gets a checkpoint, so the best one can be marked and kept.
        const bool evaluate_now = config.eval.every > 0 && step % config.eval.every == 0 && step < run_steps && !stop &&
                                  !eval_targets.empty();
        const bool checkpoint_now =
            !epoch_done && !stop && step < run_steps && config.train.checkpoint_every > 0 && step % config.train.checkpoint_every == 0;
        if (checkpoint_now || evaluate_now) save(epoch_done ? epoch + 1 : epoch, epoch_done ? 0 : batch_in_epoch);
        if (evaluate_now && main_rank) {
          progress.finish();
          evaluate(step, true);
        }
      }
      write_log({{"event", "data"}, {"epoch", epoch}, {"sources", to_json(data_source_rows(*source, config.data, seen))}});
      const bool epoch_complete = batch_in_epoch == steps_per_epoch;
      if ((epoch_complete || step == run_steps || stop) && !saved_at(step))
        save(epoch_complete ? epoch + 1 : epoch, epoch_complete ? 0 : batch_in_epoch);
    }
    progress.finish();
    result.steps = step;
    result.interrupted = stop;
    seen = seen_by_all();
    if (!result.interrupted && main_rank) result.evaluations = evaluate(step, false);  // the CLI prints them
  } catch (...) {
    progress.finish();
    if (store) {
      store->set_data_sources(result.run_id, data_source_rows(*source, config.data, seen));
      store->finish_run(result.run_id, g_stop_requested ? store::RunStatus::interrupted : store::RunStatus::failed);
    }
    throw;
  }
  result.seconds = std::chrono::duration<double>(clock::now() - started).count();
  if (!main_rank) return result;
  const auto rows = data_source_rows(*source, config.data, seen);
  store->set_data_sources(result.run_id, rows);
  store->finish_run(result.run_id, result.interrupted ? store::RunStatus::interrupted : store::RunStatus::finished);
  for (const auto& r : rows)
    std::printf("source %s: %lld images seen, share %.3f (configured %g)\n", r.name.c_str(),
                static_cast<long long>(r.images_seen), r.share_achieved, r.share);
  write_log({{"event", "end"}, {"steps", result.steps}, {"seconds", result.seconds},
             {"status", result.interrupted ? "interrupted" : "finished"}});
  update_run_json(result.run_dir, {{"status", result.interrupted ? "interrupted" : "finished"}});
  return result;
}

}  // namespace ff::train
