// Checks store/sqlite_store.cpp: round trips through a reopened file, status rules, schema guards, atomic writes.
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <fstream>
#include <random>
#include <regex>
#include <string>

#include <catch2/catch.hpp>

#include "src/store/results_store.h"
#include "src/util/error.h"

namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using ff::store::RunStatus;

// A fresh directory per test case, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("ff_store_test_" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// Direct SQLite access, independent of the store, to inspect or prepare files.
struct RawDb {
  sqlite3* db = nullptr;
  explicit RawDb(const std::string& path) { REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK); }
  ~RawDb() { sqlite3_close(db); }
  void exec(const std::string& sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    INFO(sql << ": " << (error ? error : ""));
    sqlite3_free(error);
    REQUIRE(rc == SQLITE_OK);
  }
  std::string text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    std::string value = p ? p : "";
    sqlite3_finalize(stmt);
    return value;
  }
};

ff::store::RunInfo sample_info(const std::string& name) {
  ff::store::RunInfo info;
  info.name = name;
  info.config = "model:\n  backbone: iresnet50\nloss:\n  margin: 0.5\n";
  info.config_hash = "3f2a";
  info.host = "node-07";
  info.user_name = "alice";
  info.command_line = "faceforge train --config r50.yaml";
  info.git_commit = "0123abcd";
  info.run_dir = "runs/" + name;
  return info;
}

bool is_iso_utc(const std::string& text) {
  return std::regex_match(text, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)"));
}

}  // namespace

TEST_CASE("a run and its evaluations survive closing and reopening the store", "[store]") {
  TempDir dir;
  const std::string path = dir.file("results.db");
  // Quotes and a semicolon in a value only round-trip if every statement binds its values.
  const std::string tricky = "it's; DROP TABLE runs; --";
  std::int64_t id = 0;
  {
    auto store = ff::store::open_results_store(path);
    id = store->begin_run(sample_info(tricky));
    store->add_evaluation(id, "step_1000", "lfw", {{"accuracy", 0.99566666}, {"std", 0.0031}});
    store->add_evaluation(id, "step_1000", "cfp_fp", {{"accuracy", 0.9514}});
  }
  auto store = ff::store::open_results_store(path);
  const auto runs = store->list_runs();
  REQUIRE(runs.size() == 1);
  const auto& run = runs[0];
  CHECK(run.id == id);
  CHECK(run.info.name == tricky);
  CHECK(run.info.config == sample_info(tricky).config);
  CHECK(run.info.config_hash == "3f2a");
  CHECK(run.info.host == "node-07");
  CHECK(run.info.user_name == "alice");
  CHECK(run.info.command_line == "faceforge train --config r50.yaml");
  CHECK(run.info.git_commit == "0123abcd");
  CHECK(run.info.run_dir == "runs/" + tricky);
  CHECK(run.status == RunStatus::running);
  CHECK(is_iso_utc(run.started_at));
  CHECK(run.ended_at.empty());

  const auto evals = store->evaluations(id);
  REQUIRE(evals.size() == 3);
  CHECK(evals[0].target == "lfw");
  CHECK(evals[0].metric == "accuracy");
  CHECK(evals[0].value == 0.99566666);
  CHECK(evals[1].metric == "std");
  CHECK(evals[1].value == 0.0031);
  CHECK(evals[2].target == "cfp_fp");
  CHECK(evals[2].checkpoint == "step_1000");
  CHECK(evals[2].run_id == id);
  CHECK(evals[0].created_at == evals[1].created_at);  // one evaluation, one timestamp
  CHECK(is_iso_utc(evals[2].created_at));
  CHECK(store->evaluations(id + 1).empty());

  CHECK(evals[0].protocol == "verification");
  CHECK(evals[0].conventions == "{}");
  CHECK(evals[0].group.empty());

  RawDb raw(path);
  CHECK(raw.text("PRAGMA user_version") == "5");
  CHECK(raw.text("PRAGMA journal_mode") == "wal");
  CHECK(raw.text("SELECT value FROM meta WHERE key = 'schema_version'") == "5");
}

