// `faceforge results list | show | compare | export | best` on a fixture store written here, and a
// real training run interrupted by SIGINT (marked interrupted) and one killed by SIGKILL (shown
// failed once its heartbeat is stale).
#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "../store/fixture_store.h"
#include "src/store/results_store.h"
#include "support.h"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

// Lines of `text` that are table rows (after the header and its rule).
std::vector<std::string> rows_of(const std::string& text) {
  std::vector<std::string> rows;
  std::istringstream in(text);
  std::string line;
  int seen_rule = 0;
  while (std::getline(in, line)) {
    if (line.rfind("--", 0) == 0) {
      ++seen_rule;
      continue;
    }
    if (seen_rule == 1 && !line.empty() && line[0] != '(') rows.push_back(line);
  }
  return rows;
}

}  // namespace

TEST_CASE("results list/show/compare/export/best on a fixture store: tables, filters, sorting, JSON and CSV",
          "[cli][store]") {
  ff::test::TempDir dir("results-cli");
  const std::string db = (dir / "results.db").string();
  auto ids = ff::test::write_fixture_store(db);
  const std::string ff = ff::test::faceforge_binary() + " results ";
  const std::string at = " --db " + db;

  auto listed = ff::test::run_command(ff + "list" + at);
  INFO(listed.output);
  REQUIRE(listed.exit_code == 0);
  auto rows = rows_of(listed.output);
  REQUIRE(rows.size() == 3);
  CHECK_THAT(rows[0], Contains("r50_arcface") && Contains("finished") && Contains("0.995"));
  CHECK_THAT(rows[2], Contains("mbf_killed") && Contains("running"));
  // Columns line up: every row is as long as the header up to the last column.
  CHECK(listed.output.find("id  name") == 0);

  auto sorted = ff::test::run_command(ff + "list --where target=ijbc --sort tar@far=1e-4" + at);
  INFO(sorted.output);
  rows = rows_of(sorted.output);
  REQUIRE(rows.size() == 2);  // the killed run has no IJB-C figure
  CHECK_THAT(rows[0], Contains("r50_cosface") && Contains("0.962"));
  CHECK_THAT(rows[1], Contains("r50_arcface") && Contains("0.955"));
  rows = rows_of(ff::test::run_command(ff + "list --sort eer --limit 1" + at).output);  // lower EER first
  REQUIRE(rows.size() == 1);
  CHECK_THAT(rows[0], Contains("r50_cosface"));
  auto json = nlohmann::json::parse(ff::test::run_command(ff + "list --where 'name=r50_*' --format json" + at).output);
  REQUIRE(json.size() == 2);
  CHECK(json[0]["value"] == 0.9950);
  CHECK(json[0]["world_size"] == 2);
  // A killed run stays "running" in the store; once its heartbeat is stale it shows as failed.
  json = nlohmann::json::parse(ff::test::run_command(ff + "list --where 'name=mbf*' --stale-after 0 --format json" + at).output);
  REQUIRE(json.size() == 1);
  CHECK(json[0]["status"] == "failed");
  CHECK(json[0]["stored_status"] == "running");
  CHECK(nlohmann::json::parse(ff::test::run_command(ff + "list --where status=failed --stale-after 0 --format json" + at).output).size() == 1);

  auto shown = ff::test::run_command(ff + "show r50_arcface" + at);
  INFO(shown.output);
  REQUIRE(shown.exit_code == 0);
  CHECK_THAT(shown.output, Contains("hardware:  cpu: 2 cores") && Contains("ranks:     2") && Contains("tar@far=1e-4") &&
                               Contains("African") && Contains("ab12cd34ef56ab12") && Contains("dcface") &&
                               Contains("up to step 30") && Contains("ROC points"));
  auto shown_json = nlohmann::json::parse(ff::test::run_command(ff + "show " + std::to_string(ids.cosface) + " --format json" + at).output);
  CHECK(shown_json["name"] == "r50_cosface");
  CHECK(shown_json["checkpoints"].size() == 1);
  CHECK(shown_json["training_metrics"].size() == 9);

  auto compared = ff::test::run_command(ff + "compare r50_arcface r50_cosface" + at);
  INFO(compared.output);
  REQUIRE(compared.exit_code == 0);
  CHECK_THAT(compared.output, Contains("loss.head") && Contains("arcface") && Contains("cosface"));
  CHECK(compared.output.find("optim.lr") == std::string::npos);     // equal in both: not a difference
  CHECK(compared.output.find("roc@far") == std::string::npos);      // ROC points are left out
  bool marked = false;
  for (const auto& row : rows_of(compared.output.substr(compared.output.find("metrics"))))
    if (row.find("ijbc / tar@far=1e-4") == 0) marked = row.find("0.962 *") != std::string::npos && row.find("0.955 *") == std::string::npos;
  CHECK(marked);
  auto compared_json = nlohmann::json::parse(ff::test::run_command(ff + "compare 1 2 3 --format json" + at).output);
  CHECK(compared_json["config_differences"]["loss.head"] == nlohmann::json::array({"arcface", "cosface", "arcface"}));

  // Export: every evaluation row, as CSV and as JSON; a protocol filter keeps that protocol's rows.
  auto store = ff::store::open_results_store(db);
  size_t total = 0;
  for (auto id : {ids.arcface, ids.cosface, ids.running}) total += store->evaluations(id).size();
  auto csv = ff::test::run_command(ff + "export --format csv" + at);
  REQUIRE(csv.exit_code == 0);
  CHECK(std::count(csv.output.begin(), csv.output.end(), '\n') == static_cast<long>(total + 1));
  CHECK(csv.output.rfind("run_id,run_name,checkpoint,target,protocol,metric,group,value,created_at,conventions\n", 0) == 0);
  CHECK_THAT(csv.output, Contains("\"{\"\"N\"\":false,\"\"D\"\":false,\"\"F\"\":true}\""));  // quoted JSON
  auto exported = nlohmann::json::parse(ff::test::run_command(ff + "export --format json --where protocol=rfw" + at).output);
  CHECK(exported.size() == 24);  // 12 RFW values x 2 runs
  for (const auto& row : exported) CHECK(row["protocol"] == "rfw");
  CHECK(ff::test::run_command(ff + "export --format json --out " + (dir / "all.json").string() + at).exit_code == 0);
  CHECK(nlohmann::json::parse(ff::test::run_command("cat " + (dir / "all.json").string()).output).size() == total);

  auto best = ff::test::run_command(ff + "best --target ijbc --metric tar@far=1e-4" + at);
  INFO(best.output);
  CHECK_THAT(best.output, Contains("r50_cosface") && Contains("0.962"));
  auto best_eer = nlohmann::json::parse(ff::test::run_command(ff + "best --target lfw --metric eer --format json" + at).output);
  CHECK(best_eer["name"] == "r50_cosface");  // lower is better for EER
  CHECK(best_eer["direction"] == "lower");
  auto best_group = nlohmann::json::parse(
      ff::test::run_command(ff + "best --target rfw --metric accuracy --group African --format json" + at).output);
  CHECK(best_group["value"] == 0.94);

  // Errors: one line, non-zero.
  auto missing = ff::test::run_command(ff + "show nosuch" + at);
  CHECK(missing.exit_code != 0);
  CHECK_THAT(missing.output, Contains("no run with id or name 'nosuch'"));
  auto where = ff::test::run_command(ff + "list --where colour=red" + at);
  CHECK(where.exit_code != 0);
  CHECK_THAT(where.output, Contains("--where 'colour=red': expected KEY=VALUE with KEY one of"));
  auto none = ff::test::run_command(ff + "best --target ijbc --metric rank1" + at);
  CHECK(none.exit_code != 0);
  CHECK_THAT(none.output, Contains("no run in") && Contains("has metric 'rank1' for target 'ijbc'"));
}

