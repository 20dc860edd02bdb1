// This machine's name, for run provenance (training runs and feature-file evaluations).
#pragma once
#include <string>

namespace ff {
std::string host_name();  // gethostname(), or "unknown"
}  // namespace ff
