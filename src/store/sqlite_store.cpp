// SQLite backend of the results store; the only translation unit that includes sqlite3.h.
#include <sqlite3.h>

#include <cmath>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "src/store/results_store.h"
#include "src/util/error.h"

namespace ff::store {

namespace {

// Version 1 schema, one statement per entry because sqlite3_prepare_v2 compiles one at a time.
// AUTOINCREMENT so that a run id, once handed out (and written into a run folder), is never reused.
constexpr const char* kSchemaV1[] = {
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE runs ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " name TEXT NOT NULL,"
    " config TEXT NOT NULL,"
    " config_hash TEXT NOT NULL,"
    " started_at TEXT NOT NULL,"
    " ended_at TEXT,"
    " status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'interrupted')),"
    " host TEXT NOT NULL,"
    " user_name TEXT NOT NULL,"
    " command_line TEXT NOT NULL,"
    " git_commit TEXT NOT NULL,"
    " run_dir TEXT NOT NULL)",
    "CREATE INDEX runs_by_name ON runs (name)",
    "CREATE TABLE evaluations ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " run_id INTEGER NOT NULL REFERENCES runs (id),"
    " checkpoint TEXT NOT NULL,"
    " target TEXT NOT NULL,"
    " metric TEXT NOT NULL,"
    " value REAL NOT NULL,"
    " created_at TEXT NOT NULL)",
    "CREATE INDEX evaluations_by_run ON evaluations (run_id)",
};

// Version 2: per-run training-data sources (one row per data.sources entry).
constexpr const char* kSchemaV2[] = {
    "CREATE TABLE data_sources ("
    " run_id INTEGER NOT NULL REFERENCES runs (id),"
    " position INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " format TEXT NOT NULL,"
    " path TEXT NOT NULL,"
    " identities INTEGER NOT NULL,"
    " images INTEGER NOT NULL,"
    " images_seen INTEGER NOT NULL,"
    " share REAL NOT NULL,"
    " share_achieved REAL NOT NULL,"
    " PRIMARY KEY (run_id, position))",
};

// Version 3: what produced each evaluation row and which group it describes. Rows from older
// stores keep '' (protocol, group) and '{}' (conventions).
constexpr const char* kSchemaV3[] = {
    "ALTER TABLE evaluations ADD COLUMN protocol TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE evaluations ADD COLUMN conventions TEXT NOT NULL DEFAULT '{}'",
    "ALTER TABLE evaluations ADD COLUMN group_name TEXT NOT NULL DEFAULT ''",
};

// Version 4: where a run ran and whether it is alive, its training curves and checkpoint files, and
// views that give fairness and latency figures their own names.
constexpr const char* kSchemaV4[] = {
    "ALTER TABLE runs ADD COLUMN hardware TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE runs ADD COLUMN world_size INTEGER NOT NULL DEFAULT 1",
    "ALTER TABLE runs ADD COLUMN heartbeat_at TEXT",
    "CREATE TABLE training_metrics ("
    " run_id INTEGER NOT NULL REFERENCES runs (id),"
    " step INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " value REAL NOT NULL,"
    " PRIMARY KEY (run_id, step, name))",
    "CREATE TABLE checkpoints ("
    " run_id INTEGER NOT NULL REFERENCES runs (id),"
    " step INTEGER NOT NULL,"
    " path TEXT NOT NULL,"
    " sha256 TEXT NOT NULL,"
    " created_at TEXT NOT NULL,"
    " PRIMARY KEY (run_id, path))",
    // Per-group verification values (RFW races, eval.groups) and FRUITS latency rows.
    "CREATE VIEW fairness AS SELECT id, run_id, checkpoint, target, protocol, group_name, metric, value, created_at"
    " FROM evaluations WHERE group_name <> '' AND protocol IN ('rfw', 'verification')",
    "CREATE VIEW latency AS SELECT id, run_id, checkpoint, target, group_name AS threads, metric, value, created_at"
    " FROM evaluations WHERE protocol = 'fruits'",
};

// Version 5: the checkpoint a run's periodic evaluation found best (at most one per run).
constexpr const char* kSchemaV5[] = {
    "ALTER TABLE checkpoints ADD COLUMN best INTEGER NOT NULL DEFAULT 0",
};

constexpr const char* kRunColumns =
    "id, name, config, config_hash, host, user_name, command_line, git_commit, run_dir, status, started_at, ended_at,"
    " hardware, world_size, heartbeat_at";

// A prepared statement; binds are 1-based as in SQLite. Failures name the store and the action.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& path, const char* sql) : db_(db), path_(path) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      fail("results store {}: cannot prepare '{}': {}", path_, sql, sqlite3_errmsg(db));
    }
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  Statement& bind(int index, std::int64_t value) { return check(sqlite3_bind_int64(stmt_, index, value)); }
  Statement& bind(int index, double value) { return check(sqlite3_bind_double(stmt_, index, value)); }
  Statement& bind(int index, std::string_view value) {
    return check(sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT));
  }
  Statement& bind_null(int index) { return check(sqlite3_bind_null(stmt_, index)); }

  // True while a row is available; throws with `action` in the message on any error.
  bool step(std::string_view action) {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    last_error_ = sqlite3_extended_errcode(db_);
    const std::string message = sqlite3_errmsg(db_);
    sqlite3_reset(stmt_);
    throw_error(action, message);
  }
  void run(std::string_view action) {
    while (step(action)) {
    }
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  std::int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  double real(int column) const { return sqlite3_column_double(stmt_, column); }
  std::string text(int column) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))) : std::string();
  }
  int last_error() const { return last_error_; }

 private:
  Statement& check(int rc) {
    if (rc != SQLITE_OK) fail("results store {}: cannot bind a value: {}", path_, sqlite3_errmsg(db_));
    return *this;
  }
  [[noreturn]] void throw_error(std::string_view action, const std::string& message) {
    if (last_error_ == SQLITE_CONSTRAINT_FOREIGNKEY) {
      fail("results store {}: {}: the referenced run does not exist ({})", path_, action, message);
    }
    fail("results store {}: {}: {}", path_, action, message);
  }

  sqlite3* db_;
  const std::string& path_;
  sqlite3_stmt* stmt_ = nullptr;
  int last_error_ = SQLITE_OK;
};

