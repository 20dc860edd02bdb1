// Runs a Python reference benchmark as a child process and reads the JSON object it prints last.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ff::bench {

// `python script args...` (each argument quoted); fails naming the command and its output when the
// process exits non-zero or prints no JSON object.
nlohmann::json run_python_reference(const std::string& python, const std::string& script,
                                    const std::vector<std::string>& args);

}  // namespace ff::bench