TEST_CASE("run status moves running -> finished/failed/interrupted, and back to running only on resume", "[store]") {
  TempDir dir;
  auto store = ff::store::open_results_store(dir.file("results.db"));
  const auto a = store->begin_run(sample_info("a"));
  store->finish_run(a, RunStatus::finished);
  auto row = store->get_run(a);
  REQUIRE(row);
  CHECK(row->status == RunStatus::finished);
  CHECK(is_iso_utc(row->ended_at));
  CHECK(row->ended_at >= row->started_at);
  CHECK_THROWS_WITH(store->finish_run(a, RunStatus::failed), Contains("cannot finish run 1: it is finished, expected running"));
  CHECK_THROWS_WITH(store->finish_run(a, RunStatus::interrupted), Contains("it is finished, expected running"));
  CHECK(store->get_run(a)->status == RunStatus::finished);  // refused transitions leave the row alone

  const auto b = store->begin_run(sample_info("b"));
  CHECK_THROWS_WITH(store->finish_run(b, RunStatus::running), Contains("with status running"));
  store->finish_run(b, RunStatus::interrupted);
  CHECK(store->get_run(b)->status == RunStatus::interrupted);
  store->resume_run(b);
  row = store->get_run(b);
  CHECK(row->status == RunStatus::running);
  CHECK(row->ended_at.empty());
  store->finish_run(b, RunStatus::failed);
  CHECK(store->get_run(b)->status == RunStatus::failed);
  store->resume_run(a);  // a finished run continued (more epochs, or past train.max_steps)
  CHECK(store->get_run(a)->status == RunStatus::running);
  CHECK_THROWS_WITH(store->resume_run(a), Contains("it is running"));

  CHECK_THROWS_WITH(store->finish_run(999, RunStatus::finished), Contains("cannot finish run 999: no such run"));
  CHECK(ff::store::parse_run_status("interrupted") == RunStatus::interrupted);
  CHECK_THROWS_WITH(ff::store::parse_run_status("done"), Contains("unknown run status 'done'"));
}

TEST_CASE("runs are found by id and by name, the latest run winning a shared name", "[store]") {
  TempDir dir;
  auto store = ff::store::open_results_store(dir.file("results.db"));
  const auto first = store->begin_run(sample_info("r50"));
  const auto other = store->begin_run(sample_info("r100"));
  const auto second = store->begin_run(sample_info("r50"));
  CHECK(first < other);
  CHECK(other < second);
  REQUIRE(store->get_run("r50"));
  CHECK(store->get_run("r50")->id == second);
  CHECK(store->get_run("r100")->id == other);
  CHECK(store->get_run(first)->info.name == "r50");
  CHECK_FALSE(store->get_run("r18"));
  CHECK_FALSE(store->get_run(std::int64_t{42}));
  CHECK(store->list_runs().size() == 3);
  CHECK(store->list_runs()[1].id == other);
  CHECK_THROWS_WITH(store->begin_run(sample_info("")), Contains("without a name"));
}

TEST_CASE("a store written by a newer schema version is refused and left untouched", "[store]") {
  TempDir dir;
  const std::string path = dir.file("future.db");
  {
    RawDb raw(path);
    raw.exec("CREATE TABLE runs (id INTEGER PRIMARY KEY)");
    raw.exec("PRAGMA user_version = 6");
  }
  static_assert(ff::store::kSchemaVersion == 5, "a newer version is 6 here; update this test with the schema");
  CHECK_THROWS_AS(ff::store::open_results_store(path), ff::Error);
  CHECK_THROWS_WITH(ff::store::open_results_store(path),
                    Contains(path) && Contains("schema version 6 is newer than this FaceForge supports (5)"));
  RawDb raw(path);
  CHECK(raw.text("PRAGMA user_version") == "6");
  CHECK(raw.text("PRAGMA journal_mode") == "delete");
}

