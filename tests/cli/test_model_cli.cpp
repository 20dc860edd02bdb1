// `faceforge model summary|import|export`, `model.init_from` and `bench model`, through the binary.
#include <catch2/catch.hpp>

#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "backbones/backbone.h"
#include "backbones/state_dict.h"
#include "backbones/weights_file.h"
#include "src/train/checkpoint.h"
#include "support.h"
#include "backbones/reference.h"
#include "losses/margin_head.h"

namespace fs = std::filesystem;

TEST_CASE("model summary prints parameters, FLOPs, embedding size and stage shapes", "[cli][backbones]") {
  const std::string ff = ff::test::faceforge_binary();
  auto text = ff::test::run_command(ff + " model summary r18");
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.output, Catch::Contains("parameters      24025600 (24.03M"));
  CHECK_THAT(text.output, Catch::Contains("FLOPs (MACs)    2609954816 (2.610G"));
  CHECK_THAT(text.output, Catch::Contains("layer4       [1, 512, 7, 7]"));

  auto json = ff::test::run_command(ff + " model summary mbf --json --set model.embedding_size=128");
  REQUIRE(json.exit_code == 0);
  auto j = nlohmann::json::parse(json.output);
  CHECK(j["embedding_size"] == 128);
  CHECK(j["stages"].back()["shape"] == nlohmann::json::array({1, 128}));

  // A config file names the backbone and its options.
  auto from_config = ff::test::run_command(ff + " model summary " + (ff::test::source_dir() / "configs" / "demo_synthetic.yaml").string() + " --json");
  REQUIRE(from_config.exit_code == 0);
  CHECK(nlohmann::json::parse(from_config.output)["backbone"] == "mbf");
  CHECK(nlohmann::json::parse(from_config.output)["parameters"] == 2059520);

  auto bad = ff::test::run_command(ff + " model summary r51");
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.output, Catch::Contains("model.backbone") && Catch::Contains("did you mean 'r50'"));
}

TEST_CASE("model import and export move weights between PyTorch files and run folders", "[cli][backbones][interop]") {
  const std::string ff = ff::test::faceforge_binary();
  ff::test::TempDir dir("model_cli");
  const std::string python_file = (dir / "mbf_py.pt").string();
  ff::test::reference_backbones("save-random mbf 3 " + python_file);

  auto imported = ff::test::run_command(fmt::format("{} model import --from {} --backbone mbf --out {}", ff, python_file,
                                                    (dir / "imported").string()));
  INFO(imported.output);
  REQUIRE(imported.exit_code == 0);
  CHECK(fs::exists(dir / "imported" / "checkpoints" / "step_0.pt"));

  const std::string exported = (dir / "exported.pt").string();
  auto out = ff::test::run_command(fmt::format("{} model export {} --format torch-state-dict --out {}", ff,
                                               (dir / "imported").string(), exported));
  INFO(out.output);
  REQUIRE(out.exit_code == 0);
  auto original = ff::backbones::read_weights_file(python_file);
  auto back = ff::backbones::read_weights_file(exported);
  REQUIRE(original.size() == back.size());
  for (size_t i = 0; i < original.size(); ++i) {
    INFO(original[i].first);
    CHECK(back[i].first == original[i].first);
    CHECK(torch::equal(back[i].second, original[i].second));
  }

  auto wrong = ff::test::run_command(fmt::format("{} model import --from {} --backbone r18 --out {}", ff, python_file,
                                                 (dir / "wrong").string()));
  CHECK(wrong.exit_code == 1);
  CHECK_THAT(wrong.output, Catch::Contains("weights do not fit the model") && Catch::Contains("missing keys"));
}