// BEGIN IMMEDIATE takes the write lock up front, so a concurrent writer waits (busy timeout)
// instead of failing mid-transaction; anything not committed is rolled back on scope exit.
class Transaction {
 public:
  Transaction(sqlite3* db, const std::string& path) : db_(db), path_(path) {
    Statement(db_, path_, "BEGIN IMMEDIATE").run("cannot start a transaction");
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    Statement(db_, path_, "COMMIT").run("cannot commit");
    open_ = false;
  }
  ~Transaction() {
    if (!open_) return;
    // Already unwinding from the real error; a failed rollback must not replace it.
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, "ROLLBACK", -1, &stmt, nullptr) == SQLITE_OK) sqlite3_step(stmt);
    sqlite3_finalize(stmt);
  }

 private:
  sqlite3* db_;
  const std::string& path_;
  bool open_ = true;
};

RunRow read_run(const Statement& s) {
  RunRow row;
  row.id = s.int64(0);
  row.info.name = s.text(1);
  row.info.config = s.text(2);
  row.info.config_hash = s.text(3);
  row.info.host = s.text(4);
  row.info.user_name = s.text(5);
  row.info.command_line = s.text(6);
  row.info.git_commit = s.text(7);
  row.info.run_dir = s.text(8);
  row.status = parse_run_status(s.text(9));
  row.started_at = s.text(10);
  row.ended_at = s.text(11);
  row.info.hardware = s.text(12);
  row.info.world_size = s.int64(13);
  row.heartbeat_at = s.text(14);
  return row;
}

class SqliteStore final : public ResultsStore {
 public:
  explicit SqliteStore(const std::string& path) : path_(path) {
    const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    if (rc != SQLITE_OK) {
      const std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      fail("results store {}: cannot open: {}", path_, message);
    }
    try {
      initialise();
    } catch (...) {
      sqlite3_close(db_);
      throw;
    }
  }
  ~SqliteStore() override { sqlite3_close(db_); }