TEST_CASE("files that are not FaceForge stores are refused with the path", "[store]") {
  TempDir dir;
  const std::string foreign = dir.file("foreign.db");
  {
    RawDb raw(foreign);
    raw.exec("CREATE TABLE photos (id INTEGER)");
  }
  CHECK_THROWS_WITH(ff::store::open_results_store(foreign), Contains("not a FaceForge results store"));

  const std::string text = dir.file("notes.db");
  std::ofstream(text) << "this is a text file, long enough to fill a database header........................\n";
  CHECK_THROWS_WITH(ff::store::open_results_store(text), Contains(text) && Contains("not a database"));

  CHECK_THROWS_WITH(ff::store::open_results_store(dir.file("missing/dir/results.db")), Contains("cannot open"));
}

TEST_CASE("an evaluation of a missing run fails on the foreign key and writes nothing", "[store]") {
  TempDir dir;
  const std::string path = dir.file("results.db");
  auto store = ff::store::open_results_store(path);
  const auto id = store->begin_run(sample_info("r50"));
  CHECK_THROWS_WITH(store->add_evaluation(id + 100, "step_1", "lfw", {{"accuracy", 0.9}, {"std", 0.01}}),
                    Contains(path) && Contains("run 101") && Contains("FOREIGN KEY constraint failed"));
  RawDb raw(path);
  CHECK(raw.text("SELECT count(*) FROM evaluations") == "0");
}

TEST_CASE("one evaluation's metrics are written in one transaction", "[store]") {
  TempDir dir;
  const std::string path = dir.file("results.db");
  auto store = ff::store::open_results_store(path);
  const auto id = store->begin_run(sample_info("r50"));
  {
    // Make the third insert fail inside the database, after two rows went in.
    RawDb raw(path);
    raw.exec("CREATE TRIGGER refuse_boom BEFORE INSERT ON evaluations WHEN NEW.metric = 'boom'"
             " BEGIN SELECT RAISE(ABORT, 'boom rejected'); END");
  }
  CHECK_THROWS_WITH(store->add_evaluation(id, "step_1", "lfw", {{"accuracy", 0.9}, {"std", 0.01}, {"boom", 1.0}}),
                    Contains("boom rejected"));
  CHECK(store->evaluations(id).empty());

  // Refused before touching the database: bad values, repeated names, nothing to write.
  CHECK_THROWS_WITH(store->add_evaluation(id, "step_1", "lfw", {{"accuracy", std::nan("")}}),
                    Contains("metric 'accuracy' is nan"));
  CHECK_THROWS_WITH(store->add_evaluation(id, "step_1", "lfw", {{"accuracy", 0.9}, {"accuracy", 0.8}}),
                    Contains("metric 'accuracy' given twice"));
  CHECK_THROWS_WITH(store->add_evaluation(id, "step_1", "lfw", {}), Contains("no metrics given"));
  CHECK_THROWS_WITH(store->add_evaluation(id, "step_1", "", {{"accuracy", 0.9}}), Contains("target is empty"));
  CHECK(store->evaluations(id).empty());

  store->add_evaluation(id, "step_1", "lfw", {{"accuracy", 0.9}, {"std", 0.01}});
  CHECK(store->evaluations(id).size() == 2);
}

TEST_CASE("an in-memory store works for tools that need no file", "[store]") {
  auto store = ff::store::open_results_store(":memory:");
  const auto id = store->begin_run(sample_info("scratch"));
  store->add_evaluation(id, "final", "agedb_30", {{"accuracy", 0.98}});
  CHECK(store->evaluations(id).size() == 1);
  CHECK(store->location() == ":memory:");
}

