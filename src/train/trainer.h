// Training on one process or many (a launcher's environment decides; src/dist), on the CPU or
// each rank's GPU (train.device; fp16 autocast with loss scaling needs CUDA): data shard ->
// backbone (data parallel, gradients averaged) -> Partial FC classifier (sharded over the ranks)
// -> SGD, with warmup + polynomial LR, progress lines and JSON lines, checkpoints per epoch (and
// every train.checkpoint_every steps), resume from any checkpoint on any world size
// (train.resume), evaluation of `eval.targets` at the end, and every run and evaluation recorded
// in the results store (rank 0 writes the run folder's logs and the store).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "src/eval/evaluate.h"
#include "src/train/run_config.h"

namespace ff::train {

struct TrainResult {
  std::filesystem::path run_dir;
  std::filesystem::path checkpoint;  // the last one written
  std::filesystem::path results_db;
  int64_t run_id = -1;
  int64_t steps = 0;
  double final_loss = 0;
  double seconds = 0;
  int rank = 0;              // this process's rank (only rank 0 writes logs, store and evaluations)
  bool interrupted = false;  // SIGINT/SIGTERM stopped the run early (a checkpoint was still written)
  std::vector<eval::TargetResult> evaluations;  // eval.targets after the last step
};

// `command_line` is stored with the run for provenance. `output_override` replaces config.output.
TrainResult train(const RunConfig& config, const std::string& command_line);

}  // namespace ff::train
