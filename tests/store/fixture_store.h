// A small results store with known contents for the CLI and report tests: two finished runs with
// verification, IJB 1:1 / 1:N, RFW fairness and FRUITS values, training curves, checkpoints and
// data sources, and one run left "running" (as a killed job leaves it).
#pragma once
#include <cmath>
#include <string>

#include "src/store/results_store.h"

namespace ff::test {

struct FixtureRuns {
  std::int64_t arcface = 0, cosface = 0, running = 0;
};

inline FixtureRuns write_fixture_store(const std::string& path) {
  auto store = ff::store::open_results_store(path);
  FixtureRuns ids;
  auto run = [&](const std::string& name, const std::string& head, double lr) {
    ff::store::RunInfo info;
    info.name = name;
    info.config = "name: " + name + "\nloss:\n  head: " + head + "\n  scale: 64\noptim:\n  lr: " + std::to_string(lr) +
                  "\ndata:\n  sources:\n    - name: real\n      path: /data/ms1m\n";
    info.host = "node01";
    info.hardware = "cpu: 2 cores";
    info.world_size = 2;
    return store->begin_run(info);
  };
  // (tar@far=1e-4, lfw accuracy, lfw eer, African accuracy, latency ms) per finished run.
  auto fill = [&](std::int64_t id, double tar, double lfw, double eer, double african, double latency) {
    const std::string ckpt = "runs/x/checkpoints/step_30.pt";
    ff::store::Evaluation v{ckpt, "lfw", "verification", R"({"threshold_rule":"best_accuracy"})", {}};
    v.values = {{"accuracy", lfw, ""}, {"accuracy_std", 0.003, ""}, {"eer", eer, ""}, {"auc", 0.999, ""}};
    const char* fars[] = {"1e0", "3.16e-01", "1e-1", "3.16e-02", "1e-2", "3.16e-03", "1e-3"};
    for (int k = 0; k < 7; ++k) v.values.push_back({std::string("roc@far=") + fars[k], std::pow(lfw, 1 + 2 * k), ""});
    store->add_evaluation(id, v);
    ff::store::Evaluation ijb{ckpt, "ijbc", "ijb_1to1", R"({"N":false,"D":false,"F":true})", {}};
    ijb.values = {{"tar@far=1e-4", tar, ""}, {"tar@far=1e-3", tar + 0.01, ""}, {"auc", 0.998, ""},
                  {"roc@far=1e-1", 0.99, ""}, {"roc@far=1e-2", 0.98, ""}, {"roc@far=1e-3", tar + 0.01, ""},
                  {"roc@far=1e-4", tar, ""}};
    store->add_evaluation(id, ijb);
    ff::store::Evaluation rfw{ckpt, "rfw", "rfw", "{}", {}};
    rfw.values = {{"accuracy", (african + 0.95) / 2, ""}, {"mean_accuracy", (african + 0.95) / 2, ""},
                  {"group_std", 0.02, ""}, {"ser", 1.5, ""}, {"fdr", 0.97, ""}, {"inequity", 1.3, ""},
                  {"accuracy", african, "African"}, {"accuracy", 0.95, "Caucasian"},
                  {"fmr", 0.002, "African"}, {"fmr", 0.0005, "Caucasian"}, {"fnmr", 0.08, "African"},
                  {"fnmr", 0.03, "Caucasian"}};
    store->add_evaluation(id, rfw);
    ff::store::Evaluation fruits{ckpt, "lfw", "fruits", "{}", {}};
    fruits.values = {{"latency_ms", latency, "1 thread"}, {"latency_ms", latency / 2, "all threads"},
                     {"meets_100ms", latency <= 100 ? 1.0 : 0.0, "1 thread"}};
    store->add_evaluation(id, fruits);
    for (int step = 10; step <= 30; step += 10)
      store->add_training_metrics(id, step, {{"loss", 20.0 / step}, {"lr", 0.1 * (1 - step / 40.0)},
                                             {"eval/lfw/accuracy", lfw - 0.01 * (30 - step) / 10}});
    store->add_checkpoint(id, {30, ckpt, "ab12cd34ef56ab12cd34ef56", ""});
    store->set_data_sources(id, {{0, "real", "real", "recordio", "/data/ms1m", 85742, 5822653, 9600, 0.8, 0.8},
                                 {1, "dcface", "synthetic", "recordio", "/data/dcface", 10000, 500000, 2400, 0.2, 0.2}});
    store->finish_run(id, ff::store::RunStatus::finished);
  };
  ids.arcface = run("r50_arcface", "arcface", 0.1);
  fill(ids.arcface, 0.955, 0.9950, 0.006, 0.93, 120);
  ids.cosface = run("r50_cosface", "cosface", 0.1);
  fill(ids.cosface, 0.962, 0.9945, 0.005, 0.94, 90);
  ids.running = run("mbf_killed", "arcface", 0.05);
  store->add_training_metrics(ids.running, 10, {{"loss", 3.0}});
  return ids;
}

}  // namespace ff::test
