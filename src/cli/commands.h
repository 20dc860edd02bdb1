// The subcommands as plain functions over plain argument structs; src/cli/main.cpp maps the
// command line (CLI11) onto them. Each returns the process exit code; errors throw ff::Error.
#pragma once
#include <string>
#include <vector>

#include "backbones/backbone_options.h"
#include "datasets/alignment.h"
#include "datasets/synthetic_protocols.h"
#include "src/bench/data_bench.h"
#include "src/bench/eval_bench.h"
#include "src/bench/head_bench.h"
#include "src/bench/pfc_bench.h"
#include "src/bench/train_bench.h"
#include "src/dist/launcher.h"

namespace ff::cli {

struct TrainArgs {
  std::string config;
  std::vector<std::string> overrides;  // --set key=value
  std::string output;                  // --output (replaces config `output`)
  std::string resume;                  // --resume (sets train.resume)
  std::string command_line;
};
int run_train(const TrainArgs& args);

struct LaunchArgs {
  dist::LaunchOptions options;  // options.command: the faceforge subcommand and its arguments (after `--`)
};
// Runs `options.command` as workers of this same faceforge binary (see dist::launch).
int run_launch(const LaunchArgs& args);

struct EvalArgs {
  std::string checkpoint;              // --checkpoint (or the positional RUN): run folder or checkpoint file
  std::string suite;                   // --suite: YAML of eval.* keys (configs/eval/*.yaml)
  std::vector<std::string> targets;    // --target [name=]PATH (replaces the suite's / run's eval.targets)
  std::string features;                // --features FILE.npy instead of a model
  std::string save_features;           // --save-features DIR: <DIR>/<target>.npy
  std::vector<std::string> overrides;  // --set eval.key=value
  std::string db;                      // --db: store for --features without --checkpoint
  std::string run_name;                // --run-name: that run's name (default: features:<file stem>)
  std::string json;                    // --json FILE: append every evaluation as a JSON line
  bool store = true;                   // record in the results store
  std::string command_line;
};
int run_eval(const EvalArgs& args);

struct SynthArgs {
  int identities = 1000;
  int images_per_identity = 20;
  int seed = 0;
  int pair_identities = 300;
  int pairs = 3000;
  double variation = 1.0;
  bool rfw = false;                          // --rfw: also write OUT/rfw
  datasets::SyntheticRfwOptions rfw_options;  // --rfw-identities, --rfw-images, --rfw-pairs
  bool ijb = false;                          // --ijb: also write OUT/ijb
  datasets::SyntheticIjbOptions ijb_options;  // --ijb-subjects, --ijb-templates, --ijb-genuine, --ijb-impostors
  std::string out;
};
// `data synth`: refuses bad --rfw/--ijb options and non-empty OUT/rfw, OUT/ijb before anything is
// rendered, writes the training images and verification.bin, then the requested protocol trees.
int run_data_synth(const SynthArgs& args);

struct DataPackArgs {
  std::string source;           // folder, list file, synthetic output folder or pack
  std::string format = "auto";  // how `source` is stored (auto: inferred)
  std::string out;              // folder for train.rec, train.idx, property
  int quality = 95;             // JPEG quality for images that have no stored bytes
};
int run_data_pack(const DataPackArgs& args);

struct DataIndexArgs {
  std::string rec;             // train.rec, or the folder holding it
  std::string keys = "auto";   // auto | id | sequence
};
int run_data_index(const DataIndexArgs& args);

struct DataInspectArgs {
  std::string path;
  std::string format = "auto";
  bool decode = true;  // decode every image to count unreadable ones
  int threads = 2;
  bool json = false;
};
int run_data_inspect(const DataInspectArgs& args);

struct DataAlignArgs {
  datasets::AlignOptions options;
};
int run_data_align(const DataAlignArgs& args);

struct ResultsArgs {
  std::string db = "runs/results.db";  // path or results.url
  std::vector<std::string> runs;       // ids or names: show (one), compare (two or more)
  std::vector<std::string> where;      // --where key=value (list, export)
  std::string sort;                    // --sort METRIC (list)
  bool ascending = false;              // --ascending: force smaller-first
  int limit = 0;                       // --limit N (list; 0 = all)
  std::string format = "table";        // table | json (export: csv | json)
  std::string target;                  // best
  std::string metric;                  // best
  std::string group;                   // best: a group's value instead of the whole target's
  std::string out;                     // export: file instead of stdout
  double stale_after = 600;            // seconds without a heartbeat before a running run shows failed
};
int run_results_list(const ResultsArgs& args);
int run_results_show(const ResultsArgs& args);
int run_results_compare(const ResultsArgs& args);
int run_results_export(const ResultsArgs& args);
int run_results_best(const ResultsArgs& args);

struct ReportArgs {
  std::string db = "runs/results.db";
  std::vector<std::string> runs;  // ids or names; empty = all
  std::string out = "report.html";
  std::string title = "FaceForge results";
};
int run_report(const ReportArgs& args);

struct ConfigArgs {
  std::string config;
  std::vector<std::string> overrides;
};
int run_config_show(const ConfigArgs& args);
int run_config_keys();

}  // namespace ff::cli