TEST_CASE("a run's data sources are stored, replaced as a whole, and survive a version 1 store's upgrade", "[store]") {
  TempDir dir;
  const std::string path = dir.file("v1.db");
  {
    // A version 1 store as the previous FaceForge wrote it: the same tables without data_sources.
    RawDb raw(path);
    raw.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    raw.exec("CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, config TEXT NOT NULL,"
             " config_hash TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT, status TEXT NOT NULL,"
             " host TEXT NOT NULL, user_name TEXT NOT NULL, command_line TEXT NOT NULL, git_commit TEXT NOT NULL,"
             " run_dir TEXT NOT NULL)");
    raw.exec("CREATE TABLE evaluations (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER NOT NULL REFERENCES runs (id),"
             " checkpoint TEXT NOT NULL, target TEXT NOT NULL, metric TEXT NOT NULL, value REAL NOT NULL,"
             " created_at TEXT NOT NULL)");
    raw.exec("INSERT INTO meta VALUES ('schema_version', '1')");
    raw.exec("INSERT INTO runs (name, config, config_hash, started_at, status, host, user_name, command_line, git_commit,"
             " run_dir) VALUES ('old', '', '', '2026-01-01T00:00:00.000Z', 'finished', 'h', 'u', 'c', '', 'd')");
    raw.exec("INSERT INTO evaluations (run_id, checkpoint, target, metric, value, created_at)"
             " VALUES (1, 'step_9', 'lfw', 'accuracy', 0.97, '2026-01-01T00:00:00.000Z')");
    raw.exec("PRAGMA user_version = 1");
  }
  auto store = ff::store::open_results_store(path);
  REQUIRE(store->get_run("old"));  // the old rows are kept, with version 3's defaults
  const auto old_evals = store->evaluations(1);
  REQUIRE(old_evals.size() == 1);
  CHECK(old_evals[0].value == 0.97);
  CHECK(old_evals[0].protocol.empty());
  CHECK(old_evals[0].conventions == "{}");
  CHECK(old_evals[0].group.empty());
  const auto id = store->begin_run(sample_info("mix"));
  ff::store::DataSourceRow real{0, "real", "real", "recordio", "/data/casia", 10572, 490623, 0, 0.7, 0};
  ff::store::DataSourceRow synth{1, "dcface", "synthetic", "recordio", "/data/dcface", 10000, 500000, 0, 0.3, 0};
  store->set_data_sources(id, {real, synth});
  real.images_seen = 896;
  synth.images_seen = 384;
  real.share_achieved = 0.7;
  synth.share_achieved = 0.3;
  store->set_data_sources(id, {real, synth});
  auto rows = store->data_sources(id);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].name == "real");
  CHECK(rows[0].images == 490623);
  CHECK(rows[0].images_seen == 896);
  CHECK(rows[1].kind == "synthetic");
  CHECK(rows[1].share == 0.3);
  CHECK(rows[1].share_achieved == 0.3);
  CHECK(store->data_sources(id + 1).empty());
  CHECK_THROWS_WITH(store->set_data_sources(999, {real}), Contains("the referenced run does not exist"));
  // Version 4's columns and tables exist on the upgraded store; the old run reads world size 1.
  CHECK(store->get_run("old")->info.world_size == 1);
  CHECK(store->get_run("old")->heartbeat_at.empty());
  store->add_training_metrics(1, 5, {{"loss", 2.5}});
  CHECK(store->training_metrics(1).size() == 1);
  // Version 5: checkpoints carry the best flag; marking one clears the others.
  store->add_checkpoint(1, {5, "/tmp/a.pt", "aa", ""});
  store->add_checkpoint(1, {10, "/tmp/b.pt", "bb", ""});
  CHECK_FALSE(store->checkpoints(1)[0].best);
  store->mark_best_checkpoint(1, "/tmp/a.pt");
  store->mark_best_checkpoint(1, "/tmp/b.pt");
  CHECK_FALSE(store->checkpoints(1)[0].best);
  CHECK(store->checkpoints(1)[1].best);
  CHECK_THROWS_WITH(store->mark_best_checkpoint(1, "/tmp/c.pt"), Contains("no such checkpoint is recorded"));
  CHECK(store->checkpoints(1)[1].best);  // the failed mark rolled back
  RawDb raw(path);
  CHECK(raw.text("SELECT count(*) FROM fairness") == "0");
  CHECK(raw.text("PRAGMA user_version") == "5");
  CHECK(raw.text("SELECT value FROM meta WHERE key = 'schema_version'") == "5");
}

