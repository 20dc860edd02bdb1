// `faceforge report`: one self-contained HTML page from the results store: leaderboards, TAR@FAR
// tables, training curves, ROC curves, fairness, data mix and FRUITS latency vs accuracy, with
// inline SVG charts and inline CSS (no scripts, no network).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "src/store/results_store.h"

namespace ff::report {

struct ReportOptions {
  std::vector<std::string> runs;  // ids or names; empty = every run in the store
  std::string title = "FaceForge results";
  double stale_after = 600;       // seconds without a heartbeat before a running run shows failed
};

// The page as a string. Throws ff::Error naming a run id or name that is not in the store.
std::string render_report(store::ResultsStore& store, const ReportOptions& options);

// render_report() written through a temp file and a rename.
void write_report(store::ResultsStore& store, const ReportOptions& options, const std::filesystem::path& out);

}  // namespace ff::report
