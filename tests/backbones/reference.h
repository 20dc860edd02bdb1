// Runs tests/python/reference_backbones.py (Debian's python3-torch), the independent PyTorch
// definition of insightface's backbones that the C++ networks are checked against.
#pragma once
#include <string>

#include "support.h"

namespace ff::test {

// Output of `reference_backbones.py ARGS`; fails the test when the script fails.
inline std::string reference_backbones(const std::string& args) {
  std::string script = (source_dir() / "tests" / "python" / "reference_backbones.py").string();
  auto result = run_command(python() + " " + script + " " + args);
  if (result.exit_code != 0) throw std::runtime_error("reference_backbones.py " + args + " failed:\n" + result.output);
  return result.output;
}

}  // namespace ff::test
