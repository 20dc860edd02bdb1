// Checkpoints: `step_<N>.pt` holds the backbone, the optimizer and the counters (written by rank 0);
// beside it each rank writes its classifier shard `step_<N>.classifier-<r>-of-<W>.pt` (centres,
// momentum, class range, head state). Every file is written to a temp file and renamed, and the
// main file only after every shard exists, so a checkpoint whose main file exists is complete.
// Loading re-shards the classifier for any world size. Also finds the checkpoint and
// configuration behind a run folder for evaluation.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include "src/train/run_config.h"

namespace ff::dist {
class World;
}

namespace ff::train {

class Objective;

struct CheckpointCounters {
  int64_t step = 0;            // optimizer steps completed
  int64_t epoch = 0;           // epochs completed
  int64_t batch_in_epoch = 0;  // batches of epoch `epoch` already trained (0 at an epoch boundary)
  int64_t world_size = 1;      // ranks that wrote the classifier shards
  int64_t global_batch = 0;    // images per step over all ranks
};

// What exact resume needs besides weights, optimizer, classifier shards and counters: named
// tensors the trainer keeps (images seen per data source, the loss scaler, the best evaluation so
// far), written by rank 0 into the main file.
using TrainingState = std::map<std::string, at::Tensor>;

// Collective: every rank calls it. Rank r writes its shard (with its random-generator states:
// CPU, and each CUDA device's), then rank 0 the main file.
void save_checkpoint(const std::filesystem::path& path, torch::nn::Module& backbone, const Objective& objective,
                     torch::optim::Optimizer& optimizer, const CheckpointCounters& counters, dist::World& world,
                     const TrainingState& state = {});

// Restores backbone, optimizer and this rank's classifier range from a checkpoint written on any
// number of ranks; errors name the missing or mismatching file. `state` (when given) receives the
// trainer's named tensors. Rank `rank`'s random-generator states are restored when the checkpoint
// was written by `world` ranks (the same draws continue); on another world size they are left as
// seeded.
CheckpointCounters load_checkpoint(const std::filesystem::path& path, torch::nn::Module& backbone, Objective& objective,
                                   torch::optim::Optimizer& optimizer, TrainingState* state = nullptr, int rank = 0,
                                   int world = 1);

// The shard file of rank `rank` of `world` beside a checkpoint's main file.
std::filesystem::path classifier_shard_path(const std::filesystem::path& checkpoint, int rank, int world);

// Keeps the `keep` newest step_<N>.pt of `dir`: rank 0 removes the older main files, every rank
// removes its own classifier shards of those steps, and rank 0 also the shards of ranks >= `world`
// (left by a run resumed on fewer ranks). Returns the steps removed. Files that are not
// step_<N>.pt or its shards are never touched, nor those of step `protect` (the best checkpoint).
std::vector<int64_t> prune_checkpoints(const std::filesystem::path& dir, int keep, int rank, int world,
                                       int64_t protect = -1);

// A checkpoint holding only backbone weights (step 0), e.g. imported from PyTorch; evaluation and
// export read it like any other.
void save_backbone_checkpoint(const std::filesystem::path& path, torch::nn::Module& backbone);

// `model.init_from`: a run folder or FaceForge checkpoint, or a PyTorch state dict written by
// torch.save (told apart by the archive's TorchScript records). Strict; errors name the file.
void load_initial_weights(const std::filesystem::path& path, torch::nn::Module& backbone);

// Loads only the backbone weights (for evaluation or export); errors name the file.
CheckpointCounters load_backbone_weights(const std::filesystem::path& path, torch::nn::Module& backbone);

// A run folder or a checkpoint file inside one, resolved to its parts.
struct ResolvedRun {
  std::filesystem::path run_dir;     // holds config.yaml, run.json, checkpoints/
  std::filesystem::path checkpoint;  // the given file, or the run's newest checkpoint
  RunConfig config;                  // the run's saved, resolved configuration
  int64_t run_id = -1;               // id in the results store, when run.json records one
  std::string results_db;            // the store that run.json names
};
ResolvedRun resolve_run(const std::filesystem::path& run_or_checkpoint);

}  // namespace ff::train
