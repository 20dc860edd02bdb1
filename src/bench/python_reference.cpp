// popen + the output's last line that starts with '{' parsed as JSON (the reference scripts print one line).
#include "src/bench/python_reference.h"

#include <cstdio>

#include <fmt/format.h>

#include "src/util/error.h"

namespace ff::bench {

nlohmann::json run_python_reference(const std::string& python, const std::string& script,
                                    const std::vector<std::string>& args) {
  std::string command = fmt::format("'{}' '{}'", python, script);
  for (const auto& a : args) command += " '" + a + "'";
  command += " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) fail("cannot run the Python reference: {}", command);
  std::string output;
  char buffer[4096];
  while (fgets(buffer, sizeof buffer, pipe)) output += buffer;
  int status = pclose(pipe);
  if (status != 0) fail("Python reference failed (exit {}): {}: {}", status, command, output);
  // The last line that opens a JSON object (the object itself may nest others).
  const size_t line = output.rfind("\n{");
  const size_t start = line != std::string::npos ? line + 1 : (output.starts_with('{') ? 0 : std::string::npos);
  if (start == std::string::npos) fail("Python reference printed no JSON: {}: {}", command, output);
  try {
    return nlohmann::json::parse(output.substr(start));
  } catch (const nlohmann::json::exception& e) {
    fail("Python reference printed invalid JSON ({}): {}", e.what(), output);
  }
}

}  // namespace ff::bench
