// Assembles the run schema from each module's own bindings.
#include "src/train/run_config.h"

#include "src/util/error.h"

namespace ff::train {

config::Schema make_schema(RunConfig& c) {
  using config::Bounds;
  config::Schema s;
  s.add("name", c.name, "run name; the run folder is <output>/<name>-<timestamp>");
  s.add("seed", c.seed, "seed for initialisation, shuffling and augmentation");
  s.add("output", c.output, "output root for run folders and the results database");
  datasets::bind_schema(s, c.data);
  backbones::bind_schema(s, c.model);
  losses::bind_schema(s, c.loss);
  bind_schema(s, c.optim);
  s.add("train.batch_size", c.train.batch_size, "images per optimizer step on each rank", Bounds::closed(2, 1 << 20));
  s.add("train.epochs", c.train.epochs, "passes over the training data", Bounds::at_least(1));
  s.add("train.max_steps", c.train.max_steps, "stop after this many steps (0 = all epochs)", Bounds::at_least(0));
  s.add("train.threads", c.train.threads, "intra-op compute threads per rank (0 = the node's cores / its ranks)",
        Bounds::at_least(0));
  s.add("train.device", c.train.device,
        "where training runs: auto (CUDA when LibTorch sees a GPU, else CPU), cpu or cuda (each rank on "
        "cuda:LOCAL_RANK)",
        {"auto", "cpu", "cuda"});
  s.add("train.log_every", c.train.log_every, "steps between progress lines", Bounds::at_least(1));
  s.add("train.accumulate_steps", c.train.accumulate_steps,
        "micro-batches per optimizer step: gradients summed, each loss divided by this (a step sees batch_size x "
        "ranks x this images)",
        Bounds::closed(1, 1 << 16));
  s.add("train.checkpoint_every", c.train.checkpoint_every,
        "steps between checkpoints besides each epoch's end (0 = epochs only)", Bounds::at_least(0));
  s.add("train.keep_checkpoints", c.train.keep_checkpoints,
        "keep only the newest N checkpoints (and their classifier shards); 0 = keep all", Bounds::at_least(0));
  s.add("train.resume", c.train.resume,
        "run folder or checkpoint to continue (its newest checkpoint; any world size); auto = the newest unfinished "
        "run of this name, else a new run; '' = new run");
  eval::bind_schema(s, c.eval);
  store::bind_schema(s, c.results);
  dist::bind_schema(s, c.dist);
  return s;
}

RunConfig parse_run_config(const std::string& path, const std::vector<std::string>& overrides) {
  RunConfig c;
  config::Schema s = make_schema(c);
  if (!path.empty()) config::load_yaml_file(path, s);
  for (const auto& o : overrides) config::apply_override(o, s);
  return c;
}

RunConfig load_run_config(const std::string& path, const std::vector<std::string>& overrides) {
  RunConfig c = parse_run_config(path, overrides);
  try {
    datasets::check(c.data);
  } catch (const Error& e) {
    fail("{}: {}", path.empty() ? "config" : path, e.what());
  }
  return c;
}

std::string to_yaml(const RunConfig& config) {
  RunConfig copy = config;
  return make_schema(copy).to_yaml();
}

}  // namespace ff::train
