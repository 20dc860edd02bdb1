// Checkpoints: one file per save holding the backbone, the classifier (head), the optimizer and
// the step/epoch counters, written to a temp file and renamed. Also finds the checkpoint and
// configuration behind a run folder for evaluation.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include "src/train/run_config.h"

namespace ff::train {

struct CheckpointCounters {
  int64_t step = 0;   // optimizer steps completed
  int64_t epoch = 0;  // epochs completed
};

void save_checkpoint(const std::filesystem::path& path, torch::nn::Module& backbone, torch::nn::Module& classifier,
                     torch::optim::Optimizer& optimizer, const CheckpointCounters& counters);

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