TEST_CASE("an evaluation keeps its protocol, conventions and per-group values, all or nothing", "[store]") {
  TempDir dir;
  auto store = ff::store::open_results_store(dir.file("results.db"));
  const auto id = store->begin_run(sample_info("fair"));
  ff::store::Evaluation e{"features:sha256:ab12", "rfw", "rfw", R"({"threshold_rule":"youden","spread":"sample"})", {}};
  e.values = {{"accuracy", 0.95, "African"}, {"accuracy", 0.97, "Caucasian"}, {"ser", 1.66, ""}};
  store->add_evaluation(id, e);
  const auto rows = store->evaluations(id);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].group == "African");
  CHECK(rows[1].group == "Caucasian");
  CHECK(rows[1].metric == "accuracy");
  CHECK(rows[2].group.empty());
  CHECK(rows[2].protocol == "rfw");
  CHECK(rows[0].conventions == e.conventions);
  CHECK(rows[0].checkpoint == "features:sha256:ab12");

  auto bad = e;
  bad.values.push_back({"accuracy", 0.9, "African"});
  CHECK_THROWS_WITH(store->add_evaluation(id, bad), Contains("metric 'accuracy' of group 'African' given twice"));
  bad = e;
  bad.conventions = "[1, 2]";
  CHECK_THROWS_WITH(store->add_evaluation(id, bad), Contains("conventions must be a JSON object, got '[1, 2]'"));
  bad = e;
  bad.values.push_back({"fdr", std::nan(""), ""});
  CHECK_THROWS_WITH(store->add_evaluation(id, bad), Contains("metric 'fdr' is nan"));
  CHECK(store->evaluations(id).size() == 3);  // nothing of the refused evaluations was written
}

TEST_CASE("version 4: hardware, world size, heartbeat, training metrics, checkpoints and the fairness/latency views",
          "[store]") {
  TempDir dir;
  const std::string path = dir.file("v4.db");
  auto store = ff::store::open_results_store("sqlite:///" + path);  // a results.url, relative or absolute
  auto info = sample_info("r50");
  info.hardware = "cpu: 2 cores";
  info.world_size = 8;
  const auto id = store->begin_run(info);
  auto run = *store->get_run(id);
  CHECK(run.info.hardware == "cpu: 2 cores");
  CHECK(run.info.world_size == 8);
  CHECK(run.heartbeat_at == run.started_at);
  store->add_training_metrics(id, 20, {{"loss", 3.5}, {"lr", 0.1}});
  store->add_training_metrics(id, 10, {{"loss", 5.0}});
  store->add_training_metrics(id, 20, {{"loss", 3.25}});  // a resumed run redoing step 20 replaces it
  auto curves = store->training_metrics(id);
  REQUIRE(curves.size() == 3);
  CHECK((curves[0].step == 10 && curves[0].name == "loss" && curves[0].value == 5.0));
  CHECK((curves[1].step == 20 && curves[1].name == "loss" && curves[1].value == 3.25));
  CHECK((curves[2].step == 20 && curves[2].name == "lr"));
  CHECK_THROWS_WITH(store->add_training_metrics(id, 30, {{"loss", std::nan("")}}), Contains("metric 'loss' is nan"));
  CHECK_THROWS_WITH(store->add_training_metrics(999, 1, {{"loss", 1.0}}), Contains("the referenced run does not exist"));
  store->add_checkpoint(id, {20, "runs/r50/checkpoints/step_20.pt", "aa11", ""});
  store->add_checkpoint(id, {10, "runs/r50/checkpoints/step_10.pt", "bb22", ""});
  auto checkpoints = store->checkpoints(id);
  REQUIRE(checkpoints.size() == 2);
  CHECK(checkpoints[0].step == 10);
  CHECK(checkpoints[1].sha256 == "aa11");
  CHECK(is_iso_utc(checkpoints[1].created_at));
  ff::store::Evaluation rfw{"step_20", "rfw", "rfw", "{}", {{"fdr", 0.9, ""}, {"fmr", 0.001, "African"}}};
  ff::store::Evaluation fruits{"step_20", "lfw", "fruits", "{}", {{"latency_ms", 42.0, "1 thread"}}};
  store->add_evaluation(id, rfw);
  store->add_evaluation(id, fruits);
  RawDb raw(path);
  CHECK(raw.text("SELECT group_name || ':' || metric FROM fairness") == "African:fmr");
  CHECK(raw.text("SELECT threads || ':' || value FROM latency") == "1 thread:42.0");
  CHECK(raw.text("SELECT count(*) FROM fairness") == "1");
  // results.url spellings.
  CHECK(ff::store::store_path_from_url("sqlite:///runs/results.db") == "runs/results.db");
  CHECK(ff::store::store_path_from_url("sqlite:////data/results.db") == "/data/results.db");
  CHECK(ff::store::store_path_from_url("runs/results.db") == "runs/results.db");
  CHECK_THROWS_WITH(ff::store::store_path_from_url("postgresql://db/results"),
                    Contains("scheme 'postgresql' is not supported"));
}

