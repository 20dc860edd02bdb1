// Checkpoint archives (torch::serialize) and run-folder resolution.
#include "src/train/checkpoint.h"

#include <regex>

#include <nlohmann/json.hpp>
#include <torch/serialize.h>

#include "backbones/state_dict.h"
#include "backbones/weights_file.h"
#include "src/util/atomic_file.h"
#include "src/util/error.h"

namespace ff::train {

namespace fs = std::filesystem;

void save_checkpoint(const fs::path& path, torch::nn::Module& backbone, torch::nn::Module& classifier,
                     torch::optim::Optimizer& optimizer, const CheckpointCounters& counters) {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive backbone_archive, classifier_archive, optimizer_archive;
  backbone.save(backbone_archive);
  classifier.save(classifier_archive);
  optimizer.save(optimizer_archive);
  archive.write("backbone", backbone_archive);
  archive.write("classifier", classifier_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("step", torch::tensor(counters.step));
  archive.write("epoch", torch::tensor(counters.epoch));
  write_atomically(path, [&](const fs::path& temp) { archive.save_to(temp.string()); });
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
    archive.load_from(path.string());
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
