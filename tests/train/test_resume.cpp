// Exact resume: a run stopped mid-epoch and continued (by path or by train.resume: auto) takes the
// same steps as one that never stopped — same batches, dropout draws, AdamW state, images counted.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "src/store/results_store.h"
#include "src/train/checkpoint.h"
#include "src/train/trainer.h"
#include "src/util/atomic_file.h"
#include "support.h"
#include "tiny_net.h"

namespace fs = std::filesystem;

namespace {

// TinyNet with dropout on the embedding: every training step draws from the global generator, so
// a resume that did not restore it would diverge at its first step.
class DropoutTinyNet : public ff::test::TinyNet {
 public:
  at::Tensor forward_stages(at::Tensor x, std::vector<ff::backbones::StageShape>* shapes) override {
    return torch::dropout(TinyNet::forward_stages(x, shapes), 0.3, is_training());
  }
};

ff::train::RunConfig resume_config(const fs::path& dir, const std::vector<std::string>& overrides) {
  ff::test::write_text(dir / "resume.yaml",
                       fmt::format("name: exact\nseed: 4\noutput: {0}/runs\n"
                                   "model: {{backbone: tiny_dropout}}\n"
                                   "data: {{sources: [{{format: folder, path: {0}/data/images}}], workers: 2}}\n"
                                   "train: {{batch_size: 8, epochs: 3, log_every: 1, threads: 2}}\n"
                                   "optim: {{optimizer: adamw, lr: 0.01, weight_decay: 0.05, warmup_epochs: 1}}\n",
                                   dir.string()));
  return ff::train::load_run_config((dir / "resume.yaml").string(), overrides);
}

std::map<int64_t, double> logged_losses(const fs::path& run_dir) {
  std::map<int64_t, double> out;
  std::ifstream log(run_dir / "train.jsonl");
  std::string line;
  while (std::getline(log, line)) {
    auto j = nlohmann::json::parse(line);
    if (j["event"] == "step") out[j["step"].get<int64_t>()] = j["loss"].get<double>();
  }
  return out;
}

// The backbone's parameters and buffers as a checkpoint holds them.
std::vector<at::Tensor> backbone_tensors(const fs::path& checkpoint) {
  DropoutTinyNet net;
  ff::train::load_backbone_weights(checkpoint, net);
  std::vector<at::Tensor> out = net.parameters();
  for (const auto& b : net.buffers()) out.push_back(b);
  return out;
}

}  // namespace

TEST_CASE("a run stopped mid-epoch resumes exactly: losses, weights and images seen equal an unbroken run",
          "[train][slow]") {
  ff::backbones::register_builtin_backbones();
  ff::backbones::register_backbone("tiny_dropout",
                                   [](const ff::backbones::BackboneOptions&) { return std::make_shared<DropoutTinyNet>(); });
  ff::test::TempDir dir("resume");
  ff::test::write_small_synthetic(dir / "data", 6, 4, 11);  // 24 images: 3 steps of 8 per epoch, 9 in all

  const auto whole = ff::train::train(resume_config(dir.path(), {}), "test");
  REQUIRE(whole.steps == 9);

  // Stopped after step 4 (mid-epoch 2), as a killed job leaves it: run.json still says running.
  const auto half = ff::train::train(resume_config(dir.path(), {"train.max_steps=4"}), "test");
  REQUIRE(half.checkpoint.filename() == "step_4.pt");
  ff::write_file_atomically(half.run_dir / "run.json",
                            [&] {
                              auto j = nlohmann::json::parse(ff::read_file(half.run_dir / "run.json"));
                              CHECK(j["status"] == "finished");
                              j["status"] = "running";
                              return j.dump();
                            }());
  // train.resume: auto finds it (the newest run of this name, unfinished, with a checkpoint).
  const auto resumed = ff::train::train(resume_config(dir.path(), {"train.resume=auto"}), "test");
  CHECK(resumed.run_dir == half.run_dir);
  CHECK(resumed.steps == 9);

  const auto a = logged_losses(whole.run_dir), b = logged_losses(half.run_dir);
  REQUIRE(a.size() == 9);
  REQUIRE(b.size() == 9);
  for (int64_t step = 1; step <= 9; ++step) {
    INFO("step " << step);
    CHECK(b.at(step) == a.at(step));  // bit for bit
  }
  const auto wa = backbone_tensors(whole.checkpoint), wb = backbone_tensors(resumed.checkpoint);
  REQUIRE(wa.size() == wb.size());
  for (size_t i = 0; i < wa.size(); ++i) CHECK(wa[i].equal(wb[i]));

  // The images each source gave count across the interruption: 9 steps x 8.
  auto store = ff::store::open_results_store(whole.results_db.string());
  CHECK(store->data_sources(whole.run_id).at(0).images_seen == 72);
  CHECK(store->data_sources(resumed.run_id).at(0).images_seen == 72);

  // The continued run finished: auto now starts a new one.
  const auto fresh = ff::train::train(resume_config(dir.path(), {"train.resume=auto", "train.max_steps=1"}), "test");
  CHECK(fresh.run_dir != half.run_dir);
  CHECK(fresh.steps == 1);
}
