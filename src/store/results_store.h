// The results store: one row per training/evaluation run with its provenance, and its metric values.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ff::store {

// Schema version this build reads and writes (SQLite: PRAGMA user_version). A store with a
// higher version was written by a newer FaceForge and is refused rather than misread.
// Version 2 added data_sources; version 3 gave evaluations a protocol, the conventions that produced
// the numbers and a group; version 4 added runs' hardware, world size and heartbeat, the
// training_metrics and checkpoints tables and the fairness and latency views; version 5 the best
// checkpoint flag. An older store is
// upgraded in place when opened.
inline constexpr int kSchemaVersion = 5;

// Lifecycle: begin_run() -> running; finish_run() -> finished | failed | interrupted;
// resume_run() takes a failed, interrupted or finished run back to running (a resumed or
// extended training job).
enum class RunStatus { running, finished, failed, interrupted };

// "running", "finished", "failed", "interrupted": the strings stored in the runs table.
std::string_view to_string(RunStatus status);
// Inverse of to_string(); ff::Error naming the accepted values for anything else.
RunStatus parse_run_status(std::string_view text);

// What the caller knows when a run starts (provenance, as flashlight stores it with checkpoints).
struct RunInfo {
  std::string name;          // human label, e.g. "r50_arcface_ms1mv2"; need not be unique
  std::string config;        // the resolved YAML, verbatim
  std::string config_hash;   // the caller's digest of `config` (e.g. SHA-256 hex); may be empty
  std::string host;
  std::string user_name;
  std::string command_line;
  std::string git_commit;
  std::string run_dir;
  std::string hardware;      // e.g. "cpu: 2 cores (Intel Xeon ...)"; "" when unknown
  std::int64_t world_size = 1;
};

struct RunRow {
  std::int64_t id = 0;
  RunInfo info;
  RunStatus status = RunStatus::running;
  std::string started_at;  // ISO-8601 UTC, "2024-05-01T12:34:56.789Z"
  std::string ended_at;    // same format; empty while running
  std::string heartbeat_at;  // last sign of life of a running run (same format); empty before version 4
};

// A run still marked running whose heartbeat (or start, without one) is older than `stale_after`
// has died without saying so (killed by SIGKILL, out of memory, node lost): it is shown as failed.
// `now` is an ISO-8601 UTC time as the store writes them; empty = the current time.
bool is_stale(const RunRow& run, double stale_after_seconds = 600, const std::string& now = "");
// The status to show: "failed" for a stale running run, else the stored one.
std::string_view displayed_status(const RunRow& run, double stale_after_seconds = 600);
// Current UTC time in the store's format, "2024-05-01T12:34:56.789Z".
std::string utc_now();

struct TrainingMetricRow {
  std::int64_t step = 0;
  std::string name;  // "loss", "lr", "images_per_second", "eval/lfw/accuracy"
  double value = 0.0;
};

struct CheckpointRow {
  std::int64_t step = 0;
  std::string path;
  std::string sha256;      // hex digest of the file
  std::string created_at;  // set by the store
  bool best = false;       // the run's best by its periodic evaluation (mark_best_checkpoint)
};

struct EvaluationRow {
  std::int64_t id = 0;
  std::int64_t run_id = 0;
  std::string checkpoint;  // which weights were evaluated: "step_120000", a file, or "features:sha256:<hex>"
  std::string target;      // evaluation set, e.g. "lfw", "ijbc"
  std::string metric;      // e.g. "accuracy", "tar@far=1e-4"
  double value = 0.0;
  std::string created_at;  // ISO-8601 UTC; one evaluation's metrics share it
  std::string protocol;    // e.g. "verification", "rfw", "ijb_1to1", "ijb_1toN", "fruits"; "" before version 3
  std::string conventions; // JSON object of the settings behind the numbers (threshold rule, flip, N/D/F...)
  std::string group;       // demographic or gallery group a metric is about; "" = the whole target
};

// One evaluation: where the numbers came from and every value, written in one transaction.
struct Evaluation {
  std::string checkpoint;
  std::string target;
  std::string protocol;
  std::string conventions = "{}";  // JSON object
  struct Value {
    std::string metric;
    double value = 0.0;
    std::string group;  // "" = the whole target
  };
  std::vector<Value> values;
};

// One training-data source of a run (synthetic-data mixing): what it held after its caps, its target
// share of every batch, and what training actually drew from it.
struct DataSourceRow {
  int position = 0;     // order in data.sources
  std::string name;     // e.g. "real", "dcface"
  std::string kind;     // real | synthetic
  std::string format;   // recordio | folder | list | synthetic
  std::string path;
  std::int64_t identities = 0;
  std::int64_t images = 0;
  std::int64_t images_seen = 0;  // images drawn by training so far
  double share = 0;              // configured fraction of every batch
  double share_achieved = 0;     // images_seen / all images seen
};

