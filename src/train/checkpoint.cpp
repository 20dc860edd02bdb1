// Checkpoint archives (torch::serialize) and run-folder resolution.
#include "src/train/checkpoint.h"

#include <algorithm>
#include <mutex>
#include <regex>

#include <nlohmann/json.hpp>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <torch/serialize.h>

#include "backbones/backbone.h"
#include "backbones/state_dict.h"
#include "backbones/weights_file.h"
#include "src/dist/world.h"
#include "src/train/objective.h"
#include "src/util/atomic_file.h"
#include "src/util/error.h"
#include "src/util/torch_compat.h"

namespace ff::train {

namespace fs = std::filesystem;

fs::path classifier_shard_path(const fs::path& checkpoint, int rank, int world) {
  return checkpoint.parent_path() /
         fmt::format("{}.classifier-{}-of-{}.pt", checkpoint.stem().string(), rank, world);
}

std::vector<int64_t> prune_checkpoints(const fs::path& dir, int keep, int rank, int world, int64_t protect) {
  if (keep < 1) fail("keep_checkpoints must be >= 1 to prune, got {}", keep);
  static const std::regex main_file(R"(step_(\d+)\.pt)");
  static const std::regex shard_file(R"(step_(\d+)\.classifier-(\d+)-of-\d+\.pt)");
  std::vector<int64_t> steps;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    const std::string name = entry.path().filename().string();
    if (std::regex_match(name, m, main_file)) steps.push_back(std::stoll(m[1]));
  }
  std::sort(steps.begin(), steps.end());
  if (steps.size() <= static_cast<size_t>(keep)) return {};
  std::vector<int64_t> removed;
  for (auto it = steps.begin(); it != steps.end() - keep; ++it)
    if (*it != protect) removed.push_back(*it);
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    const std::string name = entry.path().filename().string();
    bool mine = false;
    int64_t step = -1;
    if (std::regex_match(name, m, shard_file)) {
      step = std::stoll(m[1]);
      // Rank 0 also takes shards of ranks this world does not have (written before a resume on fewer ranks).
      const int owner = std::stoi(m[2]);
      mine = owner == rank || (rank == 0 && owner >= world);
    } else if (std::regex_match(name, m, main_file)) {
      step = std::stoll(m[1]);
      mine = rank == 0;
    }
    if (mine && std::binary_search(removed.begin(), removed.end(), step)) fs::remove(entry.path(), ec);
  }
  return removed;
}

namespace {

// The process's default generators: CPU, then each CUDA device (none on a CPU build or machine).
std::vector<std::pair<std::string, at::Generator>> default_generators() {
  std::vector<std::pair<std::string, at::Generator>> out = {{"rng_cpu", at::detail::getDefaultCPUGenerator()}};
  for (int d = 0; d < compat::cuda_device_count(); ++d)
    out.emplace_back(fmt::format("rng_cuda_{}", d), at::globalContext().defaultGenerator(c10::Device(c10::kCUDA, d)));
  return out;
}

}  // namespace

void save_checkpoint(const fs::path& path, torch::nn::Module& backbone, const Objective& objective,
                     torch::optim::Optimizer& optimizer, const CheckpointCounters& counters, dist::World& world,
                     const TrainingState& state) {
  {
    torch::serialize::OutputArchive shard;
    objective.save_shards(shard);
    for (auto& [key, generator] : default_generators()) {
      std::lock_guard<std::mutex> lock(generator.mutex());
      shard.write(key, generator.get_state());
    }
    write_atomically(classifier_shard_path(path, world.rank(), world.size()),
                     [&](const fs::path& temp) { shard.save_to(temp.string()); });
  }
  world.barrier();  // every shard is on disk before the main file says the checkpoint exists
  if (world.is_main()) {
    torch::serialize::OutputArchive archive;
    torch::serialize::OutputArchive backbone_archive, optimizer_archive;
    backbone.save(backbone_archive);
    optimizer.save(optimizer_archive);
    archive.write("backbone", backbone_archive);
    archive.write("optimizer", optimizer_archive);
    archive.write("step", torch::tensor(counters.step));
    archive.write("epoch", torch::tensor(counters.epoch));
    archive.write("batch_in_epoch", torch::tensor(counters.batch_in_epoch));
    archive.write("world_size", torch::tensor(int64_t{world.size()}));
    archive.write("global_batch", torch::tensor(counters.global_batch));
    for (const auto& [key, value] : state) archive.write("state/" + key, value);
    write_atomically(path, [&](const fs::path& temp) { archive.save_to(temp.string()); });
  }
  world.barrier();
}