TEST_CASE("a running run whose heartbeat is older than the limit shows as failed", "[store]") {
  ff::store::RunRow run;
  run.status = RunStatus::running;
  run.started_at = "2026-01-01T00:00:00.000Z";
  run.heartbeat_at = "2026-01-01T01:00:00.500Z";
  CHECK_FALSE(ff::store::is_stale(run, 600, "2026-01-01T01:10:00.000Z"));  // 599.5 s
  CHECK(ff::store::is_stale(run, 600, "2026-01-01T01:10:01.000Z"));        // 600.5 s
  run.heartbeat_at.clear();                                                 // version 3 rows: the start counts
  CHECK(ff::store::is_stale(run, 600, "2026-01-01T00:10:01.000Z"));
  run.status = RunStatus::finished;
  CHECK_FALSE(ff::store::is_stale(run, 0, "2030-01-01T00:00:00.000Z"));
  // A live run's heartbeat moves forward; a finished one's does not.
  TempDir dir;
  auto store = ff::store::open_results_store(dir.file("h.db"));
  const auto id = store->begin_run(sample_info("live"));
  const std::string first = store->get_run(id)->heartbeat_at;
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  store->heartbeat(id);
  CHECK(store->get_run(id)->heartbeat_at > first);
  CHECK(ff::store::displayed_status(*store->get_run(id), 600) == "running");
  store->finish_run(id, RunStatus::finished);
  const std::string last = store->get_run(id)->heartbeat_at;
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  store->heartbeat(id);
  CHECK(store->get_run(id)->heartbeat_at == last);
}

TEST_CASE("readers on other connections see whole evaluations while a run writes", "[store]") {
  // One writer connection adds 150 evaluations of 4 values each (one transaction each) and training
  // metrics; two reader connections poll meanwhile. WAL lets them read without waiting, and a
  // transaction is seen whole or not at all: every count read is a multiple of 4 and never drops.
  TempDir dir;
  const std::string path = dir.file("concurrent.db");
  const auto id = ff::store::open_results_store(path)->begin_run(sample_info("busy"));
  std::atomic<bool> done{false};
  std::atomic<int> ready{0};  // the writer starts once both readers have their connection open
  std::thread writer([&] {
    auto store = ff::store::open_results_store(path);
    while (ready < 2) std::this_thread::yield();
    for (int i = 0; i < 150; ++i) {
      ff::store::Evaluation e{"step_" + std::to_string(i), "lfw", "verification", "{}", {}};
      e.values = {{"accuracy", 0.9, ""}, {"eer", 0.1, ""}, {"auc", 0.95, ""}, {"threshold", 0.3, ""}};
      store->add_evaluation(id, e);
      store->add_training_metrics(id, i, {{"loss", 1.0 / (i + 1)}});
    }
    done = true;
  });
  std::atomic<int> reads{0};
  std::atomic<bool> whole{true}, monotonic{true};
  std::vector<std::thread> readers;
  std::atomic<int> failures{0};
  for (int r = 0; r < 2; ++r)
    readers.emplace_back([&] {
      auto store = ff::store::open_results_store(path);
      size_t last = 0;
      ++ready;
      while (!done) {
        try {
          const size_t n = store->evaluations(id).size();
          if (n % 4 != 0) whole = false;
          if (n < last) monotonic = false;
          last = n;
          ++reads;
        } catch (...) {
          ++failures;
        }
      }
    });
  writer.join();
  for (auto& t : readers) t.join();
  CHECK(failures == 0);
  CHECK(whole);
  CHECK(monotonic);
  CHECK(reads > 10);
  CHECK(ff::store::open_results_store(path)->evaluations(id).size() == 600);
}
