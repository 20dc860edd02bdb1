// Every config shipped in configs/ loads and validates: run configs (configs/, configs/recipes/) through the whole schema,
// evaluation suites (configs/eval/) through the eval.* keys that `faceforge eval --suite` reads.
#include <catch2/catch.hpp>

#include <filesystem>

#include "backbones/backbone.h"
#include "src/config/schema.h"
#include "src/eval/eval_options.h"
#include "src/train/run_config.h"
#include "support.h"

namespace fs = std::filesystem;

TEST_CASE("shipped configs: run configs and evaluation suites load and validate", "[config]") {
  ff::backbones::register_builtin_backbones();
  int runs = 0, suites = 0;
  int recipes = 0, adamw = 0;
  for (const auto& folder : {fs::path("configs"), fs::path("configs") / "recipes"})
    for (const auto& entry : fs::directory_iterator(ff::test::source_dir() / folder)) {
      if (entry.path().extension() != ".yaml") continue;
      INFO(entry.path());
      ff::train::RunConfig config;
      CHECK_NOTHROW(config = ff::train::load_run_config(entry.path().string(), {}));
      ++runs;
      if (folder.filename() != "recipes") continue;
      ++recipes;
      // Recipes name their data and the schedule they mirror; nothing is left to a default by accident.
      CHECK(config.data.sources.size() == 1);
      CHECK(config.data.sources[0].format == "recordio");
      CHECK(config.name == entry.path().stem().string());
      adamw += config.optim.optimizer == "adamw";
    }
  for (const auto& entry : fs::directory_iterator(ff::test::source_dir() / "configs" / "eval")) {
    INFO(entry.path());
    REQUIRE(entry.path().extension() == ".yaml");
    ff::eval::EvalOptions options;
    ff::config::Schema schema;
    ff::eval::bind_schema(schema, options);
    ff::config::load_yaml_file(entry.path().string(), schema);
    CHECK_FALSE(options.targets.empty());
    // Landmark files are keyed by the name of one of the suite's targets.
    for (const auto& landmarks : options.landmarks) {
      std::string name = landmarks.substr(0, landmarks.find('='));
      bool named = false;
      for (const auto& spec : options.targets) named |= spec.rfind(name + "=", 0) == 0;
      CHECK(named);
    }
    ++suites;
  }
  CHECK(runs >= 5);
  CHECK(recipes >= 4);
  CHECK(adamw >= 1);  // the ViT recipe
  CHECK(suites >= 5);
}