  std::int64_t begin_run(const RunInfo& info) override {
    if (info.name.empty()) fail("results store {}: cannot begin a run without a name", path_);
    Transaction tx(db_, path_);
    Statement s(db_, path_,
                "INSERT INTO runs (name, config, config_hash, started_at, ended_at, status, host, user_name,"
                " command_line, git_commit, run_dir, hardware, world_size, heartbeat_at)"
                " VALUES (?, ?, ?, ?, NULL, 'running', ?, ?, ?, ?, ?, ?, ?, ?)");
    const std::string now = utc_now();
    s.bind(1, std::string_view(info.name))
        .bind(2, std::string_view(info.config))
        .bind(3, std::string_view(info.config_hash))
        .bind(4, std::string_view(now))
        .bind(5, std::string_view(info.host))
        .bind(6, std::string_view(info.user_name))
        .bind(7, std::string_view(info.command_line))
        .bind(8, std::string_view(info.git_commit))
        .bind(9, std::string_view(info.run_dir))
        .bind(10, std::string_view(info.hardware))
        .bind(11, info.world_size)
        .bind(12, std::string_view(now));
    s.run(fmt::format("cannot begin run '{}'", info.name));
    const std::int64_t id = sqlite3_last_insert_rowid(db_);
    tx.commit();
    return id;
  }

  void finish_run(std::int64_t run_id, RunStatus status) override {
    if (status == RunStatus::running) {
      fail("results store {}: cannot finish run {} with status running; use finished, failed or interrupted", path_,
           run_id);
    }
    transition(run_id, {RunStatus::running}, status, "finish");
  }

  void resume_run(std::int64_t run_id) override {
    // A finished run may be continued too (train.resume from it: more epochs, or past max_steps).
    transition(run_id, {RunStatus::failed, RunStatus::interrupted, RunStatus::finished}, RunStatus::running, "resume");
  }

  using ResultsStore::add_evaluation;
  void add_evaluation(std::int64_t run_id, const Evaluation& e) override {
    const std::string what = fmt::format("cannot add evaluation of run {} (checkpoint '{}', target '{}')", run_id,
                                         e.checkpoint, e.target);
    if (e.checkpoint.empty()) fail("results store {}: {}: checkpoint is empty", path_, what);
    if (e.target.empty()) fail("results store {}: {}: target is empty", path_, what);
    if (e.values.empty()) fail("results store {}: {}: no metrics given", path_, what);
    if (auto j = nlohmann::json::parse(e.conventions, nullptr, false); j.is_discarded() || !j.is_object())
      fail("results store {}: {}: conventions must be a JSON object, got '{}'", path_, what, e.conventions);
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& v : e.values) {
      const std::string where = v.group.empty() ? "" : fmt::format(" of group '{}'", v.group);
      if (v.metric.empty()) fail("results store {}: {}: a metric name{} is empty", path_, what, where);
      if (!seen.insert({v.group, v.metric}).second)
        fail("results store {}: {}: metric '{}'{} given twice", path_, what, v.metric, where);
      // SQLite would store NaN as NULL; refuse it here with the metric's name instead.
      if (!std::isfinite(v.value)) fail("results store {}: {}: metric '{}'{} is {}", path_, what, v.metric, where, v.value);
    }

