// Backend-independent parts of the results store: status names, times, staleness, results.url.
#include "src/store/results_store.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include <fmt/format.h>

#include "src/util/error.h"

namespace ff::store {

void ResultsStore::add_evaluation(std::int64_t run_id, const std::string& checkpoint, const std::string& target,
                                  const Metrics& metrics) {
  Evaluation e{checkpoint, target, "verification", "{}", {}};
  for (const auto& [name, value] : metrics) e.values.push_back({name, value, ""});
  add_evaluation(run_id, e);
}

std::string_view to_string(RunStatus status) {
  switch (status) {
    case RunStatus::running: return "running";
    case RunStatus::finished: return "finished";
    case RunStatus::failed: return "failed";
    case RunStatus::interrupted: return "interrupted";
  }
  fail("run status {} is out of range", static_cast<int>(status));
}

RunStatus parse_run_status(std::string_view text) {
  for (RunStatus s : {RunStatus::running, RunStatus::finished, RunStatus::failed, RunStatus::interrupted}) {
    if (to_string(s) == text) return s;
  }
  fail("unknown run status '{}'; expected one of running, finished, failed, interrupted", text);
}

// Milliseconds keep rows written within one second in order when sorted as text.
std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

namespace {

// Seconds since the epoch of "YYYY-MM-DDTHH:MM:SS[.mmm]Z"; NaN for anything else.
double epoch_seconds(const std::string& iso) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(iso.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &ms) < 6)
    return std::nan("");
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(timegm(&tm)) + ms / 1000.0;
}

}  // namespace

bool is_stale(const RunRow& run, double stale_after_seconds, const std::string& now) {
  if (run.status != RunStatus::running) return false;
  const double last = epoch_seconds(run.heartbeat_at.empty() ? run.started_at : run.heartbeat_at);
  const double current = epoch_seconds(now.empty() ? utc_now() : now);
  return last + stale_after_seconds < current;  // false when either time is unreadable (NaN)
}

std::string_view displayed_status(const RunRow& run, double stale_after_seconds) {
  return is_stale(run, stale_after_seconds) ? to_string(RunStatus::failed) : to_string(run.status);
}

std::string store_path_from_url(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  const std::string scheme = url.substr(0, scheme_end);
  if (scheme != "sqlite")
    fail("results.url '{}': scheme '{}' is not supported; this build stores results in SQLite (sqlite:///PATH)", url,
         scheme);
  std::string rest = url.substr(scheme_end + 3);  // "/runs/results.db" or "//data/results.db"
  if (rest.empty() || rest[0] != '/' || rest.size() == 1)
    fail("results.url '{}': expected sqlite:///relative/path.db or sqlite:////absolute/path.db", url);
  return rest.substr(1);
}

}  // namespace ff::store
