// The whole configuration of a training run: one typed struct per module, bound one to one to
// YAML keys (docs/config.md lists them all).
#pragma once
#include <string>
#include <vector>

#include "backbones/backbone_options.h"
#include "datasets/data_options.h"
#include "losses/head_options.h"
#include "src/dist/dist_options.h"
#include "src/config/schema.h"
#include "src/eval/eval_options.h"
#include "src/store/store_options.h"
#include "src/train/optim_options.h"

namespace ff::train {

struct TrainOptions {
  int batch_size = 128;  // per rank: a step trains on batch_size x world size images
  int epochs = 20;
  int max_steps = 0;   // stop after this many steps (0 = run all epochs); the schedule still spans all epochs
  int threads = 0;     // torch intra-op threads; 0 = this node's cores shared by its ranks
  std::string device = "auto";  // auto | cpu | cuda: auto takes the GPU when LibTorch sees one (rank r: cuda:LOCAL_RANK)
  int log_every = 10;  // steps between progress lines
  int accumulate_steps = 1;  // micro-batches per optimizer step (gradients summed, loss averaged)
  int checkpoint_every = 0;  // steps between checkpoints besides each epoch's end (0 = epochs only)
  int keep_checkpoints = 0;  // keep only the newest N step_<N>.pt (and their shards); 0 = keep all
  std::string resume;        // run folder or checkpoint to continue from; "auto": the newest unfinished run of
                             // this name (run_folder.h), else a new run; "" = a new run
};

struct RunConfig {
  std::string name = "run";
  int seed = 0;
  std::string output = "runs";  // output root: run folders and results.db go here
  datasets::DataOptions data;
  backbones::BackboneOptions model;
  losses::HeadOptions loss;
  OptimOptions optim;
  TrainOptions train;
  eval::EvalOptions eval;
  store::StoreOptions results;
  dist::DistOptions dist;
};

// Builds the schema bound to `config`'s fields (the schema holds references: keep `config` alive).
config::Schema make_schema(RunConfig& config);

// Defaults, then the YAML file (if not empty), then each "key=value" override, each key validated.
RunConfig parse_run_config(const std::string& path, const std::vector<std::string>& overrides);

// parse_run_config plus the cross-key checks training needs (e.g. data sources whose shares sum to 1).
RunConfig load_run_config(const std::string& path, const std::vector<std::string>& overrides);

// The resolved configuration as YAML (saved in every run folder; loadable again).
std::string to_yaml(const RunConfig& config);

}  // namespace ff::train
