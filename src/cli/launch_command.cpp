// `faceforge launch`: runs a faceforge subcommand as N local workers of this same binary.
#include <filesystem>
#include <system_error>

#include "src/cli/commands.h"
#include "src/util/error.h"

namespace ff::cli {

namespace {

// The resolved binary, so workers run exactly this build even if PATH or the working directory says otherwise.
std::string this_program() {
  std::error_code error;
  std::filesystem::path path = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error || path.empty()) fail("launch: cannot resolve /proc/self/exe to this program's path: {}", error.message());
  return path.string();
}

}  // namespace

int run_launch(const LaunchArgs& args) {
  const std::vector<std::string>& rest = args.options.command;
  if (rest.empty())
    fail("launch: no subcommand for the workers; put it after `--`, e.g. faceforge launch --nproc-per-node 2 -- "
         "train config.yaml");
  if (std::filesystem::path(rest.front()).filename() == "faceforge")
    fail("launch: give the workers' subcommand after `--` (e.g. -- train config.yaml), not the program; got '{}'",
         rest.front());
  if (rest.front() == "launch") fail("launch: workers cannot run `launch` themselves; got `-- launch ...`");
  dist::LaunchOptions options = args.options;
  options.command.insert(options.command.begin(), this_program());
  return dist::launch(options);
}

}  // namespace ff::cli
