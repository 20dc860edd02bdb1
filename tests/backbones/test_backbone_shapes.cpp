// Every built-in network against the independent PyTorch reference: parameter count, measured
// multiply-accumulates, output shape, and the exact state-dict keys and shapes.
#include <catch2/catch.hpp>

#include <map>
#include <sstream>

#include "backbones/backbone.h"
#include "backbones/state_dict.h"
#include "backbones/summary.h"
#include "reference.h"

namespace {

std::string shape_text(c10::IntArrayRef sizes) {
  if (sizes.empty()) return "-";
  std::string out;
  for (size_t i = 0; i < sizes.size(); ++i) out += (i ? "x" : "") + std::to_string(sizes[i]);
  return out;
}

std::shared_ptr<ff::backbones::Backbone> make(const std::string& name) {
  ff::backbones::register_builtin_backbones();
  ff::backbones::BackboneOptions o;
  o.backbone = name;
  return ff::backbones::make_backbone(o);
}

}  // namespace

TEST_CASE("every backbone matches the PyTorch reference in parameters and multiply-accumulates", "[backbones][slow]") {
  const std::vector<std::string> names = {"r18", "r34", "r50", "r100", "r200", "mbf", "mbf_large", "vit_t", "vit_s", "vit_b"};
  ff::backbones::register_builtin_backbones();
  REQUIRE(ff::backbones::backbone_names().size() == names.size());
  std::string all;
  for (const auto& n : names) all += n + " ";
  std::istringstream reference(ff::test::reference_backbones("summary " + all));
  std::map<std::string, std::pair<int64_t, int64_t>> expected;
  std::string name;
  int64_t params = 0, macs = 0;
  while (reference >> name >> params >> macs) expected[name] = {params, macs};
  REQUIRE(expected.size() == names.size());

  for (const auto& n : names) {
    INFO(n);
    auto net = make(n);
    auto summary = ff::backbones::summarize(n, *net);
    CHECK(summary.parameters == expected[n].first);
    CHECK(summary.macs == expected[n].second);
    REQUIRE_FALSE(summary.stages.empty());
    CHECK(summary.stages.back().shape == std::vector<int64_t>{1, 512});
  }
  // The figures insightface publishes, to the precision it gives them.
  auto millions = [&](const std::string& n) { return std::round(expected[n].first / 1e5) / 10; };
  CHECK(millions("r18") == 24.0);
  CHECK(millions("r50") == 43.6);
  CHECK(millions("r100") == 65.2);
  CHECK(millions("r200") == 118.8);
  CHECK(millions("mbf_large") == 6.3);
  CHECK(millions("vit_t") == 19.1);
  CHECK(millions("vit_s") == 76.0);
}

TEST_CASE("r50, mbf and vit_t state dicts have insightface's keys, in order, with its shapes", "[backbones]") {
  for (const std::string n : {"r50", "mbf", "vit_t"}) {
    INFO(n);
    std::string expected = ff::test::reference_backbones("keys " + n);
    std::string actual;
    for (const auto& [key, tensor] : ff::backbones::state_dict(*make(n))) actual += key + " " + shape_text(tensor.sizes()) + "\n";
    CHECK(actual == expected);
  }
}

TEST_CASE("backbones map a training batch to [B, 512] and frozen weights stay frozen", "[backbones]") {
  torch::manual_seed(0);
  for (const std::string n : {"r18", "mbf", "vit_t"}) {
    INFO(n);
    auto net = make(n);
    net->train();
    at::Tensor out = net->forward(at::randn({2, 3, 112, 112}));
    CHECK(out.sizes() == c10::IntArrayRef({2, 512}));
    CHECK(out.scalar_type() == at::kFloat);
    out.square().mean().backward();
    for (const auto& p : net->named_parameters()) {
      INFO(p.key());
      if (p.value().requires_grad()) CHECK(p.value().grad().defined());
    }
  }
  // IResNet's embedding BatchNorm keeps its scale at 1 (insightface freezes it).
  auto r18 = make("r18");
  CHECK_FALSE(r18->named_parameters()["features.weight"].requires_grad());
  CHECK(r18->named_parameters()["features.weight"].eq(1).all().item<bool>());
}

TEST_CASE("ViT token masking acts only in training and reaches the mask token", "[backbones]") {
  torch::manual_seed(1);
  auto net = make("vit_t");
  at::Tensor images = at::randn({2, 3, 112, 112});
  net->eval();
  {
    torch::NoGradGuard no_grad;
    CHECK(torch::equal(net->forward(images), net->forward(images)));  // deterministic in eval
  }
  net->train();
  net->forward(images).square().mean().backward();
  at::Tensor mask_grad = net->named_parameters()["mask_token"].grad();
  REQUIRE(mask_grad.defined());
  CHECK(mask_grad.abs().sum().item<double>() > 0);  // masked tokens were replaced by it

  ff::backbones::BackboneOptions o;
  o.backbone = "vit_t";
  o.mask_ratio = 0;
  auto unmasked = ff::backbones::make_backbone(o);
  unmasked->train();
  unmasked->forward(images).square().mean().backward();
  at::Tensor unused = unmasked->named_parameters()["mask_token"].grad();
  CHECK((!unused.defined() || unused.abs().sum().item<double>() == 0));
}

TEST_CASE("model.autocast runs the body in bf16 on CPU and refuses fp16 there", "[backbones]") {
  ff::backbones::register_builtin_backbones();
  torch::manual_seed(2);
  ff::backbones::BackboneOptions o;
  o.backbone = "mbf";
  auto full = ff::backbones::make_backbone(o);
  o.autocast = "bf16";
  auto mixed = ff::backbones::make_backbone(o);
  ff::backbones::load_state_dict(*mixed, ff::backbones::state_dict(*full), "same weights");
  full->eval();
  mixed->eval();
  torch::NoGradGuard no_grad;
  at::Tensor images = at::randn({4, 3, 112, 112});
  at::Tensor a = full->forward(images), b = mixed->forward(images);
  CHECK(b.scalar_type() == at::kFloat);  // the head runs in float32
  CHECK_FALSE(torch::equal(a, b));       // the body really ran in bf16
  at::Tensor cosine = at::cosine_similarity(a, b, 1);
  CHECK(cosine.min().item<double>() > 0.99);

  o.autocast = "fp16";
  auto half = ff::backbones::make_backbone(o);
  CHECK_THROWS_WITH(half->forward(images), Catch::Contains("fp16 needs a CUDA device"));
}
