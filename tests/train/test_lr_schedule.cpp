// Warmup + polynomial schedule against values worked by hand.
#include <catch2/catch.hpp>

#include "src/train/lr_schedule.h"
#include "src/util/error.h"

TEST_CASE("warmup is linear from base/W, then polynomial decay to zero", "[train]") {
  ff::train::WarmupPolynomial s(0.1, 4, 14, 2.0);
  CHECK(s.lr(0) == Approx(0.025));
  CHECK(s.lr(3) == Approx(0.1));
  CHECK(s.lr(4) == Approx(0.1));             // (1 - 0/10)^2
  CHECK(s.lr(9) == Approx(0.1 * 0.25));      // (1 - 5/10)^2
  CHECK(s.lr(13) == Approx(0.1 * 0.01));     // (1 - 9/10)^2
  CHECK(s.lr(14) == Approx(0.0));
  ff::train::WarmupPolynomial none(0.2, 0, 10, 1.0);
  CHECK(none.lr(0) == Approx(0.2));
  CHECK(none.lr(5) == Approx(0.1));
  CHECK_THROWS_AS(ff::train::WarmupPolynomial(0.1, 11, 10, 2.0), ff::Error);
}
