// `faceforge bench eval` at small sizes: FaceForge's IJB 1:1, 1:N and verification metrics equal the
// NumPy reference's (benchmarks/eval_reference.py, an independent implementation) on the same arrays.
#include <catch2/catch.hpp>

#include <cmath>

#include "src/bench/eval_bench.h"
#include "support.h"

TEST_CASE("bench eval metrics equal the NumPy reference on the same random features", "[eval]") {
  ff::bench::EvalBenchOptions o;
  o.images = 6000;
  o.templates = 800;
  o.pairs = 40000;
  o.genuine = 600;
  o.gallery = 150;
  o.probes = 600;
  o.verification_pairs = 600;
  o.dim = 64;
  o.image_noise = 4.0;  // with 2.5 images per media at 64-d: same-subject template cosine ~0.3
  o.threads = 2;
  const nlohmann::json r = ff::bench::bench_eval(o, ff::test::python(),
                                                 (ff::test::source_dir() / "benchmarks/eval_reference.py").string());
  REQUIRE(r.contains("reference"));
  const auto& ours = r["metrics"];
  const auto& theirs = r["reference"]["metrics"];
  // Scores are float sums in a different order, so a pair on the threshold may flip: allow one pair
  // (1/genuine for TAR, 1/mated for TPIR and CMC, 1/60 for a fold's accuracy averaged over 10).
  for (const char* far : {"tar@far=1e-06", "tar@far=1e-05", "tar@far=0.0001", "tar@far=0.001", "tar@far=0.01", "tar@far=0.1"}) {
    INFO(far);
    CHECK(ours[far].get<double>() == Approx(theirs[far].get<double>()).margin(1.0 / o.genuine + 1e-12));
  }
  for (const char* key : {"tpir@fpir=0.01", "tpir@fpir=0.1", "rank1", "rank5", "rank10"}) {
    INFO(key);
    CHECK(ours[key].get<double>() == Approx(theirs[key].get<double>()).margin(2.5 / o.probes));
  }
  CHECK(ours["verification_accuracy"].get<double>() ==
        Approx(theirs["verification_accuracy"].get<double>()).margin(1.0 / 600));
  // The data are informative: the metrics are neither trivial nor saturated.
  CHECK(ours["tar@far=0.01"].get<double>() > 0.05);
  CHECK(ours["tar@far=0.01"].get<double>() < 1.0);
  CHECK(ours["rank1"].get<double>() > 0.2);
  CHECK(ours["verification_accuracy"].get<double>() > 0.6);
  for (const char* stage : {"ijb_templates", "ijb_pair_scores", "ijb_tar_at_far", "ijb_1n", "verification"})
    CHECK(r["speedup_over_reference"].contains(stage));
}