namespace ff::cli {

// model.* options from a config file or a backbone name, with --set model.k=v overrides (other
// keys are refused); shared by the model and bench commands.
backbones::BackboneOptions model_options(const std::string& model, std::vector<std::string> overrides);

struct ModelSummaryArgs {
  std::string model;                   // a config file or a backbone name
  std::vector<std::string> overrides;  // --set model.key=value
  bool json = false;                   // one JSON object instead of text
};
int run_model_summary(const ModelSummaryArgs& args);

struct ModelImportArgs {
  std::string from;                    // PyTorch state dict file (torch.save)
  std::string backbone;                // registry name
  std::vector<std::string> overrides;  // --set model.key=value
  std::string out;                     // run folder to create
};
int run_model_import(const ModelImportArgs& args);

struct ModelExportArgs {
  std::string run;                     // run folder or checkpoint
  std::string format = "torch-state-dict";
  std::string out;
};
int run_model_export(const ModelExportArgs& args);

struct BenchTrainArgs {
  std::string backbone = "mbf";
  std::vector<std::string> overrides;  // --set model.key=value
  bench::TrainBenchOptions options;
  std::string json;
  std::string reference_python;  // also run scripts/bench/reference_train.py with this interpreter
  std::string reference_script;
  double peak_tflops = 0;        // the device's peak, to report utilisation
};
int run_bench_train(const BenchTrainArgs& args);

struct BenchModelArgs {
  std::string backbone = "mbf";
  std::vector<std::string> overrides;  // --set model.key=value
  int batch = 32;
  int iters = 5;
  int warmup = 1;
  int threads = 0;               // 0 = all cores
  std::string json;              // append the result as a JSON line here
  std::string reference_python;  // also run PyTorch's reference with this interpreter
  std::string reference_script;  // default: benchmarks/torch_reference.py in the source tree
};
int run_bench_model(const BenchModelArgs& args);

struct BenchHeadsArgs {
  bench::HeadBenchOptions options;
  std::string json;  // append the result as a JSON line here
};
int run_bench_heads(const BenchHeadsArgs& args);

struct BenchPfcArgs {
  bench::PfcBenchOptions options;
  std::string json;  // append one JSON line per rank here
};
// Without a launcher's RANK and with --world > 1, starts the workers itself (dist::launch) and returns
// their exit code; otherwise runs this rank's part.
int run_bench_pfc(const BenchPfcArgs& args);

struct BenchDataArgs {
  bench::DataBenchOptions options;
  std::string json;              // append the result as a JSON line here
  std::string reference_python;  // also run PyTorch's DataLoader on the same pack with this interpreter
  std::string reference_script;  // default: benchmarks/data_reference.py in the source tree
};
int run_bench_data(const BenchDataArgs& args);

struct BenchEvalArgs {
  bench::EvalBenchOptions options;
  std::string json;              // append the result as a JSON line here
  std::string reference_python;  // also run the NumPy reference on the same arrays with this interpreter
  std::string reference_script;  // default: benchmarks/eval_reference.py in the source tree
};
int run_bench_eval(const BenchEvalArgs& args);

}  // namespace ff::cli
