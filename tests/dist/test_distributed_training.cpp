// `faceforge launch -- train` on 2 ranks (Gloo, localhost): a dead worker stops the job with a
// message naming it, and checkpoints resume on the same or another number of ranks.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "datasets/synthetic.h"
#include "support.h"

namespace fs = std::filesystem;

namespace {

int next_port() {
  static int calls = 0;
  return 40000 + static_cast<int>(::getpid() % 10000) + 11 * calls++;
}

// 8 identities x 4 images; mbf at 4 images per rank: a step takes about a second here.
void write_config(const fs::path& dir, const std::string& name, int batch, const std::string& extra) {
  ff::test::write_text(dir / (name + ".yaml"),
                       fmt::format("name: {1}\nseed: 3\noutput: {0}/runs\n"
                                   "data: {{sources: [{{format: synthetic, path: {0}/data}}], workers: 1}}\n"
                                   "train: {{batch_size: {2}, epochs: 2, log_every: 1}}\n"
                                   "optim: {{lr: 0.05, warmup_epochs: 0}}\n"
                                   "loss: {{head: cosface, scale: 16, margin: 0.2, partial_fc: {{sample_rate: 0.5}}}}\n"
                                   "dist: {{timeout_seconds: 30}}\n{3}",
                                   dir.string(), name, batch, extra));
}

std::string launch(int ranks, const fs::path& config, const std::string& sets = "") {
  if (ranks == 1) return fmt::format("{} train {} {}", ff::test::faceforge_binary(), config.string(), sets);
  return fmt::format("{} launch --nproc-per-node {} --master 127.0.0.1:{} -- train {} {}", ff::test::faceforge_binary(),
                     ranks, next_port(), config.string(), sets);
}

fs::path only_run(const fs::path& runs, const std::string& name) {
  fs::path found;
  for (const auto& e : fs::directory_iterator(runs))
    if (e.path().filename().string().rfind(name + "-", 0) == 0) found = e.path();
  REQUIRE(!found.empty());
  return found;
}

// step -> logged loss (the last record of a step wins: a resumed run logs its steps again).
std::map<int64_t, double> losses(const fs::path& run) {
  std::ifstream in(run / "train.jsonl");
  std::map<int64_t, double> out;
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    if (j["event"] == "step") out[j["step"].get<int64_t>()] = j["loss"].get<double>();
  }
  return out;
}

}  // namespace

TEST_CASE("a killed worker makes faceforge launch exit non-zero naming it, within the timeout", "[dist][slow]") {
  ff::test::TempDir dir("dist_kill");
  ff::test::write_small_synthetic(dir / "data", 8, 4, 5);
  write_config(dir.path(), "k", 4, "");
  // Start the job, wait for its first step, SIGKILL the worker whose RANK is 1, time the rest.
  ff::test::write_text(
      dir / "kill.sh",
      fmt::format("cd {0}\n{1} --set train.epochs=100 > out.txt 2>&1 &\nL=$!\n"
                  "for i in $(seq 1 600); do grep -qs '\"event\":\"step\"' runs/k-*/train.jsonl && break; sleep 0.2; done\n"
                  "for p in $(pgrep -P $L); do tr '\\0' '\\n' < /proc/$p/environ | grep -qx RANK=1 && kill -9 $p; done\n"
                  "s=$(date +%s%N); wait $L; rc=$?; e=$(date +%s%N)\n"
                  "echo \"rc=$rc ms=$(( (e - s) / 1000000 ))\" > result.txt\n",
                  dir.path().string(), launch(2, dir / "k.yaml")));
  REQUIRE(ff::test::run_command("bash " + (dir / "kill.sh").string()).exit_code == 0);
  std::string output = ff::test::run_command("cat " + (dir / "out.txt").string()).output;
  std::string result = ff::test::run_command("cat " + (dir / "result.txt").string()).output;
  INFO(output.substr(output.size() > 3000 ? output.size() - 3000 : 0));
  WARN("launch after SIGKILL of rank 1: " << result);
  CHECK_THAT(result, Catch::StartsWith("rc=137 "));  // the first failing worker's code: 128 + SIGKILL
  CHECK_THAT(output, Catch::Contains("error: worker rank 1"));
  CHECK_THAT(output, Catch::Contains("killed by signal 9"));
  // Rank 0 notices at its next collective and says which rank it is and why it stopped.
  CHECK_THAT(output, Catch::Contains("[rank 0] error: rank 0 of 2: all_"));
  CHECK_THAT(output, Catch::Contains("another rank exited or did not answer within 30 s"));
  auto at = result.find("ms=");
  REQUIRE(at != std::string::npos);
  CHECK(std::stoll(result.substr(at + 3)) < 30000);  // dist.timeout_seconds
}

