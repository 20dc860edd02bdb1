// gethostname() and /proc/cpuinfo wrappers.
#include "src/util/host.h"

#include <unistd.h>

#include <fstream>

#include "src/util/threads.h"

namespace ff {

std::string host_name() {
  char buffer[256] = {0};
  if (::gethostname(buffer, sizeof buffer - 1) != 0) return "unknown";
  return buffer;
}

std::string cpu_summary() {
  std::string model;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; model.empty() && std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) != 0) continue;
    if (auto colon = line.find(':'); colon != std::string::npos) model = line.substr(line.find_first_not_of(' ', colon + 1));
  }
  std::string summary = "cpu: " + std::to_string(cores()) + " cores";
  return model.empty() ? summary : summary + " (" + model + ")";
}

}  // namespace ff
