// `faceforge launch`: runs a faceforge subcommand as N local workers of this same binary.
#include <filesystem>

#include "src/cli/commands.h"
#include "src/util/error.h"

namespace ff::cli {

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
  options.command.insert(options.command.begin(), dist::this_program("launch"));
  return dist::launch(options);
}

}  // namespace ff::cli