namespace {

// Runs the real trainer (tests/dist_worker.cpp, backbone "tiny") on `ranks` local processes with
// `dir`/c.yaml and key=value overrides; returns rank 0's output.
std::string train_on(const fs::path& dir, int ranks, const std::string& sets) {
  std::string command;
  if (ranks == 1) {
    command = fmt::format("{} train {}/c.yaml {} 2>&1", FF_DIST_WORKER, dir.string(), sets);
  } else {
    const int port = next_port();
    for (int r = 0; r < ranks; ++r)
      command += fmt::format("RANK={0} WORLD_SIZE={1} LOCAL_RANK={0} LOCAL_WORLD_SIZE={1} MASTER_ADDR=127.0.0.1 "
                             "MASTER_PORT={2} {3} train {4}/c.yaml {5} > {4}/rank{0}.txt 2>&1 & ",
                             r, ranks, port, FF_DIST_WORKER, dir.string(), sets);
    command = "bash -c '" + command + "wait; cat " + (dir / "rank0.txt").string() + "'";
  }
  auto r = ff::test::run_command(command);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  REQUIRE_THAT(r.output, !Catch::Contains("error:"));
  return r.output;
}

// The global batch is 32 images whatever the number of ranks.
std::string batch_for(int ranks) { return fmt::format("train.batch_size={} train.threads={}", 32 / ranks, 2 / ranks); }

// Mean held-out accuracy over seeds 1 and 2.
double trained_accuracy(const fs::path& dir, int ranks) {
  double sum = 0;
  for (int seed : {1, 2}) {
    std::string output = train_on(dir, ranks, fmt::format("seed={} {}", seed, batch_for(ranks)));
    auto at = output.find("accuracy=");
    REQUIRE(at != std::string::npos);
    sum += std::stod(output.substr(at + 9));
  }
  return sum / 2;
}

// 40 synthetic identities x 16 images (20 steps of 32 per epoch) and held-out pairs.
void write_tiny_setup(const fs::path& dir, int pairs, int epochs, double sample_rate, bool evaluate) {
  ff::datasets::SyntheticOptions o;
  o.identities = 40;
  o.images_per_identity = 16;
  o.pair_identities = 100;
  o.pairs = pairs;
  o.seed = 21;
  o.variation = 0.2;
  ff::datasets::write_synthetic_dataset(o, dir / "data");
  ff::test::write_text(dir / "c.yaml",
                       fmt::format("name: tiny\noutput: {0}/runs\nmodel: {{backbone: tiny}}\n"
                                   "data: {{sources: [{{format: synthetic, path: {0}/data}}], workers: 1}}\n"
                                   "train: {{epochs: {1}, log_every: 1}}\noptim: {{lr: 0.1, warmup_epochs: 0.5}}\n"
                                   "loss: {{head: cosface, scale: 16, margin: 0.3, partial_fc: {{sample_rate: {2}}}}}\n"
                                   "eval: {{flip: none, targets: [{3}]}}\n",
                                   dir.string(), epochs, sample_rate,
                                   evaluate ? (dir / "data" / "verification.bin").string() : ""));
}

}  // namespace

TEST_CASE("2-rank training on synthetic identities reaches the 1-rank accuracy within 1 point", "[dist][slow]") {
  ff::test::TempDir dir("dist_accuracy");
  write_tiny_setup(dir.path(), 1000, 12, 1.0, true);
  const double one = trained_accuracy(dir.path(), 1);
  const double two = trained_accuracy(dir.path(), 2);
  WARN("held-out accuracy, mean of 2 seeds: 1 rank " << one << ", 2 ranks " << two);
  CHECK(one > 0.9);  // trained well past the untrained network (~70%)
  CHECK(two >= one - 0.01);
}

