// Test helpers shared by every test file.
#include "support.h"

#include "datasets/synthetic.h"
#include "src/util/error.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <random>

namespace ff::test {

namespace fs = std::filesystem;

TempDir::TempDir(const std::string& tag) {
  static std::atomic<int> counter{0};
  path_ = fs::temp_directory_path() /
          ("faceforge-test-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(path_);
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

fs::path source_dir() { return FF_SOURCE_DIR; }
std::string faceforge_binary() { return FF_BINARY; }

CommandResult run_command(const std::string& command) {
  CommandResult result;
  std::FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string python() { return "/usr/bin/python3"; }

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

CommandResult run_python_script(const TempDir& dir, const std::string& script, const std::vector<std::string>& args) {
  const fs::path file = dir / "helper.py";
  if (!fs::exists(file)) write_text(file, script);
  std::string command = shell_quote(python()) + " " + shell_quote(file.string());
  for (const std::string& arg : args) command += " " + shell_quote(arg);
  return run_command(command);
}

void write_small_synthetic(const fs::path& dir, int identities, int images, int seed) {
  datasets::SyntheticOptions o;
  o.identities = identities;
  o.images_per_identity = images;
  o.pair_identities = 8;
  o.pairs = 40;
  o.seed = seed;
  datasets::write_synthetic_dataset(o, dir);
}

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  throw std::runtime_error("expected ff::Error, nothing was thrown");
}

}  // namespace ff::test
