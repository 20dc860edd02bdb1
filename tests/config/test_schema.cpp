// Config loading: typed values, overrides, and one test per error class with its file:line context.
#include <catch2/catch.hpp>

#include "src/config/schema.h"
#include "src/train/run_config.h"
#include "src/util/error.h"
#include "support.h"

using ff::config::Schema;
using ff::train::RunConfig;

namespace {
std::string load_error(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  ff::test::TempDir dir("config");
  auto path = dir / "bad.yaml";
  ff::test::write_text(path, yaml);
  try {
    ff::train::load_run_config(path.string(), overrides);
  } catch (const ff::Error& e) {
    std::string message = e.what();
    if (message.rfind(path.string(), 0) == 0) message.replace(0, path.string().size(), "FILE");
    return message;
  }
  return "no error";
}
}  // namespace

TEST_CASE("config values reach the typed structs, overrides win", "[config]") {
  ff::test::TempDir dir("config");
  auto path = dir / "ok.yaml";
  ff::test::write_text(path,
                       "name: abc\n"
                       "optim:\n  lr: 0.25\n  momentum: 0.8\n"
                       "loss: {scale: 32, easy_margin: true}\n"
                       "data:\n  sources:\n    - format: synthetic\n      synthetic:\n        identities: 12\n"
                       "eval:\n  targets: [a.bin, 'b.bin']\n");
  RunConfig c = ff::train::load_run_config(path.string(), {"optim.lr=0.05", "train.batch_size=16"});
  CHECK(c.name == "abc");
  CHECK(c.optim.lr == Approx(0.05));
  CHECK(c.optim.momentum == Approx(0.8));
  CHECK(c.loss.scale == Approx(32));
  CHECK(c.loss.easy_margin);
  REQUIRE(c.data.sources.size() == 1);
  CHECK(c.data.sources[0].synthetic.identities == 12);
  CHECK(c.data.sources[0].synthetic.images_per_identity == ff::datasets::SyntheticOptions().images_per_identity);
  CHECK(c.train.batch_size == 16);
  CHECK(c.eval.targets == std::vector<std::string>{"a.bin", "b.bin"});
  CHECK(c.loss.margin == Approx(0.5));  // untouched default
}

TEST_CASE("the resolved config written to YAML loads back identically", "[config]") {
  RunConfig c = ff::train::load_run_config("", {"optim.lr=0.3", "eval.targets=[x.bin]", "name=round",
                                                "data.sources=[{format: synthetic, name: gen}, {format: folder, path: /d, share: 0.25}]",
                                                "data.sources[0].share=0.75", "loss.margin=0.3"});
  ff::test::TempDir dir("config");
  ff::test::write_text(dir / "resolved.yaml", ff::train::to_yaml(c));
  RunConfig again = ff::train::load_run_config((dir / "resolved.yaml").string(), {});
  CHECK(ff::train::to_yaml(again) == ff::train::to_yaml(c));
  CHECK(again.optim.lr == Approx(0.3));
  CHECK(again.eval.targets == std::vector<std::string>{"x.bin"});
  REQUIRE(again.data.sources.size() == 2);
  CHECK(again.data.sources[0].name == "gen");
  CHECK(again.data.sources[0].share == Approx(0.75));
  CHECK(again.data.sources[1].path == "/d");
}

TEST_CASE("data.sources entries are checked one by one, errors naming the entry", "[config]") {
  CHECK(load_error("data:\n  sources:\n    - format: recordo\n      path: x\n") ==
        "FILE:3: data.sources[0].format: expected one of recordio, folder, list, synthetic, got 'recordo' (did you "
        "mean 'recordio'?)");
  CHECK(load_error("data:\n  sources:\n    - format: folder\n      pth: x\n") ==
        "FILE:4: unknown key 'data.sources[0].pth' (did you mean 'data.sources[0].path'?)");
  CHECK(load_error("data:\n  sources:\n    - {format: folder, path: a, share: 0}\n") ==
        "FILE:3: data.sources[0].share: value out of range: expected (0, 1], got 0");
  CHECK(load_error("data:\n  format: folder\n") ==
        "FILE:2: unknown key 'data.format' (did you mean 'format' in an entry of the list 'data.sources'?)");
  CHECK(load_error("data:\n  sources: x\n") == "FILE:2: data.sources: expected a list of mappings (one per entry), got 'x'");
  CHECK(load_error("data:\n  sources: [a]\n") == "FILE:2: data.sources[0]: expected a mapping of keys, got 'a'");
  CHECK(load_error("data:\n  sources: [{format: folder, path: a}]\n", {"data.sources[1].path=b"}) ==
        "--set data.sources[1].path=b: data.sources[1]: expected an index below the list's length 1, got 'b'");
  // Cross-key checks after loading.
  CHECK(load_error("name: a\n") ==
        "FILE: data.sources is empty: list at least one source, e.g. data.sources: [{format: folder, path: DIR}]");
  CHECK(load_error("data:\n  sources: [{format: folder, path: a, share: 0.7}, {format: synthetic, share: 0.2}]\n") ==
        "FILE: data.sources: shares must sum to 1, got 0.7 + 0.2 = 0.8999999999999999");
  CHECK(load_error("data:\n  sources: [{format: recordio}]\n") ==
        "FILE: data.sources[0].path is empty: format recordio needs the pack folder or .rec file");
  CHECK(load_error("data:\n  sources: [{name: x, format: synthetic, share: 0.5}, {name: x, format: synthetic, share: 0.5}]\n") ==
        "FILE: data.sources[1].name: 'x' names two sources; give each a different name");
  CHECK(load_error("data:\n  epoch_source: real\n  sources: [{format: synthetic}]\n") ==
        "FILE: data.epoch_source: no source is named 'real' (sources: synthetic0)");
}