TEST_CASE("a 2-rank checkpoint resumes on 2 ranks exactly, and on 1 rank (and 1 on 2) on the same trajectory",
          "[dist][slow]") {
  ff::test::TempDir dir("dist_resume");
  write_tiny_setup(dir.path(), 40, 2, 0.5, false);
  auto run_of = [&](const std::string& output) {
    auto at = output.find("run folder: ");
    REQUIRE(at != std::string::npos);
    return fs::path(output.substr(at + 12, output.find('\n', at) - at - 12));
  };
  // Mean logged loss over the second epoch (steps 21-40).
  auto second_epoch = [](const std::map<int64_t, double>& l) {
    double sum = 0;
    for (int64_t s = 21; s <= 40; ++s) sum += l.at(s);
    return sum / 20;
  };
  // Uninterrupted, 2 epochs of 20 steps, on 2 ranks and on 1.
  auto whole = losses(run_of(train_on(dir.path(), 2, batch_for(2))));
  auto whole_one = losses(run_of(train_on(dir.path(), 1, batch_for(1))));
  REQUIRE(whole.size() == 40);

  // Stopped after epoch 1 on 2 ranks, continued on 2 ranks: the same numbers (centres, momentum,
  // optimizer, head state, sampling and data position all restored).
  fs::path half = run_of(train_on(dir.path(), 2, batch_for(2) + " train.max_steps=20"));
  fs::path checkpoint = half / "checkpoints" / "step_20.pt";
  REQUIRE(fs::exists(half / "checkpoints" / "step_20.classifier-1-of-2.pt"));
  std::string resumed = train_on(dir.path(), 2, batch_for(2) + " train.resume=" + checkpoint.string());
  CHECK_THAT(resumed, Catch::Contains("resumed at step 20"));
  auto again = losses(half);
  for (int64_t s = 1; s <= 40; ++s) CHECK(again.at(s) == Approx(whole.at(s)).epsilon(1e-4));

  // 2 -> 1 rank (the classifier's two shards re-sharded into one) and 1 -> 2, with the same global
  // batch. Batch norm runs per rank and each rank reads its own slice of every pass, so runs on
  // different world sizes do not take identical steps: uninterrupted 1- and 2-rank runs here end
  // their second epoch about 20% apart. So the check is that a resumed run continues its own run's
  // trajectory: its second-epoch mean loss within 20% of the uninterrupted run it was checkpointed
  // from, and far below where training started (a resume that lost the centres would restart near
  // the first steps' loss). Exact re-sharding is checked in test_partial_fc.cpp.
  auto first_steps = [](const std::map<int64_t, double>& l) { return (l.at(1) + l.at(2) + l.at(3)) / 3; };
  train_on(dir.path(), 1, batch_for(1) + " train.resume=" + checkpoint.string());
  auto on_one = losses(half);
  fs::path single = run_of(train_on(dir.path(), 1, batch_for(1) + " train.max_steps=20"));
  train_on(dir.path(), 2, batch_for(2) + " train.resume=" + (single / "checkpoints" / "step_20.pt").string());
  auto grown = losses(single);
  REQUIRE(grown.size() == 40);
  WARN("second-epoch mean loss: uninterrupted 2 ranks " << second_epoch(whole) << ", 1 rank " << second_epoch(whole_one)
       << "; 2 -> 1 " << second_epoch(on_one) << ", 1 -> 2 " << second_epoch(grown) << "; first 3 steps "
       << first_steps(whole));
  CHECK(second_epoch(on_one) == Approx(second_epoch(whole)).epsilon(0.2));
  CHECK(second_epoch(grown) == Approx(second_epoch(whole_one)).epsilon(0.2));
  CHECK(second_epoch(on_one) < 0.6 * first_steps(whole));
  CHECK(second_epoch(grown) < 0.6 * first_steps(whole_one));
}

TEST_CASE("gradient accumulation on 2 ranks: steps of batch x ranks x micro-batches images", "[dist][slow]") {
  ff::test::TempDir dir("dist_accumulate");
  write_tiny_setup(dir.path(), 40, 1, 0.5, false);
  // 640 images, 8 per rank per micro-batch, 2 ranks, 2 micro-batches: 32 images per step.
  std::string output = train_on(dir.path(), 2, "train.batch_size=8 train.threads=1 train.accumulate_steps=2");
  CHECK_THAT(output, Catch::Contains("20 steps/epoch, 20 steps, 2 ranks x 8 images x 2 micro-batches"));
  CHECK_THAT(output, Catch::Contains("source synthetic0: 640 images seen"));
  auto l = losses(fs::path(output.substr(output.find("run folder: ") + 12, output.find('\n', output.find("run folder: ")) - output.find("run folder: ") - 12)));
  REQUIRE(l.size() == 20);
  CHECK(l.at(20) < l.at(1));  // it trains
}
