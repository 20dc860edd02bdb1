// Every head trains: a short run on synthetic identities must lift held-out verification accuracy
// well above the same network untrained. A small CNN stands in for the backbone so the twelve runs
// fit the test budget; the heads do not depend on which network feeds them.
#include <catch2/catch.hpp>

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/torch.h>

#include "backbones/backbone.h"
#include "datasets/synthetic.h"
#include "losses/margin_head.h"
#include "src/eval/verification.h"
#include "src/train/run_config.h"
#include "src/train/trainer.h"
#include "support.h"

namespace {

namespace nn = torch::nn;

// Four stride-2 conv stages (16-32-64-64 channels) and a linear embedding: ~0.4M parameters.
class TinyNet : public ff::backbones::Backbone {
 public:
  TinyNet() {
    int in = 3;
    for (int out : {16, 32, 64, 64}) {
      body_->push_back(nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(2).padding(1).bias(false)));
      body_->push_back(nn::BatchNorm2d(out));
      body_->push_back(nn::PReLU(nn::PReLUOptions().num_parameters(out)));
      in = out;
    }
    register_module("body", body_);
    fc_ = register_module("fc", nn::Linear(64 * 7 * 7, 128));
    bn_ = register_module("bn", nn::BatchNorm1d(128));
  }
  at::Tensor forward_stages(at::Tensor x, std::vector<ff::backbones::StageShape>*) override {
    return bn_(fc_(body_->forward(x).flatten(1)));
  }
  int embedding_size() const override { return 128; }

 private:
  nn::Sequential body_;
  nn::Linear fc_{nullptr};
  nn::BatchNorm1d bn_{nullptr};
};

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

ff::train::RunConfig config(const std::string& head) {
  const auto& dir = data().dir;
  std::vector<std::string> overrides = {
      "name=" + head, "seed=1", "output=" + (dir / "runs").string(), "model.backbone=tiny",
      "data.sources=[{format: synthetic, path: " + (dir / "data").string() + "}]", "data.workers=1", "train.batch_size=32", "train.epochs=8",
      "train.threads=2", "train.log_every=1000", "optim.lr=0.1", "optim.warmup_epochs=0.5",
      "loss.head=" + head, "loss.scale=16", "loss.margin=0.3", "eval.flip=false",
      "eval.targets=[" + (dir / "data" / "verification.bin").string() + "]"};
  if (head == "triplet") overrides.push_back("data.pk.identities_per_batch=8");  // 8 x 4 = 32
  if (head == "combined") overrides.insert(overrides.end(), {"loss.combined.m2=0.2", "loss.combined.m3=0.1"});
  if (head == "magface") overrides.push_back("loss.magface.lambda_g=5");
  return ff::train::load_run_config("", overrides);
}

}  // namespace

TEST_CASE("every head lifts held-out accuracy well above the untrained network", "[losses][train][slow]") {
  ff::backbones::register_builtin_backbones();
  ff::backbones::register_backbone("tiny", [](const ff::backbones::BackboneOptions&) { return std::make_shared<TinyNet>(); });
  const std::string pack = (data().dir / "data" / "verification.bin").string();
  ff::eval::EvalOptions eval;
  eval.flip = false;
  double untrained = 0;
  for (int seed : {1, 2, 3}) {
    torch::manual_seed(seed);
    TinyNet net;
    untrained = std::max(untrained, ff::eval::evaluate_verification_pack(net, pack, eval).metric("accuracy"));
  }
  WARN("untrained tiny network: best of 3 seeds " << untrained);
  for (const auto& head : ff::losses::margin_head_names()) {
    auto result = ff::train::train(config(head), "test");
    double accuracy = result.evaluations.at(0).metric("accuracy");
    WARN(head << ": held-out accuracy " << accuracy << " after " << result.steps << " steps (" << result.seconds << " s)");
    // 10 points over the best of three untrained seeds (69.5% here): four times the std of a
    // 10-fold estimate on 400 pairs (~2.5 points) and a third of the way from there to 100%.
    // Measured after these 160 steps: 81.0% (normface) to 90.0%; softmax 89.8%.
    CHECK(accuracy > untrained + 0.10);
  }
}