TEST_CASE("model.init_from starts training from imported weights", "[cli][train][slow]") {
  const std::string ff = ff::test::faceforge_binary();
  ff::test::TempDir dir("init_from");
  ff::test::write_small_synthetic(dir / "data", 4, 4, 0);
  const std::string weights = (dir / "start.pt").string();
  ff::test::reference_backbones("save-random mbf 4 " + weights);
  // lr 1e-30 (the schema requires lr > 0): each update is far below float32 resolution of every
  // weight, so parameters stay exactly as imported (BN statistics still update).
  ff::test::write_text(dir / "ft.yaml", fmt::format("name: ft\noutput: {0}/runs\n"
                                                    "data: {{sources: [{{format: folder, path: {0}/data/images}}]}}\n"
                                                    "model: {{backbone: mbf, init_from: {1}}}\n"
                                                    "optim: {{lr: 1.0e-30, momentum: 0.0, weight_decay: 0.0}}\n"
                                                    "train: {{batch_size: 8, epochs: 1, max_steps: 1, threads: 2}}\n",
                                                    dir.path().string(), weights));
  auto trained = ff::test::run_command(ff + " train " + (dir / "ft.yaml").string());
  INFO(trained.output);
  REQUIRE(trained.exit_code == 0);
  fs::path run_dir;
  for (const auto& e : fs::directory_iterator(dir / "runs"))
    if (e.is_directory()) run_dir = e.path();
  ff::backbones::register_builtin_backbones();
  ff::backbones::BackboneOptions o;
  auto trained_net = ff::backbones::make_backbone(o);
  ff::train::load_backbone_weights(ff::train::resolve_run(run_dir).checkpoint, *trained_net);
  auto start = ff::backbones::read_weights_file(weights);
  auto params = trained_net->named_parameters();
  int compared = 0;
  for (const auto& [name, tensor] : start) {
    if (!params.contains(name)) continue;
    INFO(name);
    CHECK(torch::equal(params[name], tensor));
    ++compared;
  }
  CHECK(compared == int(params.size()));

  auto missing = ff::test::run_command(ff + " train " + (dir / "ft.yaml").string() + " --set model.init_from=" +
                                       (dir / "nope.pt").string());
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.output, Catch::Contains("nope.pt"));
}

TEST_CASE("bench model writes a JSON line and compares with PyTorch in the same invocation", "[cli][bench]") {
  const std::string ff = ff::test::faceforge_binary();
  ff::test::TempDir dir("bench");
  const std::string json = (dir / "bench.jsonl").string();
  auto r = ff::test::run_command(fmt::format("{} bench model --backbone mbf --batch 2 --iters 1 --warmup 0 --threads 1 "
                                             "--json {} --reference-python {}",
                                             ff, json, ff::test::python()));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("FaceForge / PyTorch: forward x"));
  std::ifstream in(json);
  std::string line;
  REQUIRE(std::getline(in, line));
  auto j = nlohmann::json::parse(line);
  CHECK(j["backbone"] == "mbf");
  CHECK(j["forward_images_per_s"].get<double>() > 0);
  CHECK(j["train_images_per_s"].get<double>() > 0);
  CHECK(j["reference"]["backbone"] == "mbf");
  CHECK(j["forward_ratio"].get<double>() ==
        Approx(j["forward_images_per_s"].get<double>() / j["reference"]["forward_images_per_s"].get<double>()));
}

TEST_CASE("bench heads times every head against softmax in one invocation", "[cli][bench]") {
  ff::test::TempDir dir("bench_heads");
  const std::string json = (dir / "heads.jsonl").string();
  auto r = ff::test::run_command(fmt::format("{} bench heads --classes 40 --batch 8 --embedding-size 16 --iters 1 "
                                             "--threads 1 --json {}",
                                             ff::test::faceforge_binary(), json));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::ifstream in(json);
  std::string line;
  REQUIRE(std::getline(in, line));
  auto heads = nlohmann::json::parse(line)["heads"];
  CHECK(heads.size() == ff::losses::margin_head_names().size());
  CHECK(heads["softmax"]["relative_to_softmax"] == 1.0);
  CHECK(heads["arcface"]["steps_per_s"].get<double>() > 0);
}
