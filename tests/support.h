// Shared test helpers: temp folders, paths into the source tree, running commands.
#pragma once
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace ff::test {

// A fresh directory under the system temp folder, removed when the object goes out of scope.
class TempDir {
 public:
  explicit TempDir(const std::string& tag);
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

std::filesystem::path source_dir();  // repository root
std::string faceforge_binary();      // the built CLI

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};
CommandResult run_command(const std::string& command);

// Debian's Python (with python3-torch/numpy), never a pyenv shim on PATH.
std::string python();

// `text` in single quotes for /bin/sh.
std::string shell_quote(const std::string& text);

// Writes `script` to dir/helper.py (once) and runs it with Debian's Python and `args`; output is
// stdout and stderr together. Tests use it to have Python write or check a file format.
CommandResult run_python_script(const TempDir& dir, const std::string& script, const std::vector<std::string>& args);

void write_text(const std::filesystem::path& path, const std::string& text);

// A small `faceforge data synth` folder: `identities` x `images` training images, and 40 held-out
// pairs over 8 identities (verification.bin).
void write_small_synthetic(const std::filesystem::path& dir, int identities, int images, int seed);

// The ff::Error message of f(); throws std::runtime_error (failing the test) when f() throws none.
std::string error_of(const std::function<void()>& f);

}  // namespace ff::test
