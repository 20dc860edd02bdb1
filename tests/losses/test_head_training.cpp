// Every head trains: a short run on synthetic identities must lift held-out verification accuracy
// well above the same network untrained. A small CNN stands in for the backbone so the twelve runs
// fit the test budget; the heads do not depend on which network feeds them.
#include <catch2/catch.hpp>

#include <torch/torch.h>

#include "backbones/backbone.h"
#include "datasets/synthetic.h"
#include "losses/margin_head.h"
#include "src/eval/evaluate.h"
#include "src/eval/targets.h"
#include "src/train/run_config.h"
#include "src/train/trainer.h"
#include "support.h"
#include "tiny_net.h"

namespace {

struct Data {
  ff::test::TempDir dir{"head_training"};
  Data() {
    ff::datasets::SyntheticOptions o;
    o.identities = 40;
    o.images_per_identity = 16;
    o.pair_identities = 100;
    o.pairs = 400;
    o.seed = 21;
    o.variation = 0.4;
    ff::datasets::write_synthetic_dataset(o, dir / "data");
  }
};

const Data& data() {
  static Data d;
  return d;
}

ff::train::RunConfig config(const std::string& head, int seed) {
  const auto& dir = data().dir;
  std::vector<std::string> overrides = {
      "name=" + head, "seed=" + std::to_string(seed), "output=" + (dir / "runs").string(), "model.backbone=tiny",
      "data.sources=[{format: synthetic, path: " + (dir / "data").string() + "}]", "data.workers=1", "train.batch_size=32", "train.epochs=8",
      "train.threads=2", "train.log_every=1000", "optim.lr=0.1", "optim.warmup_epochs=0.5",
      "loss.head=" + head, "loss.scale=16", "loss.margin=0.3", "eval.flip=none",
      "eval.targets=[" + (dir / "data" / "verification.bin").string() + "]"};
  if (head == "triplet") overrides.push_back("data.pk.identities_per_batch=8");  // 8 x 4 = 32
  if (head == "combined") overrides.insert(overrides.end(), {"loss.combined.m2=0.2", "loss.combined.m3=0.1"});
  if (head == "magface") overrides.push_back("loss.magface.lambda_g=5");
  return ff::train::load_run_config("", overrides);
}

}  // namespace

TEST_CASE("every head lifts held-out accuracy well above the untrained network", "[losses][train][slow]") {
  ff::backbones::register_builtin_backbones();
  ff::test::register_tiny_backbone();
  const std::string pack = (data().dir / "data" / "verification.bin").string();
  ff::eval::EvalOptions eval;
  eval.flip = "none";
  double untrained = 0;
  for (int seed : {1, 2, 3}) {
    torch::manual_seed(seed);
    ff::test::TinyNet net;
    ff::eval::ModelFeatures features(net, ff::eval::embedder_options(eval), "untrained");
    untrained = std::max(untrained,
                         ff::eval::evaluate_target(ff::eval::parse_target(pack), features, eval).value("accuracy"));
  }
  WARN("untrained tiny network: best of 3 seeds " << untrained);
  for (const auto& head : ff::losses::margin_head_names()) {
    // Two seeds: one 160-step run's accuracy moves by several points with the initial centres
    // (normface 77.5-85%, softmax 85-92% over seeds 1-4 here); their mean is steadier.
    double accuracy = 0;
    for (int seed : {1, 2}) {
      auto result = ff::train::train(config(head, seed), "test");
      accuracy += result.evaluations.at(0).value("accuracy") / 2;
    }
    WARN(head << ": mean held-out accuracy over 2 seeds " << accuracy << " after 160 steps");
    // 10 points over the best of three untrained seeds (69.5% here): four times the std of a
    // 10-fold estimate on 400 pairs (~2.5 points) and a third of the way from there to 100%.
    // Measured, mean of seeds 1 and 2: normface 81.25%, softmax 88.4%.
    CHECK(accuracy > untrained + 0.10);
  }
}
