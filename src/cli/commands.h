// The subcommands as plain functions over plain argument structs; src/cli/main.cpp maps the
// command line (CLI11) onto them. Each returns the process exit code; errors throw ff::Error.
#pragma once
#include <string>
#include <vector>

namespace ff::cli {

struct TrainArgs {
  std::string config;
  std::vector<std::string> overrides;  // --set key=value
  std::string output;                  // --output (replaces config `output`)
  std::string command_line;
};
int run_train(const TrainArgs& args);

struct EvalArgs {
  std::string run;                   // run folder or checkpoint file
  std::vector<std::string> targets;  // --target PATH (default: the run's eval.targets)
  std::vector<std::string> overrides;  // --set eval.key=value
  bool store = true;                 // record in the run's results store
};
int run_eval(const EvalArgs& args);

struct SynthArgs {
  int identities = 1000;
  int images_per_identity = 20;
  int seed = 0;
  int pair_identities = 300;
  int pairs = 3000;
  double variation = 1.0;
  std::string out;
};
int run_data_synth(const SynthArgs& args);

struct ResultsArgs {
  std::string db = "runs/results.db";
  std::string run;  // id or name, for `show`
};
int run_results_list(const ResultsArgs& args);
int run_results_show(const ResultsArgs& args);

struct ConfigArgs {
  std::string config;
  std::vector<std::string> overrides;
};
int run_config_show(const ConfigArgs& args);
int run_config_keys();

}  // namespace ff::cli