TEST_CASE("a training run stopped by SIGINT is marked interrupted, one killed by SIGKILL shows failed when stale",
          "[cli][store][slow]") {
  ff::test::TempDir dir("results-signals");
  ff::test::write_small_synthetic(dir / "data", 6, 4, 5);
  ff::test::write_text(dir / "tiny.yaml",
                       "name: tiny\nseed: 1\noutput: " + (dir / "runs").string() +
                           "\ndata: {sources: [{format: folder, path: " + (dir / "data" / "images").string() +
                           "}], workers: 1}\nmodel: {backbone: mbf, embedding_size: 64}\n"
                           "train: {batch_size: 8, epochs: 100, log_every: 1}\n");
  const std::string ff = ff::test::faceforge_binary();
  // Starts training in the background, waits for its third logged step, sends `signal`, waits.
  auto run_until = [&](const std::string& signal, const std::string& tag) {
    const fs::path out = dir / tag;
    fs::create_directories(out);
    const std::string script =
        // set -m: without job control a background command starts with SIGINT ignored.
        "set -m; cd " + out.string() + "; " + ff + " train " + (dir / "tiny.yaml").string() + " --output " +
        (out / "runs").string() + " > train.log 2>&1 & pid=$!; "
        "for i in $(seq 1200); do [ \"$(cat " + out.string() + "/runs/*/train.jsonl 2>/dev/null | grep -c '\"event\":\"step\"')\" -ge 3 ] && break; sleep 0.1; done; "
        "kill -" + signal + " $pid; wait $pid; echo \"exit=$?\"";
    return ff::test::run_command("bash -c " + ff::test::shell_quote(script));
  };
  auto interrupted = run_until("INT", "int");
  INFO(interrupted.output);
  CHECK_THAT(interrupted.output, Contains("exit=130"));
  auto store = ff::store::open_results_store((dir / "int" / "runs" / "results.db").string());
  auto run = store->get_run("tiny");
  REQUIRE(run);
  CHECK(run->status == ff::store::RunStatus::interrupted);
  CHECK_FALSE(run->ended_at.empty());
  CHECK(store->training_metrics(run->id).size() >= 9);  // loss, lr, images/s for >= 3 steps
  CHECK_FALSE(store->checkpoints(run->id).empty());    // the interrupted run's last checkpoint

  auto killed = run_until("KILL", "kill");
  INFO(killed.output);
  CHECK_THAT(killed.output, Contains("exit=137"));
  const std::string db = (dir / "kill" / "runs" / "results.db").string();
  auto fresh = nlohmann::json::parse(ff::test::run_command(ff + " results list --format json --db " + db).output);
  REQUIRE(fresh.size() == 1);
  CHECK(fresh[0]["status"] == "running");  // its heartbeat is seconds old
  auto stale = nlohmann::json::parse(
      ff::test::run_command(ff + " results list --format json --stale-after 0 --db " + db).output);
  CHECK(stale[0]["status"] == "failed");
  CHECK(stale[0]["stored_status"] == "running");
  auto table = ff::test::run_command(ff + " results list --stale-after 0 --db " + db);
  CHECK_THAT(table.output, Contains("failed (no heartbeat since"));
}
