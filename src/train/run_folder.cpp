// Run folder creation, run.json updates and finding the run `train.resume: auto` continues.
#include "src/train/run_folder.h"

#include <ctime>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "src/util/atomic_file.h"
#include "src/util/error.h"

namespace ff::train {

namespace fs = std::filesystem;

namespace {

std::string utc_stamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y%m%d-%H%M%S", &tm);
  return buffer;
}

nlohmann::json read_run_json(const fs::path& file) {
  if (!fs::exists(file)) return nlohmann::json::object();
  try {
    return nlohmann::json::parse(read_file(file));
  } catch (const nlohmann::json::exception& e) {
    fail("{}: invalid JSON: {}", file.string(), e.what());
  }
}

bool has_checkpoint(const fs::path& run_dir) {
  static const std::regex main_file(R"(step_\d+\.pt)");
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(run_dir / "checkpoints", ec))
    if (std::regex_match(entry.path().filename().string(), main_file)) return true;
  return false;
}

}  // namespace

fs::path make_run_dir(const fs::path& output, const std::string& name) {
  fs::path base = output / (name + "-" + utc_stamp());
  fs::path dir = base;
  for (int n = 2; fs::exists(dir); ++n) dir = base.string() + "-" + std::to_string(n);
  fs::create_directories(dir / "checkpoints");
  return dir;
}

void update_run_json(const fs::path& run_dir, const nlohmann::json& fields) {
  nlohmann::json j = read_run_json(run_dir / "run.json");
  j.update(fields);
  write_file_atomically(run_dir / "run.json", j.dump(2));
}

std::optional<fs::path> find_resumable_run(const fs::path& output, const std::string& name) {
  // <name>-YYYYmmdd-HHMMSS, or -N after it when two runs started in the same second.
  const std::regex folder(std::regex_replace(name, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                          R"(-(\d{8}-\d{6})(?:-(\d+))?)");
  std::optional<fs::path> newest;
  std::pair<std::string, int> newest_key;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(output, ec)) {
    std::smatch m;
    const std::string folder_name = entry.path().filename().string();
    if (!entry.is_directory() || !std::regex_match(folder_name, m, folder)) continue;
    std::pair<std::string, int> key{m[1].str(), m[2].matched ? std::stoi(m[2].str()) : 1};
    if (!newest || key > newest_key) {
      newest = entry.path();
      newest_key = key;
    }
  }
  // Only the newest run counts: an older unfinished one was already superseded by a fresh start.
  if (!newest || !has_checkpoint(*newest)) return std::nullopt;
  if (read_run_json(*newest / "run.json").value("status", std::string()) == "finished") return std::nullopt;
  return newest;
}

}  // namespace ff::train
