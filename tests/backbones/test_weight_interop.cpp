// Weights between FaceForge and PyTorch: files written by Python's torch.save load into the C++
// networks and embed like Python does; files FaceForge writes load in Python (also weights-only)
// into the reference networks, and come back bit-identical.
#include <catch2/catch.hpp>

#include <fstream>

#include "backbones/backbone.h"
#include "backbones/state_dict.h"
#include "backbones/weights_file.h"
#include "reference.h"

namespace fs = std::filesystem;
using ff::backbones::NamedTensors;

namespace {

std::shared_ptr<ff::backbones::Backbone> make(const std::string& name, int embedding_size = 512) {
  ff::backbones::register_builtin_backbones();
  ff::backbones::BackboneOptions o;
  o.backbone = name;
  o.embedding_size = embedding_size;
  return ff::backbones::make_backbone(o);
}

at::Tensor embed(ff::backbones::Backbone& net, const at::Tensor& images) {
  net.eval();
  torch::NoGradGuard no_grad;
  return net.forward(images);
}

at::Tensor entry(const NamedTensors& tensors, const std::string& name) {
  for (const auto& [key, t] : tensors)
    if (key == name) return t;
  throw std::runtime_error("no entry " + name);
}

// Freshly built BatchNorms are the identity in eval mode; random statistics make the check real.
void randomize_batch_norm_statistics(ff::backbones::Backbone& net) {
  torch::NoGradGuard no_grad;
  for (auto& [name, t] : ff::backbones::state_dict(net)) {
    if (name.ends_with("running_mean")) t.copy_(at::randn_like(t) * 0.05);
    if (name.ends_with("running_var")) t.copy_(at::rand_like(t) * 0.5 + 0.75);
  }
}

}  // namespace

TEST_CASE("a Python-saved state dict embeds in C++ as in Python (within 1e-4)", "[backbones][interop][slow]") {
  ff::test::TempDir dir("interop");
  torch::manual_seed(5);
  at::Tensor images = at::rand({3, 3, 112, 112}) * 2 - 1;
  ff::backbones::write_weights_file(dir / "images.pt", {{"images", images}});
  for (const std::string name : {"mbf", "r18", "vit_t"}) {
    INFO(name);
    const std::string weights = (dir / (name + ".pt")).string(), out = (dir / (name + "_emb.pt")).string();
    ff::test::reference_backbones("save-random " + name + " 7 " + weights);
    ff::test::reference_backbones("embed " + name + " " + weights + " " + (dir / "images.pt").string() + " " + out);
    auto net = make(name);
    ff::backbones::load_state_dict(*net, ff::backbones::read_weights_file(weights), weights);
    at::Tensor mine = embed(*net, images);
    at::Tensor python = entry(ff::backbones::read_weights_file(out), "embeddings");
    REQUIRE(python.sizes() == mine.sizes());
    double max_error = (mine - python).abs().max().item<double>();
    WARN(name << ": max |C++ - Python| = " << max_error << ", max |embedding| = " << python.abs().max().item<double>());
    CHECK(max_error < 1e-4);
  }
}

TEST_CASE("C++ -> Python -> C++ gives bit-identical embeddings and Python sees a plain dict", "[backbones][interop][slow]") {
  ff::test::TempDir dir("roundtrip");
  torch::manual_seed(6);
  at::Tensor images = at::rand({2, 3, 112, 112}) * 2 - 1;
  for (const std::string name : {"mbf", "r50", "vit_t"}) {
    INFO(name);
    auto original = make(name);
    randomize_batch_norm_statistics(*original);
    at::Tensor before = embed(*original, images);
    const std::string exported = (dir / (name + ".pt")).string(), resaved = (dir / (name + "_py.pt")).string();
    ff::backbones::write_weights_file(exported, ff::backbones::state_dict(*original));
    std::string said = ff::test::reference_backbones("resave " + exported + " " + resaved + " " + name + " --weights-only");
    CHECK_THAT(said, Catch::StartsWith("loaded: builtins.dict of "));

    auto copy = make(name);
    ff::backbones::load_state_dict(*copy, ff::backbones::read_weights_file(resaved), resaved);
    CHECK(torch::equal(embed(*copy, images), before));
  }
}

TEST_CASE("weight files that do not fit say which keys and shapes are wrong", "[backbones][interop]") {
  ff::test::TempDir dir("misfit");
  const std::string r18 = (dir / "r18.pt").string();
  ff::backbones::write_weights_file(r18, ff::backbones::state_dict(*make("r18")));

  auto r34 = make("r34");
  CHECK_THROWS_WITH(ff::backbones::load_state_dict(*r34, ff::backbones::read_weights_file(r18), r18),
                    Catch::Contains(r18) && Catch::Contains("missing keys: layer1.2.bn1.weight"));
  auto narrow = make("r18", 256);
  CHECK_THROWS_WITH(ff::backbones::load_state_dict(*narrow, ff::backbones::read_weights_file(r18), r18),
                    Catch::Contains("mismatched: fc.weight (file [512, 25088], model [256, 25088])"));
  auto mbf = make("mbf");
  CHECK_THROWS_WITH(ff::backbones::load_state_dict(*mbf, ff::backbones::read_weights_file(r18), r18),
                    Catch::Contains("unexpected keys: ") && Catch::Contains("missing keys: "));

  // DistributedDataParallel's "module." prefix is recognised.
  NamedTensors prefixed;
  for (auto& [k, t] : ff::backbones::state_dict(*make("r18"))) prefixed.emplace_back("module." + k, t);
  auto plain = make("r18");
  CHECK_NOTHROW(ff::backbones::load_state_dict(*plain, prefixed, "ddp"));

  ff::test::write_text(dir / "legacy.pt", std::string("\x80\x02\x8a\x0a", 4) + "not a zip");
  CHECK_THROWS_WITH(ff::backbones::read_weights_file(dir / "legacy.pt"), Catch::Contains("not a PyTorch zip archive"));
  CHECK_THROWS_WITH(ff::backbones::read_weights_file(dir / "missing.pt"), Catch::Contains("weight file not found"));
}
