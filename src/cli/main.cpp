// faceforge: the command-line entry point. The only translation unit that includes CLI11.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>

#include "faceforge_version.h"
#include "src/cli/commands.h"
#include "src/util/allocator.h"
#include "src/util/torch_compat.h"
#include "src/util/error.h"

namespace {
std::string joined_command_line(int argc, char** argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) {
    if (i) out += ' ';
    out += argv[i];
  }
  return out;
}
}  // namespace

int main(int argc, char** argv) {
  // The commands that hold large tensors; the others start once, not twice.
  if (argc > 1 && (std::string(argv[1]) == "train" || std::string(argv[1]) == "bench" || std::string(argv[1]) == "eval"))
    ff::use_huge_pages(argv);
  ff::tune_allocator();
  CLI::App app{"FaceForge: train and evaluate face-recognition models (LibTorch)", "faceforge"};
  app.set_version_flag("--version", std::string("faceforge ") + FACEFORGE_VERSION + " (LibTorch " +
                                        ff::compat::torch_version() + ", CUDA devices: " +
                                        std::to_string(ff::compat::cuda_device_count()) + ")");
  app.require_subcommand(1);
  int exit_code = 0;

  ff::cli::TrainArgs train;
  train.command_line = joined_command_line(argc, argv);
  auto* train_cmd = app.add_subcommand("train", "Train a model from a YAML config");
  train_cmd->add_option("config", train.config, "YAML config file")->required();
  train_cmd->add_option("--set", train.overrides, "Override a config key: --set optim.lr=0.05 (repeatable)");
  train_cmd->add_option("--output", train.output, "Output root for the run folder and results.db");
  train_cmd->add_option("--resume", train.resume,
                        "Continue a run folder (its newest checkpoint) or checkpoint, on any number of ranks; "
                        "'auto': the newest unfinished run of the config's name, else a new run");
  train_cmd->callback([&] { exit_code = ff::cli::run_train(train); });

  ff::cli::LaunchArgs launch;
  auto* launch_cmd = app.add_subcommand("launch", "Start N local workers (torchrun-style environment) running a faceforge subcommand");
  launch_cmd->add_option("--nproc-per-node", launch.options.nproc_per_node, "Workers on this node (one per GPU)")->required();
  launch_cmd->add_option("--nnodes", launch.options.nnodes, "Nodes in the run")->capture_default_str();
  launch_cmd->add_option("--node-rank", launch.options.node_rank, "This node's index, 0..nnodes-1")->capture_default_str();
  launch_cmd->add_option("--master", launch.options.master, "HOST:PORT where rank 0 listens")->capture_default_str();
  launch_cmd->add_option("--kill-grace", launch.options.kill_grace_seconds,
                         "Seconds the other workers get after one fails, before SIGTERM (and again before SIGKILL)")
      ->capture_default_str();
  launch_cmd->add_option("command", launch.options.command,
                         "The workers' subcommand, after `--`: -- train config.yaml --set optim.lr=0.1");
  launch_cmd->callback([&] { exit_code = ff::cli::run_launch(launch); });

  ff::cli::EvalArgs eval;
  std::string eval_positional;
  auto* eval_cmd = app.add_subcommand(
      "eval", "Evaluate a checkpoint or precomputed features: .bin packs, LFW, CALFW/CPLFW, RFW, IJB-B/C, FRUITS latency");
  eval_cmd->add_option("run", eval_positional, "Same as --checkpoint");
  eval_cmd->add_option("--checkpoint", eval.checkpoint, "Run folder (newest checkpoint) or checkpoint file");
  eval_cmd->add_option("--suite", eval.suite, "YAML file of eval.* keys, e.g. configs/eval/verification.yaml");
  eval_cmd->add_option("--target", eval.targets,
                       "[name=]PATH: .bin, LFW folder, CALFW/CPLFW list, RFW or IJB root (repeatable; replaces eval.targets)");
  eval_cmd->add_option("--features", eval.features, "Score this .npy (rows = the target's images in protocol order)");
  eval_cmd->add_option("--save-features", eval.save_features, "Also write each target's features to DIR/<target>.npy");
  eval_cmd->add_option("--set", eval.overrides, "Override an eval key: --set eval.flip=concat");
  eval_cmd->add_option("--db", eval.db, "Results store for --features without --checkpoint (default runs/results.db)");
  eval_cmd->add_option("--run-name", eval.run_name, "Run name for --features results (default features:<file stem>)");
  eval_cmd->add_option("--json", eval.json, "Append every evaluation to this file as a JSON line");
  eval_cmd->add_flag("!--no-store", eval.store, "Do not record the results in the results store");
  eval_cmd->callback([&] {
    if (!eval_positional.empty() && !eval.checkpoint.empty())
      throw CLI::ValidationError("eval", "give the run either as RUN or as --checkpoint, not both");
    if (eval.checkpoint.empty()) eval.checkpoint = eval_positional;
    eval.command_line = train.command_line;
    exit_code = ff::cli::run_eval(eval);
  });

  auto* data_cmd = app.add_subcommand("data", "Dataset tools");
  data_cmd->require_subcommand(1);
  ff::cli::SynthArgs synth;
  auto* synth_cmd = data_cmd->add_subcommand(
      "synth", "Render synthetic identities + held-out verification pairs (+ RFW/IJB-style trees: --rfw, --ijb)");
  synth_cmd->add_option("--identities", synth.identities, "Training identities")->capture_default_str();
  synth_cmd->add_option("--images-per-identity", synth.images_per_identity, "Images per identity")->capture_default_str();
  synth_cmd->add_option("--seed", synth.seed, "Dataset seed")->capture_default_str();
  synth_cmd->add_option("--pair-identities", synth.pair_identities, "Held-out identities for pairs")->capture_default_str();
  synth_cmd->add_option("--pairs", synth.pairs, "Verification pairs (multiple of 20)")->capture_default_str();
  synth_cmd->add_option("--variation", synth.variation, "Within-identity variation scale")->capture_default_str();
  auto* rfw_flag = synth_cmd->add_flag(
      "--rfw", synth.rfw, "Also write OUT/rfw: RFW-style races, pairs and landmarks of loose crops of further held-out identities");
  synth_cmd->add_option("--rfw-identities", synth.rfw_options.identities_per_race, "RFW identities per race")
      ->capture_default_str()->needs(rfw_flag);
  synth_cmd->add_option("--rfw-images", synth.rfw_options.images_per_identity, "RFW images per identity")
      ->capture_default_str()->needs(rfw_flag);
  synth_cmd->add_option("--rfw-pairs", synth.rfw_options.pairs, "RFW pairs per race (multiple of 20)")
      ->capture_default_str()->needs(rfw_flag);
  auto* ijb_flag = synth_cmd->add_flag(
      "--ijb", synth.ijb, "Also write OUT/ijb: IJB-C-style loose crops and insightface meta files (templates, media, "
      "1:1 pairs, 1:N galleries) of further held-out identities");
  synth_cmd->add_option("--ijb-subjects", synth.ijb_options.subjects, "IJB subjects")->capture_default_str()->needs(ijb_flag);
  synth_cmd->add_option("--ijb-templates", synth.ijb_options.templates_per_subject, "IJB templates per subject")
      ->capture_default_str()->needs(ijb_flag);
  synth_cmd->add_option("--ijb-genuine", synth.ijb_options.genuine_pairs, "IJB genuine template pairs")
      ->capture_default_str()->needs(ijb_flag);
  synth_cmd->add_option("--ijb-impostors", synth.ijb_options.impostor_pairs, "IJB impostor template pairs")
      ->capture_default_str()->needs(ijb_flag);
  synth_cmd->add_option("--out", synth.out, "Output folder")->required();
  synth_cmd->callback([&] { exit_code = ff::cli::run_data_synth(synth); });
  const std::vector<std::string> source_formats = {"auto", "recordio", "folder", "list", "synthetic"};
  ff::cli::DataPackArgs pack;
  auto* pack_cmd = data_cmd->add_subcommand("pack", "Write a source as an insightface RecordIO pack (.rec/.idx/property)");
  pack_cmd->add_option("source", pack.source, "Image folder, list file, `data synth` folder or pack")->required();
  pack_cmd->add_option("--format", pack.format, "How the source is stored")->check(CLI::IsMember(source_formats))->capture_default_str();
  pack_cmd->add_option("--out", pack.out, "Output folder")->required();
  pack_cmd->add_option("--quality", pack.quality, "JPEG quality for images without stored bytes")->check(CLI::Range(1, 100))->capture_default_str();
  pack_cmd->callback([&] { exit_code = ff::cli::run_data_pack(pack); });
  ff::cli::DataIndexArgs index;
  auto* index_cmd = data_cmd->add_subcommand("index", "Rebuild a RecordIO pack's .idx by scanning its .rec");
  index_cmd->add_option("rec", index.rec, "train.rec, or the folder holding it")->required();
  index_cmd->add_option("--keys", index.keys, "Index keys: record ids (as im2rec), file order, or ids when unique")
      ->check(CLI::IsMember({"auto", "id", "sequence"}))->capture_default_str();
  index_cmd->callback([&] { exit_code = ff::cli::run_data_index(index); });
  ff::cli::DataInspectArgs inspect;
  auto* inspect_cmd = data_cmd->add_subcommand("inspect", "Identities, images per identity, labels, unreadable images");
  inspect_cmd->add_option("path", inspect.path, "Pack, image folder, list file or `data synth` folder")->required();
  inspect_cmd->add_option("--format", inspect.format, "How the source is stored")->check(CLI::IsMember(source_formats))->capture_default_str();
  inspect_cmd->add_flag("!--no-decode", inspect.decode, "Skip decoding every image (no unreadable count)");
  inspect_cmd->add_option("--threads", inspect.threads, "Decode threads")->check(CLI::Range(1, 256))->capture_default_str();
  inspect_cmd->add_flag("--json", inspect.json, "Print one JSON object");
  inspect_cmd->callback([&] { exit_code = ff::cli::run_data_inspect(inspect); });
  ff::cli::DataAlignArgs align;
  auto* align_cmd = data_cmd->add_subcommand("align", "Warp faces onto the ArcFace 112x112 template from 5-point landmarks");
  align_cmd->add_option("--landmarks", align.options.landmarks, "Landmarks file (IJB name_5pts_score, RFW lmk or CSV)")->required();
  align_cmd->add_option("--landmarks-format", align.options.format, "Landmarks format")->check(CLI::IsMember({"auto", "ijb", "rfw", "csv"}))->capture_default_str();
  align_cmd->add_option("--images", align.options.images, "Folder the landmark file's paths are relative to")->required();
  align_cmd->add_option("--out", align.options.out, "Output folder (same relative paths)")->required();
  align_cmd->add_option("--min-score", align.options.min_score, "Skip faces whose landmark score is lower")->capture_default_str();
  align_cmd->add_option("--quality", align.options.jpeg_quality, "JPEG quality")->check(CLI::Range(1, 100))->capture_default_str();
  align_cmd->callback([&] { exit_code = ff::cli::run_data_align(align); });

  auto* results_cmd = app.add_subcommand("results", "Query the results store");
  results_cmd->require_subcommand(1);
  ff::cli::ResultsArgs results;
  auto add_db = [&](CLI::App* cmd) {
    cmd->add_option("--db", results.db, "Results store: a path or results.url (sqlite:///runs/results.db)")
        ->capture_default_str();
    cmd->add_option("--stale-after", results.stale_after,
                    "Seconds without a heartbeat after which a running run shows as failed")
        ->capture_default_str();
  };
  auto* list_cmd = results_cmd->add_subcommand("list", "List runs: status and one metric, filtered and sorted");
  add_db(list_cmd);
  list_cmd->add_option("--where", results.where,
                       "KEY=VALUE filter, wildcards allowed; KEY: id name status host target protocol checkpoint");
  list_cmd->add_option("--sort", results.sort, "Metric to show and sort by (error-like metrics ascending)");
  list_cmd->add_flag("--ascending", results.ascending, "Sort smaller values first whatever the metric");
  list_cmd->add_option("--limit", results.limit, "Show at most N runs");
  list_cmd->add_option("--format", results.format, "table or json")->capture_default_str();
  list_cmd->callback([&] { exit_code = ff::cli::run_results_list(results); });
  auto* show_cmd = results_cmd->add_subcommand("show", "Show one run: provenance, evaluations, checkpoints, config");
  show_cmd->add_option("run", results.runs, "Run id or name")->required()->expected(1);
  add_db(show_cmd);
  show_cmd->add_option("--format", results.format, "table or json")->capture_default_str();
  show_cmd->callback([&] { exit_code = ff::cli::run_results_show(results); });
  auto* results_compare_cmd = results_cmd->add_subcommand("compare", "Runs side by side: config differences and metrics");
  results_compare_cmd->add_option("runs", results.runs, "Run ids or names (two or more)")->required();
  add_db(results_compare_cmd);
  results_compare_cmd->add_option("--format", results.format, "table or json")->capture_default_str();
  results_compare_cmd->callback([&] { exit_code = ff::cli::run_results_compare(results); });
  auto* results_export_cmd = results_cmd->add_subcommand("export", "Every evaluation row as CSV or JSON");
  add_db(results_export_cmd);
  results_export_cmd->add_option("--where", results.where, "KEY=VALUE filter (as for list; target/protocol per row)");
  results_export_cmd->add_option("--format", results.format, "csv or json")->required();
  results_export_cmd->add_option("--out", results.out, "Write to this file instead of stdout");
  results_export_cmd->callback([&] { exit_code = ff::cli::run_results_export(results); });
  auto* results_best_cmd = results_cmd->add_subcommand("best", "The run with the best value of a metric on a target");
  add_db(results_best_cmd);
  results_best_cmd->add_option("--target", results.target, "Target, e.g. ijbc")->required();
  results_best_cmd->add_option("--metric", results.metric, "Metric, e.g. tar@far=1e-4")->required();
  results_best_cmd->add_option("--group", results.group, "A group's value (RFW race, gallery) instead of the whole target's");
  results_best_cmd->add_flag("--ascending", results.ascending, "Smaller is better whatever the metric");
  results_best_cmd->add_option("--format", results.format, "table or json")->capture_default_str();
  results_best_cmd->callback([&] { exit_code = ff::cli::run_results_best(results); });

  ff::cli::ReportArgs report;
  auto* report_cmd = app.add_subcommand("report", "Write one self-contained HTML page of runs, curves, ROC, fairness, latency");
  report_cmd->add_option("--db", report.db, "Results store: a path or results.url")->capture_default_str();
  report_cmd->add_option("--runs", report.runs, "Run ids or names (default: every run)");
  report_cmd->add_option("--out", report.out, "Output HTML file")->capture_default_str();
  report_cmd->add_option("--title", report.title, "Page title")->capture_default_str();
  report_cmd->callback([&] { exit_code = ff::cli::run_report(report); });

  auto* config_cmd = app.add_subcommand("config", "Inspect configuration");
  config_cmd->require_subcommand(1);
  ff::cli::ConfigArgs config;
  auto* config_show = config_cmd->add_subcommand("show", "Print the fully resolved config");
  config_show->add_option("config", config.config, "YAML config file")->required();
  config_show->add_option("--set", config.overrides, "Override a config key (repeatable)");
  config_show->callback([&] { exit_code = ff::cli::run_config_show(config); });
  auto* config_keys = config_cmd->add_subcommand("keys", "Print every config key as a Markdown table");
  config_keys->callback([&] { exit_code = ff::cli::run_config_keys(); });

  auto* model_cmd = app.add_subcommand("model", "Inspect networks; move weights to and from PyTorch");
  model_cmd->require_subcommand(1);
  ff::cli::ModelSummaryArgs summary;
  auto* summary_cmd = model_cmd->add_subcommand("summary", "Parameters, FLOPs and per-stage shapes of a network");
  summary_cmd->add_option("model", summary.model, "Config file or backbone name (r50, mbf, vit_t, ...)")->required();
  summary_cmd->add_option("--set", summary.overrides, "Override a model key: --set model.embedding_size=256");
  summary_cmd->add_flag("--json", summary.json, "Print one JSON object");
  summary_cmd->callback([&] { exit_code = ff::cli::run_model_summary(summary); });
  ff::cli::ModelImportArgs import_args;
  auto* import_cmd = model_cmd->add_subcommand("import", "Turn a PyTorch state dict (torch.save) into a FaceForge run folder");
  import_cmd->add_option("--from", import_args.from, "state dict file written by torch.save")->required();
  import_cmd->add_option("--backbone", import_args.backbone, "Backbone the weights belong to")->required();
  import_cmd->add_option("--set", import_args.overrides, "Override a model key: --set model.embedding_size=256");
  import_cmd->add_option("--out", import_args.out, "Run folder to create (config.yaml + checkpoints/step_0.pt)")->required();
  import_cmd->callback([&] { exit_code = ff::cli::run_model_import(import_args); });
  ff::cli::ModelExportArgs export_args;
  auto* export_cmd = model_cmd->add_subcommand("export", "Write a run's backbone weights for PyTorch");
  export_cmd->add_option("run", export_args.run, "Run folder (newest checkpoint) or checkpoint file")->required();
  export_cmd->add_option("--format", export_args.format, "Output format")->capture_default_str();
  export_cmd->add_option("--out", export_args.out, "Output file (torch.load reads it)")->required();
  export_cmd->callback([&] { exit_code = ff::cli::run_model_export(export_args); });

  auto* bench_cmd = app.add_subcommand("bench", "Benchmarks (speed and memory on this machine)");
  bench_cmd->require_subcommand(1);
  ff::cli::BenchModelArgs bench_model;
  auto* bench_model_cmd = bench_cmd->add_subcommand("model", "Forward and forward+backward images/s of a backbone");
  bench_model_cmd->add_option("--backbone", bench_model.backbone, "Backbone name")->capture_default_str();
  bench_model_cmd->add_option("--set", bench_model.overrides, "Override a model key: --set model.channels_last=false");
  bench_model_cmd->add_option("--batch", bench_model.batch, "Batch size")->capture_default_str();
  bench_model_cmd->add_option("--iters", bench_model.iters, "Timed iterations")->capture_default_str();
  bench_model_cmd->add_option("--warmup", bench_model.warmup, "Untimed iterations first")->capture_default_str();
  bench_model_cmd->add_option("--threads", bench_model.threads, "Threads (0 = all cores)")->capture_default_str();
  bench_model_cmd->add_option("--json", bench_model.json, "Append the result as a JSON line to this file");
  bench_model_cmd->add_option("--reference-python", bench_model.reference_python,
                              "Also time PyTorch on the same network with this interpreter (e.g. /usr/bin/python3)");
  bench_model_cmd->add_option("--reference-script", bench_model.reference_script,
                              "PyTorch reference script (default: benchmarks/torch_reference.py in the source tree)");
  bench_model_cmd->callback([&] { exit_code = ff::cli::run_bench_model(bench_model); });
  ff::cli::BenchTrainArgs bench_train;
  auto* bench_train_cmd = bench_cmd->add_subcommand(
      "train", "Training-step images/s (backbone + head + SGD) on in-memory tensors, optionally vs PyTorch");
  bench_train_cmd->add_option("--backbone", bench_train.backbone, "Backbone name")->capture_default_str();
  bench_train_cmd->add_option("--set", bench_train.overrides, "Override a model key: --set model.embedding_size=256");
  bench_train_cmd->add_option("--batch", bench_train.options.batch, "Batch size")->capture_default_str();
  bench_train_cmd->add_option("--head", bench_train.options.head, "Margin head")->capture_default_str();
  bench_train_cmd->add_option("--sample-rate", bench_train.options.sample_rate, "Partial FC sample rate")->capture_default_str();
  bench_train_cmd->add_option("--classes", bench_train.options.classes, "Classes of the classifier")->capture_default_str();
  bench_train_cmd->add_option("--steps", bench_train.options.steps, "Timed steps")->capture_default_str();
  bench_train_cmd->add_option("--warmup", bench_train.options.warmup, "Untimed steps first")->capture_default_str();
  bench_train_cmd->add_option("--threads", bench_train.options.threads, "Threads (0 = all cores)")->capture_default_str();
  bench_train_cmd->add_option("--seed", bench_train.options.seed, "Seed of weights and data")->capture_default_str();
  bench_train_cmd->add_option("--device", bench_train.options.device, "cpu, or cuda with a CUDA LibTorch")
      ->capture_default_str();
  bench_train_cmd->add_option("--peak-tflops", bench_train.peak_tflops,
                              "The device's peak TFLOP/s at this precision: also report the share achieved");
  bench_train_cmd->add_option("--json", bench_train.json, "Append the result as a JSON line to this file");
  bench_train_cmd->add_option("--reference-python", bench_train.reference_python,
                              "Also run the same step in PyTorch with this interpreter (e.g. /usr/bin/python3)");
  bench_train_cmd->add_option("--reference-script", bench_train.reference_script,
                              "Reference script (default: scripts/bench/reference_train.py in the source tree)");
  bench_train_cmd->callback([&] { exit_code = ff::cli::run_bench_train(bench_train); });
  ff::cli::BenchHeadsArgs bench_heads;
  auto* bench_heads_cmd = bench_cmd->add_subcommand("heads", "Steps/s of every loss head relative to softmax");
  bench_heads_cmd->add_option("--classes", bench_heads.options.classes, "Classes")->capture_default_str();
  bench_heads_cmd->add_option("--batch", bench_heads.options.batch, "Batch size")->capture_default_str();
  bench_heads_cmd->add_option("--embedding-size", bench_heads.options.embedding_size, "Embedding size")->capture_default_str();
  bench_heads_cmd->add_option("--iters", bench_heads.options.iters, "Timed steps per head")->capture_default_str();
  bench_heads_cmd->add_option("--threads", bench_heads.options.threads, "Threads (0 = all cores)")->capture_default_str();
  bench_heads_cmd->add_option("--json", bench_heads.json, "Append the result as a JSON line to this file");
  bench_heads_cmd->callback([&] { exit_code = ff::cli::run_bench_heads(bench_heads); });
  ff::cli::BenchPfcArgs bench_pfc;
  auto* bench_pfc_cmd = bench_cmd->add_subcommand("pfc", "Partial FC per rank: centre, logits and peak memory, head and full step times");
  bench_pfc_cmd->add_option("--classes", bench_pfc.options.classes, "Classes (split over the ranks)")->capture_default_str();
  bench_pfc_cmd->add_option("--dim", bench_pfc.options.dim, "Embedding size")->capture_default_str();
  bench_pfc_cmd->add_option("--world", bench_pfc.options.world, "Ranks; started here as local workers unless RANK is set")
      ->check(CLI::Range(1, 1024))->capture_default_str();
  bench_pfc_cmd->add_option("--sample-rate", bench_pfc.options.sample_rate, "Share of each rank's classes scored per step")
      ->capture_default_str();
  bench_pfc_cmd->add_option("--backbone", bench_pfc.options.backbone, "Also time full steps with this backbone (e.g. mbf)");
  bench_pfc_cmd->add_option("--batch", bench_pfc.options.batch, "Images per rank")->capture_default_str();
  bench_pfc_cmd->add_option("--iters", bench_pfc.options.iters, "Timed steps")->capture_default_str();
  bench_pfc_cmd->add_option("--warmup", bench_pfc.options.warmup, "Untimed steps first")->capture_default_str();
  bench_pfc_cmd->add_option("--threads", bench_pfc.options.threads, "Threads per rank (0 = cores / local ranks)")->capture_default_str();
  bench_pfc_cmd->add_flag("!--dense", bench_pfc.options.sparse_update, "Momentum and weight decay move every centre each step");
  bench_pfc_cmd->add_option("--json", bench_pfc.json, "Append one JSON line per rank to this file");
  bench_pfc_cmd->callback([&] { exit_code = ff::cli::run_bench_pfc(bench_pfc); });

  ff::cli::BenchDataArgs bench_data;
  auto* bench_data_cmd = bench_cmd->add_subcommand("data", "Decoded + augmented images/s of the training loader");
  bench_data_cmd->add_option("--source", bench_data.options.source, "Pack, image folder, list file or `data synth` folder")->required();
  bench_data_cmd->add_option("--format", bench_data.options.format, "How the source is stored")->capture_default_str();
  bench_data_cmd->add_option("--threads", bench_data.options.threads, "Loader threads (reference: DataLoader workers)")
      ->check(CLI::Range(1, 256))->capture_default_str();
  bench_data_cmd->add_option("--batch", bench_data.options.batch, "Batch size")->check(CLI::Range(1, 65536))->capture_default_str();
  bench_data_cmd->add_option("--images", bench_data.options.images, "Timed images")->capture_default_str();
  bench_data_cmd->add_option("--warmup-batches", bench_data.options.warmup_batches, "Untimed batches first")->capture_default_str();
  bench_data_cmd->add_option("--json", bench_data.json, "Append the result as a JSON line to this file");
  bench_data_cmd->add_option("--reference-python", bench_data.reference_python,
                             "Also time PyTorch's DataLoader on the same .rec with this interpreter (e.g. /usr/bin/python3)");
  bench_data_cmd->add_option("--reference-script", bench_data.reference_script,
                             "Reference script (default: benchmarks/data_reference.py in the source tree)");
  bench_data_cmd->callback([&] { exit_code = ff::cli::run_bench_data(bench_data); });

  ff::cli::BenchEvalArgs bench_eval;
  auto* bench_eval_cmd = bench_cmd->add_subcommand(
      "eval", "IJB-C-sized template aggregation, 1:1 scoring and 1:N search, and a .bin evaluation, from features");
  bench_eval_cmd->add_option("--images", bench_eval.options.images, "Image features aggregated into templates")->capture_default_str();
  bench_eval_cmd->add_option("--templates", bench_eval.options.templates, "Templates")->capture_default_str();
  bench_eval_cmd->add_option("--pairs", bench_eval.options.pairs, "1:1 template pairs")->capture_default_str();
  bench_eval_cmd->add_option("--genuine", bench_eval.options.genuine, "Genuine pairs among them")->capture_default_str();
  bench_eval_cmd->add_option("--gallery", bench_eval.options.gallery, "1:N gallery templates")->capture_default_str();
  bench_eval_cmd->add_option("--probes", bench_eval.options.probes, "1:N probe templates")->capture_default_str();
  bench_eval_cmd->add_option("--verification-pairs", bench_eval.options.verification_pairs, "Pairs of the .bin-style evaluation")
      ->capture_default_str();
  bench_eval_cmd->add_option("--dim", bench_eval.options.dim, "Feature size")->capture_default_str();
  bench_eval_cmd->add_option("--image-noise", bench_eval.options.image_noise, "Image feature noise around its subject centre")
      ->capture_default_str();
  bench_eval_cmd->add_option("--threads", bench_eval.options.threads, "Threads (0 = all cores)")->capture_default_str();
  bench_eval_cmd->add_option("--seed", bench_eval.options.seed, "Seed of the random features")->capture_default_str();
  bench_eval_cmd->add_option("--json", bench_eval.json, "Append the result as a JSON line to this file");
  bench_eval_cmd->add_option("--reference-python", bench_eval.reference_python,
                             "Also run the NumPy reference on the same arrays with this interpreter (e.g. /usr/bin/python3)");
  bench_eval_cmd->add_option("--reference-script", bench_eval.reference_script,
                             "Reference script (default: benchmarks/eval_reference.py in the source tree)");
  bench_eval_cmd->callback([&] { exit_code = ff::cli::run_bench_eval(bench_eval); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const ff::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const c10::Error& e) {
    // LibTorch's own message without its multi-line C++ backtrace.
    std::string message = e.what_without_backtrace();
    std::replace(message.begin(), message.end(), '\n', ' ');
    std::fprintf(stderr, "error: %s\n", message.c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return exit_code;
}
