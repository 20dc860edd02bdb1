// Run folders: `<output>/<name>-<UTC time>` holding config.yaml, run.json, train.jsonl and
// checkpoints/. run.json records the run's store id, its status when it ended and its best
// checkpoint; `train.resume: auto` finds the newest unfinished run of a name to continue.
#pragma once
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace ff::train {

// Creates a new run folder (and its checkpoints/) for run `name` under `output`.
std::filesystem::path make_run_dir(const std::filesystem::path& output, const std::string& name);

// Merges `fields` into run_dir/run.json (created when absent), written to a temp file and renamed.
void update_run_json(const std::filesystem::path& run_dir, const nlohmann::json& fields);

// The newest run folder of `name` under `output` when it holds a checkpoint and its run.json does
// not say it finished (stopped by a signal, a crash or a lost node); otherwise none (start afresh).
std::optional<std::filesystem::path> find_resumable_run(const std::filesystem::path& output, const std::string& name);

}  // namespace ff::train
