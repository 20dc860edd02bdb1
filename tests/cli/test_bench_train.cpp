// `faceforge bench train` runs the training step and its PyTorch reference (scripts/bench/reference_train.py)
// and reports both; a functional check, not a timing (speed is measured by running the benchmark).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "support.h"

TEST_CASE("bench train reports images/s, peak memory and the ratio to its PyTorch reference", "[cli][bench]") {
  ff::test::TempDir dir("bench-train");
  const std::string ff = ff::test::faceforge_binary();
  const std::string json = (dir / "train.jsonl").string();
  auto run = ff::test::run_command(ff + " bench train --backbone mbf --batch 4 --steps 1 --warmup 0 --classes 20 --threads 1 "
                                        "--reference-python " + ff::test::python() + " --json " + json);
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  auto j = nlohmann::json::parse(ff::test::run_command("tail -n 1 " + json).output);
  CHECK(j["bench"] == "train");
  CHECK(j["threads"] == 1);
  CHECK(j["reference"]["threads"] == 1);
  CHECK(j["reference"]["classes"] == 20);
  CHECK(j["reference"]["head"] == "arcface");
  // Same run-time settings on both sides: mbf's NHWC default and the tuned allocator.
  CHECK(j["reference"]["channels_last"] == true);
  CHECK(j["reference"]["allocator_tuned"] == true);
  // Huge pages: the reference inherits FaceForge's GLIBC_TUNABLES, so both run with them or neither.
  CHECK(j["reference"]["huge_pages"] == j["huge_pages"]);
  const double ours = j["images_per_s"], theirs = j["reference"]["images_per_s"];
  CHECK(ours > 0);
  CHECK(theirs > 0);
  CHECK(j["ratio"].get<double>() == Approx(ours / theirs));
  CHECK(j["peak_rss_mib"].get<double>() > 10);
  CHECK_THAT(run.output, Catch::Contains("FaceForge / PyTorch: x"));
  // The reference has no Partial FC sampling: asking for it fails with the reason.
  auto sampled = ff::test::run_command(ff + " bench train --backbone mbf --batch 4 --steps 1 --warmup 0 --classes 20 "
                                            "--sample-rate 0.5 --reference-python " + ff::test::python());
  CHECK(sampled.exit_code != 0);
  CHECK_THAT(sampled.output, Catch::Contains("--sample-rate must be 1"));
}
