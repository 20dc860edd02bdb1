// Learning-rate schedules against values worked by hand.
#include <catch2/catch.hpp>

#include <cmath>

#include "src/train/lr_schedule.h"
#include "src/util/error.h"

namespace {
ff::train::LrSchedule make(const std::string& kind, double base, int64_t warmup, int64_t total) {
  ff::train::LrScheduleOptions o;
  o.kind = kind;
  o.base_lr = base;
  o.warmup_steps = warmup;
  o.total_steps = total;
  return ff::train::LrSchedule(o);
}
}  // namespace

TEST_CASE("warmup is linear from base/W, then polynomial decay to zero", "[train]") {
  auto s = make("poly", 0.1, 4, 14);
  CHECK(s.lr(0) == Approx(0.025));
  CHECK(s.lr(3) == Approx(0.1));
  CHECK(s.lr(4) == Approx(0.1));             // (1 - 0/10)^2
  CHECK(s.lr(9) == Approx(0.1 * 0.25));      // (1 - 5/10)^2
  CHECK(s.lr(13) == Approx(0.1 * 0.01));     // (1 - 9/10)^2
  CHECK(s.lr(14) == Approx(0.0));
  ff::train::LrScheduleOptions linear;
  linear.base_lr = 0.2;
  linear.total_steps = 10;
  linear.power = 1.0;
  ff::train::LrSchedule none(linear);
  CHECK(none.lr(0) == Approx(0.2));
  CHECK(none.lr(5) == Approx(0.1));
  CHECK_THROWS_AS(make("poly", 0.1, 11, 10), ff::Error);
}

TEST_CASE("cosine decays from base to min_lr after warmup, multistep multiplies by gamma at each milestone",
          "[train]") {
  ff::train::LrScheduleOptions o;
  o.kind = "cosine";
  o.base_lr = 1.0;
  o.min_lr = 0.1;
  o.warmup_steps = 2;
  o.total_steps = 12;
  ff::train::LrSchedule cosine(o);
  CHECK(cosine.lr(0) == Approx(0.5));   // warmup: 1/2
  CHECK(cosine.lr(2) == Approx(1.0));   // p = 0
  CHECK(cosine.lr(7) == Approx(0.55));  // p = 1/2: 0.1 + 0.9 * (1 + 0) / 2
  CHECK(cosine.lr(4) == Approx(0.1 + 0.9 * (1 + std::cos(M_PI * 0.2)) / 2));
  CHECK(cosine.lr(12) == Approx(0.1));  // p = 1
  o.min_lr = 2.0;
  CHECK_THROWS_WITH(ff::train::LrSchedule(o), Catch::Contains("optim.min_lr 2 is above optim.lr 1"));

  ff::train::LrScheduleOptions m;
  m.kind = "multistep";
  m.base_lr = 0.1;
  m.warmup_steps = 1;
  m.total_steps = 100;
  m.milestones = {10, 20};
  m.gamma = 0.1;
  ff::train::LrSchedule steps(m);
  CHECK(steps.lr(0) == Approx(0.1));   // warmup of one step: base
  CHECK(steps.lr(9) == Approx(0.1));
  CHECK(steps.lr(10) == Approx(0.01));  // torch's MultiStepLR: the milestone step already decayed
  CHECK(steps.lr(19) == Approx(0.01));
  CHECK(steps.lr(20) == Approx(0.001));
  CHECK(steps.lr(99) == Approx(0.001));
  m.milestones = {20, 10};
  CHECK_THROWS_WITH(ff::train::LrSchedule(m), Catch::Contains("optim.milestones must be ascending"));
  m.kind = "step";
  CHECK_THROWS_WITH(ff::train::LrSchedule(m), Catch::Contains("poly, cosine or multistep"));
}