TEST_CASE("unknown key names file, line and the closest valid key", "[config]") {
  CHECK(load_error("name: a\noptim:\n  lrr: 0.1\n") == "FILE:3: unknown key 'optim.lrr' (did you mean 'optim.lr'?)");
  CHECK(load_error("lr: 0.1\n") == "FILE:1: unknown key 'lr' (did you mean 'optim.lr'?)");
}

TEST_CASE("wrong type names file, line, key, expectation and the value", "[config]") {
  CHECK(load_error("optim:\n  lr: fast\n") == "FILE:2: optim.lr: expected a number, got 'fast'");
  CHECK(load_error("train:\n  epochs: 2.5\n") == "FILE:2: train.epochs: expected an integer, got '2.5'");
  CHECK(load_error("eval:\n  latency: maybe\n") == "FILE:2: eval.latency: expected true or false, got 'maybe'");
  CHECK(load_error("eval:\n  flip: true\n") == "FILE:2: eval.flip: expected one of none, sum, concat, got 'true'");
  CHECK(load_error("optim: 3\n") == "FILE:1: optim: expected a mapping of keys (optim.*), got '3'");
  CHECK(load_error("eval:\n  targets: lfw.bin\n") == "FILE:2: eval.targets: expected a list of strings, got 'lfw.bin'");
}

TEST_CASE("value out of range names the allowed range", "[config]") {
  CHECK(load_error("optim:\n  lr: -1\n") == "FILE:2: optim.lr: value out of range: expected > 0, got -1");
  CHECK(load_error("loss:\n  margin: 1.7\n") ==
        "FILE:2: loss.margin: value out of range: expected [0, 1.5707963267948966), got 1.7");
  CHECK(load_error("data:\n  augment:\n    flip:\n      p: 2\n") ==
        "FILE:4: data.augment.flip.p: value out of range: expected [0, 1], got 2");
}

TEST_CASE("enumerated names list the choices and suggest one", "[config]") {
  CHECK(load_error("loss:\n  head: arcfce\n") ==
        "FILE:2: loss.head: expected one of softmax, normface, sphereface, cosface, arcface, combined, subcenter_arcface, "
        "curricularface, magface, adaface, elasticface, triplet, got 'arcfce' (did you mean 'arcface'?)");
}

TEST_CASE("missing config file and YAML syntax errors", "[config]") {
  try {
    ff::train::load_run_config("/nonexistent/dir/x.yaml", {});
    FAIL("no error");
  } catch (const ff::Error& e) {
    CHECK(std::string(e.what()) == "config file not found: /nonexistent/dir/x.yaml");
  }
  CHECK(load_error("optim:\n  lr: [0.1\n").rfind("FILE:", 0) == 0);
  CHECK(load_error("optim:\n  lr: [0.1\n").find("YAML syntax error") != std::string::npos);
  CHECK(load_error("name: a\nname: b\n") == "FILE:2: duplicate key 'name'");
}

TEST_CASE("overrides carry their own text as the error origin", "[config]") {
  CHECK(load_error("name: a\n", {"optim.lr=abc"}) == "--set optim.lr=abc: optim.lr: expected a number, got 'abc'");
  CHECK(load_error("name: a\n", {"optim.lrate=1"}) ==
        "--set optim.lrate=1: unknown key 'optim.lrate' (did you mean 'optim.lr'?)");
  CHECK(load_error("name: a\n", {"optim.lr"}) == "--set optim.lr: expected key=value");
}

TEST_CASE("a quoted number is a string, not a number", "[config]") {
  CHECK(load_error("optim:\n  lr: '0.1'\n") == "FILE:2: optim.lr: expected a number, got '0.1'");
}