CheckpointCounters load_checkpoint(const fs::path& path, torch::nn::Module& backbone, Objective& objective,
                                   torch::optim::Optimizer& optimizer, TrainingState* state, int rank, int world) {
  if (!fs::exists(path)) fail("checkpoint not found: {}", path.string());
  CheckpointCounters counters;
  auto read_int = [](torch::serialize::InputArchive& a, const char* key) {
    at::Tensor t;
    a.read(key, t);
    return t.item<int64_t>();
  };
  try {
    // Read onto the backbone's device: a GPU run's checkpoint loads on a CPU machine, and a
    // parameter is filled in place rather than moved to the file's device.
    torch::serialize::InputArchive archive;
    archive.load_from(path.string(), backbones::device_of(backbone));
    torch::serialize::InputArchive backbone_archive, optimizer_archive;
    archive.read("backbone", backbone_archive);
    backbone.load(backbone_archive);
    archive.read("optimizer", optimizer_archive);
    optimizer.load(optimizer_archive);
    counters.step = read_int(archive, "step");
    counters.epoch = read_int(archive, "epoch");
    counters.batch_in_epoch = read_int(archive, "batch_in_epoch");
    counters.world_size = read_int(archive, "world_size");
    counters.global_batch = read_int(archive, "global_batch");
    if (state)
      for (const auto& key : archive.keys())
        if (key.starts_with("state/")) archive.read(key, (*state)[key.substr(6)]);
  } catch (const c10::Error& e) {
    fail("cannot resume from {}: {} (a checkpoint written by faceforge train is needed)", path.string(),
         e.what_without_backtrace());
  }
  std::vector<torch::serialize::InputArchive> shards(static_cast<size_t>(counters.world_size));
  for (int r = 0; r < counters.world_size; ++r) {
    fs::path shard = classifier_shard_path(path, r, static_cast<int>(counters.world_size));
    if (!fs::exists(shard)) fail("checkpoint {} was written by {} ranks but {} is missing", path.string(),
                                 counters.world_size, shard.string());
    try {
      // On the CPU: Partial FC copies its own rows out of every shard, wherever its centres live.
      shards[static_cast<size_t>(r)].load_from(shard.string(), c10::Device(c10::kCPU));
    } catch (const c10::Error& e) {
      fail("cannot read classifier shard {}: {}", shard.string(), e.what_without_backtrace());
    }
  }
  try {
    objective.load_shards(shards);
  } catch (const c10::Error& e) {
    fail("classifier shards of {} do not fit this run's loss.* settings: {}", path.string(), e.what_without_backtrace());
  }
  if (world == counters.world_size && rank < world) {
    auto& shard = shards[static_cast<size_t>(rank)];
    for (auto& [key, generator] : default_generators()) {
      at::Tensor saved;
      if (!shard.try_read(key, saved)) continue;  // written on a machine without this device
      std::lock_guard<std::mutex> lock(generator.mutex());
      generator.set_state(saved);
    }
  }
  return counters;
}

void save_backbone_checkpoint(const fs::path& path, torch::nn::Module& backbone) {
  torch::serialize::OutputArchive archive, backbone_archive;
  backbone.save(backbone_archive);
  archive.write("backbone", backbone_archive);
  archive.write("step", torch::tensor(int64_t{0}));
  archive.write("epoch", torch::tensor(int64_t{0}));
  write_atomically(path, [&](const fs::path& temp) { archive.save_to(temp.string()); });
}

void load_initial_weights(const fs::path& path, torch::nn::Module& backbone) {
  if (fs::is_directory(path)) {
    load_backbone_weights(resolve_run(path).checkpoint, backbone);
  } else if (backbones::is_torchscript_archive(path)) {
    load_backbone_weights(path, backbone);
  } else {
    backbones::load_state_dict(backbone, backbones::read_weights_file(path), path.string());
  }
}

CheckpointCounters load_backbone_weights(const fs::path& path, torch::nn::Module& backbone) {
  if (!fs::exists(path)) fail("checkpoint not found: {}", path.string());
  CheckpointCounters counters;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path.string(), backbones::device_of(backbone));
    torch::serialize::InputArchive backbone_archive;
    archive.read("backbone", backbone_archive);
    backbone.load(backbone_archive);
    at::Tensor step, epoch;
    archive.read("step", step);
    archive.read("epoch", epoch);
    counters.step = step.item<int64_t>();
    counters.epoch = epoch.item<int64_t>();
  } catch (const c10::Error& e) {
    fail("cannot load checkpoint {}: {}", path.string(), e.what_without_backtrace());
  }
  return counters;
}

namespace {
// Newest checkpoint: highest step number in checkpoints/step_<N>.pt.
fs::path newest_checkpoint(const fs::path& run_dir) {
  fs::path dir = run_dir / "checkpoints";
  if (!fs::is_directory(dir)) fail("run folder {} has no checkpoints/ folder", run_dir.string());
  std::regex pattern(R"(step_(\d+)\.pt)");
  fs::path best;
  long long best_step = -1;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::smatch m;
    std::string name = entry.path().filename().string();
    if (std::regex_match(name, m, pattern) && std::stoll(m[1]) > best_step) {
      best_step = std::stoll(m[1]);
      best = entry.path();
    }
  }
  if (best.empty()) fail("run folder {} has no checkpoint (checkpoints/step_<N>.pt)", run_dir.string());
  return best;
}
}  // namespace

ResolvedRun resolve_run(const fs::path& run_or_checkpoint) {
  ResolvedRun run;
  if (fs::is_directory(run_or_checkpoint)) {
    run.run_dir = run_or_checkpoint;
    run.checkpoint = newest_checkpoint(run.run_dir);
  } else if (fs::is_regular_file(run_or_checkpoint)) {
    run.checkpoint = run_or_checkpoint;
    run.run_dir = run_or_checkpoint.parent_path().parent_path();  // <run>/checkpoints/<file>
  } else {
    fail("not a run folder or checkpoint file: {}", run_or_checkpoint.string());
  }
  fs::path config = run.run_dir / "config.yaml";
  if (!fs::exists(config)) fail("{} is not inside a run folder: {} is missing", run_or_checkpoint.string(), config.string());
  run.config = parse_run_config(config.string(), {});
  fs::path info = run.run_dir / "run.json";
  if (fs::exists(info)) {
    try {
      auto j = nlohmann::json::parse(read_file(info));
      run.run_id = j.value("run_id", int64_t{-1});
      run.results_db = j.value("results_db", std::string());
    } catch (const nlohmann::json::exception& e) {
      fail("{}: invalid JSON: {}", info.string(), e.what());
    }
  }
  return run;
}

}  // namespace ff::train
