// This machine's name and hardware, for run provenance (training runs and feature-file evaluations).
#pragma once
#include <string>

namespace ff {
std::string host_name();         // gethostname(), or "unknown"
std::string cpu_summary();       // "cpu: 16 cores (AMD EPYC 9654 96-Core Processor)"; cores from the scheduler
}  // namespace ff