    const std::string now = utc_now();
    Transaction tx(db_, path_);
    Statement s(db_, path_,
                "INSERT INTO evaluations (run_id, checkpoint, target, metric, value, created_at, protocol, conventions,"
                " group_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (const auto& v : e.values) {
      s.bind(1, run_id)
          .bind(2, std::string_view(e.checkpoint))
          .bind(3, std::string_view(e.target))
          .bind(4, std::string_view(v.metric))
          .bind(5, v.value)
          .bind(6, std::string_view(now))
          .bind(7, std::string_view(e.protocol))
          .bind(8, std::string_view(e.conventions))
          .bind(9, std::string_view(v.group));
      s.run(what);
      s.reset();
    }
    tx.commit();
  }

  void set_data_sources(std::int64_t run_id, const std::vector<DataSourceRow>& sources) override {
    const std::string what = fmt::format("cannot record the data sources of run {}", run_id);
    for (const auto& d : sources)
      if (!std::isfinite(d.share) || !std::isfinite(d.share_achieved))
        fail("results store {}: {}: source '{}' has a share that is not a number", path_, what, d.name);
    Transaction tx(db_, path_);
    Statement clear(db_, path_, "DELETE FROM data_sources WHERE run_id = ?");
    clear.bind(1, run_id);
    clear.run(what);
    Statement s(db_, path_,
                "INSERT INTO data_sources (run_id, position, name, kind, format, path, identities, images, images_seen,"
                " share, share_achieved) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (const auto& d : sources) {
      s.bind(1, run_id)
          .bind(2, static_cast<std::int64_t>(d.position))
          .bind(3, std::string_view(d.name))
          .bind(4, std::string_view(d.kind))
          .bind(5, std::string_view(d.format))
          .bind(6, std::string_view(d.path))
          .bind(7, d.identities)
          .bind(8, d.images)
          .bind(9, d.images_seen)
          .bind(10, d.share)
          .bind(11, d.share_achieved);
      s.run(what);
      s.reset();
    }
    tx.commit();
  }

  std::vector<DataSourceRow> data_sources(std::int64_t run_id) override {
    Statement s(db_, path_,
                "SELECT position, name, kind, format, path, identities, images, images_seen, share, share_achieved"
                " FROM data_sources WHERE run_id = ? ORDER BY position");
    s.bind(1, run_id);
    std::vector<DataSourceRow> rows;
    while (s.step(fmt::format("cannot read the data sources of run {}", run_id)))
      rows.push_back({static_cast<int>(s.int64(0)), s.text(1), s.text(2), s.text(3), s.text(4), s.int64(5), s.int64(6),
                      s.int64(7), s.real(8), s.real(9)});
    return rows;
  }

  void add_training_metrics(std::int64_t run_id, std::int64_t step,
                            const std::vector<std::pair<std::string, double>>& values) override {
    const std::string what = fmt::format("cannot add training metrics of run {} at step {}", run_id, step);
    for (const auto& [name, value] : values) {
      if (name.empty()) fail("results store {}: {}: a metric name is empty", path_, what);
      if (!std::isfinite(value)) fail("results store {}: {}: metric '{}' is {}", path_, what, name, value);
    }
    Transaction tx(db_, path_);
    Statement s(db_, path_, "INSERT OR REPLACE INTO training_metrics (run_id, step, name, value) VALUES (?, ?, ?, ?)");
    for (const auto& [name, value] : values) {
      s.bind(1, run_id).bind(2, step).bind(3, std::string_view(name)).bind(4, value);
      s.run(what);
      s.reset();
    }
    tx.commit();
  }

  std::vector<TrainingMetricRow> training_metrics(std::int64_t run_id) override {
    Statement s(db_, path_, "SELECT step, name, value FROM training_metrics WHERE run_id = ? ORDER BY step, name");
    s.bind(1, run_id);
    std::vector<TrainingMetricRow> rows;
    while (s.step(fmt::format("cannot read training metrics of run {}", run_id)))
      rows.push_back({s.int64(0), s.text(1), s.real(2)});
    return rows;
  }

  void add_checkpoint(std::int64_t run_id, const CheckpointRow& c) override {
    const std::string what = fmt::format("cannot record checkpoint {} of run {}", c.path, run_id);
    if (c.path.empty()) fail("results store {}: {}: the path is empty", path_, what);
    Transaction tx(db_, path_);
    Statement s(db_, path_,
                "INSERT OR REPLACE INTO checkpoints (run_id, step, path, sha256, created_at) VALUES (?, ?, ?, ?, ?)");
    s.bind(1, run_id).bind(2, c.step).bind(3, std::string_view(c.path)).bind(4, std::string_view(c.sha256));
    s.bind(5, std::string_view(utc_now()));
    s.run(what);
    tx.commit();
  }

  std::vector<CheckpointRow> checkpoints(std::int64_t run_id) override {
    Statement s(db_, path_,
                "SELECT step, path, sha256, created_at, best FROM checkpoints WHERE run_id = ? ORDER BY step, path");
    s.bind(1, run_id);
    std::vector<CheckpointRow> rows;
    while (s.step(fmt::format("cannot read checkpoints of run {}", run_id)))
      rows.push_back({s.int64(0), s.text(1), s.text(2), s.text(3), s.int64(4) != 0});
    return rows;
  }

  void mark_best_checkpoint(std::int64_t run_id, const std::string& path) override {
    const std::string what = fmt::format("cannot mark checkpoint {} of run {} best", path, run_id);
    Transaction tx(db_, path_);
    Statement(db_, path_, "UPDATE checkpoints SET best = 0 WHERE run_id = ?").bind(1, run_id).run(what);
    Statement mark(db_, path_, "UPDATE checkpoints SET best = 1 WHERE run_id = ? AND path = ?");
    mark.bind(1, run_id).bind(2, std::string_view(path)).run(what);
    if (sqlite3_changes(db_) != 1) fail("results store {}: {}: no such checkpoint is recorded", path_, what);
    tx.commit();
  }

  void heartbeat(std::int64_t run_id) override {
    Transaction tx(db_, path_);
    Statement s(db_, path_, "UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'running'");
    s.bind(1, std::string_view(utc_now())).bind(2, run_id);
    s.run(fmt::format("cannot record a heartbeat of run {}", run_id));
    tx.commit();
  }

  std::vector<RunRow> list_runs() override {
    Statement s(db_, path_, fmt::format("SELECT {} FROM runs ORDER BY id", kRunColumns).c_str());
    std::vector<RunRow> rows;
    while (s.step("cannot list runs")) rows.push_back(read_run(s));
    return rows;
  }

  std::optional<RunRow> get_run(std::int64_t run_id) override {
    Statement s(db_, path_, fmt::format("SELECT {} FROM runs WHERE id = ?", kRunColumns).c_str());
    s.bind(1, run_id);
    if (!s.step(fmt::format("cannot read run {}", run_id))) return std::nullopt;
    return read_run(s);
  }

  std::optional<RunRow> get_run(const std::string& name) override {
    Statement s(db_, path_,
                fmt::format("SELECT {} FROM runs WHERE name = ? ORDER BY id DESC LIMIT 1", kRunColumns).c_str());
    s.bind(1, std::string_view(name));
    if (!s.step(fmt::format("cannot read run '{}'", name))) return std::nullopt;
    return read_run(s);
  }

  std::vector<EvaluationRow> evaluations(std::int64_t run_id) override {
    Statement s(db_, path_,
                "SELECT id, run_id, checkpoint, target, metric, value, created_at, protocol, conventions, group_name"
                " FROM evaluations WHERE run_id = ? ORDER BY id");
    s.bind(1, run_id);
    std::vector<EvaluationRow> rows;
    while (s.step(fmt::format("cannot read evaluations of run {}", run_id))) {
      rows.push_back({s.int64(0), s.int64(1), s.text(2), s.text(3), s.text(4), s.real(5), s.text(6), s.text(7), s.text(8),
                      s.text(9)});
    }
    return rows;
  }

  const std::string& location() const override { return path_; }

 private:
  std::int64_t scalar(const char* sql, std::string_view action) {
    Statement s(db_, path_, sql);
    if (!s.step(action)) fail("results store {}: {}: no result", path_, action);
    return s.int64(0);
  }

  void check_version(std::int64_t version) {
    if (version > kSchemaVersion) {
      fail("results store {}: schema version {} is newer than this FaceForge supports ({}); open it with a newer "
           "FaceForge",
           path_, version, kSchemaVersion);
    }
    if (version < 0) {
      fail("results store {}: schema version {} is not supported (expected {})", path_, version, kSchemaVersion);
    }
  }

  void initialise() {
    sqlite3_extended_result_codes(db_, 1);
    // Another process (an evaluation next to a training run) may hold the write lock briefly.
    sqlite3_busy_timeout(db_, 10000);
    // Read the version before changing anything: a newer store must be left exactly as it is.
    // This is also the first read, so a file that is not a database fails here.
    check_version(scalar("PRAGMA user_version", "cannot read the schema version"));

    std::string mode;
    {
      Statement wal(db_, path_, "PRAGMA journal_mode = WAL");
      if (!wal.step("cannot enable WAL mode")) fail("results store {}: cannot enable WAL mode: no result", path_);
      mode = wal.text(0);
    }
    if (mode != "wal" && mode != "memory") {
      fail("results store {}: cannot enable WAL mode (journal mode is '{}'); is the file on a network filesystem?",
           path_, mode);
    }
    Statement(db_, path_, "PRAGMA foreign_keys = ON").run("cannot enable foreign keys");
    if (scalar("PRAGMA foreign_keys", "cannot read foreign_keys") != 1) {
      fail("results store {}: this SQLite build cannot enforce foreign keys", path_);
    }

    Transaction tx(db_, path_);
    // Re-read under the write lock: another process may have created the schema meanwhile.
    const std::int64_t version = scalar("PRAGMA user_version", "cannot read the schema version");
    check_version(version);
    if (version == kSchemaVersion) return;  // the transaction rolls back: nothing was written
    if (version >= 1) {  // an older store: add what each later version added, keep every row
      if (version < 2)
        for (const char* sql : kSchemaV2) Statement(db_, path_, sql).run("cannot upgrade the schema to version 2");
      if (version < 3)
        for (const char* sql : kSchemaV3) Statement(db_, path_, sql).run("cannot upgrade the schema to version 3");
      if (version < 4)
        for (const char* sql : kSchemaV4) Statement(db_, path_, sql).run("cannot upgrade the schema to version 4");
      if (version < 5)
        for (const char* sql : kSchemaV5) Statement(db_, path_, sql).run("cannot upgrade the schema to version 5");
      Statement meta(db_, path_, "UPDATE meta SET value = ? WHERE key = 'schema_version'");
      meta.bind(1, std::string_view(std::to_string(kSchemaVersion))).run("cannot upgrade meta");
      Statement(db_, path_, fmt::format("PRAGMA user_version = {}", kSchemaVersion).c_str())
          .run("cannot set the schema version");
      tx.commit();
      return;
    }
    if (scalar("SELECT count(*) FROM sqlite_master", "cannot inspect the schema") != 0) {
      fail("results store {}: not a FaceForge results store (it has tables but schema version 0)", path_);
    }
    for (const char* sql : kSchemaV1) Statement(db_, path_, sql).run("cannot create the schema");
    for (const char* sql : kSchemaV2) Statement(db_, path_, sql).run("cannot create the schema");
    for (const char* sql : kSchemaV3) Statement(db_, path_, sql).run("cannot create the schema");
    for (const char* sql : kSchemaV4) Statement(db_, path_, sql).run("cannot create the schema");
    for (const char* sql : kSchemaV5) Statement(db_, path_, sql).run("cannot create the schema");
    Statement meta(db_, path_, "INSERT INTO meta (key, value) VALUES (?, ?)");
    const std::pair<std::string, std::string> entries[] = {
        {"schema_version", std::to_string(kSchemaVersion)}, {"created_at", utc_now()}, {"created_by", "FaceForge"}};
    for (const auto& [key, value] : entries) {
      meta.bind(1, std::string_view(key)).bind(2, std::string_view(value));
      meta.run("cannot write meta");
      meta.reset();
    }
    // PRAGMA takes no bound parameters; the value is a compile-time constant.
    Statement(db_, path_, fmt::format("PRAGMA user_version = {}", kSchemaVersion).c_str())
        .run("cannot set the schema version");
    tx.commit();
  }

  // Status change guarded by the current status, read and written in one transaction so two
  // processes cannot both finish the same run.
  void transition(std::int64_t run_id, std::initializer_list<RunStatus> from, RunStatus to, std::string_view verb) {
    const std::string what = fmt::format("cannot {} run {}", verb, run_id);
    Transaction tx(db_, path_);
    Statement read(db_, path_, "SELECT status FROM runs WHERE id = ?");
    read.bind(1, run_id);
    if (!read.step(what)) fail("results store {}: {}: no such run", path_, what);
    const RunStatus current = parse_run_status(read.text(0));
    read.reset();  // a statement still holding a row would block COMMIT
    bool allowed = false;
    std::string expected;
    for (RunStatus s : from) {
      allowed = allowed || s == current;
      expected += (expected.empty() ? "" : " or ") + std::string(to_string(s));
    }
    if (!allowed) fail("results store {}: {}: it is {}, expected {}", path_, what, to_string(current), expected);
    Statement write(db_, path_, "UPDATE runs SET status = ?, ended_at = ? WHERE id = ?");
    write.bind(1, to_string(to));
    if (to == RunStatus::running) write.bind_null(2);
    else write.bind(2, std::string_view(utc_now()));
    write.bind(3, run_id);
    write.run(what);
    tx.commit();
  }

  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace

std::unique_ptr<ResultsStore> open_results_store(const std::string& path) {
  return std::make_unique<SqliteStore>(store_path_from_url(path));
}

}  // namespace ff::store