// Metric name -> value, written together for one (run, checkpoint, target).
using Metrics = std::vector<std::pair<std::string, double>>;

// Every backend implements this interface; each write is one transaction, so a crash leaves a
// call's rows either all present or all absent. Errors are ff::Error naming the store and cause.
// One object is used from one thread; separate processes may share the store.
class ResultsStore {
 public:
  virtual ~ResultsStore() = default;

  // Inserts a run with status running and started_at = now; returns its id. `name` must be non-empty.
  virtual std::int64_t begin_run(const RunInfo& info) = 0;

  // Moves a running run to `status` (finished, failed or interrupted) and sets ended_at = now.
  // Refused for an unknown id, for status running, and for a run that is not running.
  virtual void finish_run(std::int64_t run_id, RunStatus status) = 0;

  // Moves a failed, interrupted or finished run back to running and clears ended_at.
  virtual void resume_run(std::int64_t run_id) = 0;

  // Writes all values of one evaluation in one transaction with one created_at. Refused, with
  // nothing written, when the run does not exist, there are no values, a metric name is empty, a
  // (group, metric) repeats, a value is not finite, or conventions is not a JSON object.
  // Re-evaluating the same checkpoint adds rows (history is kept).
  virtual void add_evaluation(std::int64_t run_id, const Evaluation& evaluation) = 0;
  // The same for whole-target metrics with protocol "verification" and no conventions recorded.
  void add_evaluation(std::int64_t run_id, const std::string& checkpoint, const std::string& target,
                      const Metrics& metrics);

  // Replaces the run's data-source rows with `sources` in one transaction (written at the start of
  // a run and again with the images seen when it ends). Refused for an unknown run.
  virtual void set_data_sources(std::int64_t run_id, const std::vector<DataSourceRow>& sources) = 0;
  // The run's data sources in data.sources order; empty for an unknown run or one without any.
  virtual std::vector<DataSourceRow> data_sources(std::int64_t run_id) = 0;

  // Training curves: (step, name) -> value; a repeated (step, name) (a resumed run redoing steps)
  // replaces the old value. Refused for an unknown run or a non-finite value.
  virtual void add_training_metrics(std::int64_t run_id, std::int64_t step,
                                    const std::vector<std::pair<std::string, double>>& values) = 0;
  // Ordered by step, then name.
  virtual std::vector<TrainingMetricRow> training_metrics(std::int64_t run_id) = 0;

  // Records a checkpoint file (a path written again replaces its row). Refused for an unknown run.
  virtual void add_checkpoint(std::int64_t run_id, const CheckpointRow& checkpoint) = 0;
  // Ordered by step.
  virtual std::vector<CheckpointRow> checkpoints(std::int64_t run_id) = 0;
  // Marks one recorded checkpoint of the run as its best (and no other).
  virtual void mark_best_checkpoint(std::int64_t run_id, const std::string& path) = 0;

  // Marks a running run alive now (heartbeat_at); a no-op for a run that is not running.
  virtual void heartbeat(std::int64_t run_id) = 0;

  // All runs, oldest first (ascending id).
  virtual std::vector<RunRow> list_runs() = 0;

  // The run with this id, or nullopt.
  virtual std::optional<RunRow> get_run(std::int64_t run_id) = 0;
  // The most recent run (highest id) with this name, or nullopt.
  virtual std::optional<RunRow> get_run(const std::string& name) = 0;

  // The run's evaluations in insertion order; empty for an unknown run.
  virtual std::vector<EvaluationRow> evaluations(std::int64_t run_id) = 0;

  // Where the store lives, for messages ("results.db").
  virtual const std::string& location() const = 0;
};

// Opens (creating if absent) the SQLite store at `path`, e.g. "runs/results.db", in WAL mode with
// foreign keys on. ":memory:" gives a private in-memory store. Refuses a file that is not a
// database, a database with other tables but no FaceForge schema, and a schema newer than
// kSchemaVersion. `path` may also be a results.url (see store_path_from_url).
//
//   auto store = ff::store::open_results_store("runs/results.db");
//   auto id = store->begin_run({.name = "r50", .config = yaml});
//   store->add_evaluation(id, "step_1000", "lfw", {{"accuracy", 0.9957}, {"std", 0.0031}});
//   store->finish_run(id, ff::store::RunStatus::finished);
std::unique_ptr<ResultsStore> open_results_store(const std::string& path);

// results.url -> SQLite file, with SQLAlchemy's spelling: "sqlite:///runs/results.db" is the
// relative path runs/results.db, "sqlite:////data/results.db" the absolute /data/results.db,
// "sqlite:///:memory:" an in-memory store. A string without "://" is a path already. Any other
// scheme is an ff::Error saying that this build has only SQLite.
std::string store_path_from_url(const std::string& url);

}  // namespace ff::store
