// `faceforge model summary|import|export`: inspect networks and move weights to and from PyTorch.
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "backbones/backbone.h"
#include "backbones/state_dict.h"
#include "backbones/summary.h"
#include "backbones/weights_file.h"
#include "src/cli/commands.h"
#include "src/train/checkpoint.h"
#include "src/train/run_config.h"
#include "src/util/atomic_file.h"
#include "src/util/error.h"

namespace ff::cli {

namespace fs = std::filesystem;

backbones::BackboneOptions model_options(const std::string& model, std::vector<std::string> overrides) {
  backbones::register_builtin_backbones();
  for (const auto& o : overrides)
    if (o.rfind("model.", 0) != 0) fail("--set {}: only model.* keys apply here", o);
  if (fs::is_regular_file(model) || model.ends_with(".yaml") || model.ends_with(".yml")) {
    return train::parse_run_config(model, overrides).model;
  }
  overrides.insert(overrides.begin(), "model.backbone=" + model);
  return train::parse_run_config("", overrides).model;
}

int run_model_summary(const ModelSummaryArgs& args) {
  backbones::BackboneOptions model = model_options(args.model, args.overrides);
  auto backbone = backbones::make_backbone(model);
  auto summary = backbones::summarize(model.backbone, *backbone);
  if (!args.json) {
    std::printf("%s", backbones::format_summary(summary).c_str());
    return 0;
  }
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& s : summary.stages) stages.push_back({{"name", s.name}, {"shape", s.shape}});
  nlohmann::json j = {{"backbone", summary.name},     {"parameters", summary.parameters},
                      {"trainable_parameters", summary.trainable_parameters},
                      {"buffers", summary.buffers},   {"macs", summary.macs},
                      {"embedding_size", summary.embedding_size}, {"stages", stages}};
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

int run_model_import(const ModelImportArgs& args) {
  if (fs::exists(fs::path(args.out) / "config.yaml")) fail("{} already holds a run (config.yaml exists)", args.out);
  train::RunConfig config;
  config.name = fs::path(args.out).filename().string();
  config.model = model_options(args.backbone, args.overrides);
  auto backbone = backbones::make_backbone(config.model);
  backbones::load_state_dict(*backbone, backbones::read_weights_file(args.from), args.from);
  fs::create_directories(fs::path(args.out) / "checkpoints");
  write_file_atomically(fs::path(args.out) / "config.yaml", train::to_yaml(config));
  fs::path checkpoint = fs::path(args.out) / "checkpoints" / "step_0.pt";
  train::save_backbone_checkpoint(checkpoint, *backbone);
  std::printf("imported %s into %s (%s); evaluate with: faceforge eval %s --target PACK.bin\n", args.from.c_str(),
              checkpoint.c_str(), config.model.backbone.c_str(), args.out.c_str());
  return 0;
}

int run_model_export(const ModelExportArgs& args) {
  backbones::register_builtin_backbones();
  if (args.format != "torch-state-dict") fail("--format {}: the supported format is torch-state-dict", args.format);
  train::ResolvedRun run = train::resolve_run(args.run);
  auto backbone = backbones::make_backbone(run.config.model);
  train::load_backbone_weights(run.checkpoint, *backbone);
  auto tensors = backbones::state_dict(*backbone);
  backbones::write_weights_file(args.out, tensors);
  std::printf("wrote %zu tensors of %s (%s) to %s\n", tensors.size(), run.checkpoint.c_str(),
              run.config.model.backbone.c_str(), args.out.c_str());
  return 0;
}

}  // namespace ff::cli
