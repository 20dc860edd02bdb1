// Every margin head against an independent closed form computed element by element with std::
// math on hand-picked angles (θ near 0, near π − m and beyond), central finite differences in
// double precision, and the reductions between heads.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <sstream>

#include <torch/serialize.h>
#include <torch/torch.h>

#include "losses/adaface.h"
#include "losses/arcface.h"
#include "losses/classifier.h"
#include "losses/combined.h"
#include "losses/cosface.h"
#include "losses/curricularface.h"
#include "losses/elasticface.h"
#include "losses/finite_difference.h"
#include "losses/magface.h"
#include "losses/softmax.h"
#include "losses/sphereface.h"
#include "losses/subcenter_arcface.h"

using namespace ff::losses;

namespace {

// Angles for the target column: near 0, mid-range, both sides of π/2, both sides of π − 0.5, near π.
const std::vector<double> kAngles = {1e-4, 0.3, 1.0, M_PI / 2 - 0.01, M_PI / 2 + 0.01, M_PI - 0.51, M_PI - 0.49, 3.0};

struct Case {
  at::Tensor cosine;  // [N, 3]: column 0 the target at kAngles[i], columns 1-2 fixed negatives
  at::Tensor labels;  // all 0
};
Case angle_case() {
  auto theta = torch::tensor(kAngles, torch::kDouble);
  auto n = static_cast<int64_t>(kAngles.size());
  return {torch::stack({torch::cos(theta), torch::full_like(theta, 0.2), torch::full_like(theta, -0.3)}, 1),
          torch::zeros({n}, torch::kLong)};
}

// Checks column 0 against s·target(θ) and the other columns against s·cos θ_j.
void check_closed_form(MarginHead& head, double s, const std::function<double(double theta, size_t row)>& target,
                       const at::Tensor& norms = {}) {
  Case c = angle_case();
  at::Tensor logits = head.forward(c.cosine, c.labels, norms);
  for (size_t i = 0; i < kAngles.size(); ++i) {
    INFO("theta " << kAngles[i]);
    CHECK(logits[i][0].item<double>() == Approx(s * target(kAngles[i], i)).epsilon(1e-9).margin(1e-9));
    CHECK(logits[i][1].item<double>() == Approx(s * 0.2));
    CHECK(logits[i][2].item<double>() == Approx(s * -0.3));
  }
}

// Autograd against central differences of sum(head(cosine) * W), away from kinks.
void check_gradient(MarginHead& head, const at::Tensor& norms = {}, const std::function<void()>& before = [] {}) {
  torch::manual_seed(11);
  auto cosine = torch::tensor({{0.95, 0.1, -0.2}, {0.2, -0.6, 0.4}, {-0.45, 0.3, 0.05}, {0.6, 0.5, 0.1}}, torch::kDouble)
                    .requires_grad_(true);
  auto labels = torch::tensor({0, 1, 0, -1}, torch::kLong);
  auto weights = torch::randn({4, 3}, torch::kDouble);
  auto objective = [&](const at::Tensor& c) {
    before();
    return (head.forward(c, labels, norms) * weights).sum();
  };
  objective(cosine).backward();
  auto numeric = ff::test::central_difference(objective, cosine);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j) {
      INFO("entry " << i << "," << j);
      CHECK(cosine.grad()[i][j].item<double>() == Approx(numeric[i][j].item<double>()).epsilon(1e-6).margin(1e-6));
    }
}

double arcface_reference(double theta, double m) {
  return std::cos(theta) > std::cos(M_PI - m) ? std::cos(theta + m) : std::cos(theta) - m * std::sin(m);
}

// SphereFace's ψ written from its definition: k = floor(mθ/π), (−1)^k cos(mθ) − 2k.
double psi_reference(double theta, int m) {
  int k = std::min(m - 1, static_cast<int>(std::floor(theta * m / M_PI)));
  return (k % 2 ? -1.0 : 1.0) * std::cos(m * theta) - 2.0 * k;
}

}  // namespace

TEST_CASE("softmax passes raw logits through, normface and cosface follow their closed forms", "[losses][heads]") {
  Softmax softmax;
  auto raw = torch::tensor({{2.5, -1.0}, {0.3, 7.0}}, torch::kDouble);
  CHECK(torch::equal(softmax.forward(raw, torch::tensor({0, 1})), raw));
  CHECK_FALSE(softmax.normalized());
  CosFace normface(CosFaceOptions().scale(30).margin(0));
  check_closed_form(normface, 30, [](double t, size_t) { return std::cos(t); });
  CosFace cosface(CosFaceOptions().scale(30).margin(0.35));
  check_closed_form(cosface, 30, [](double t, size_t) { return std::cos(t) - 0.35; });
}

TEST_CASE("sphereface: psi is the k-piecewise form and lambda anneals as scheduled", "[losses][heads]") {
  SphereFaceOptions o;  // m 4, λ = max(5, 1000 (1 + 0.12 step)^-1)
  SphereFace head(16, o);
  head.on_step(0);
  CHECK(head.lambda() == Approx(1000));
  head.on_step(100);
  CHECK(head.lambda() == Approx(1000 / 13.0));
  head.on_step(100000);
  CHECK(head.lambda() == Approx(5));
  const double lambda = head.lambda();
  check_closed_form(head, 16, [&](double t, size_t) { return (lambda * std::cos(t) + psi_reference(t, 4)) / (1 + lambda); });
  // ψ is continuous and decreasing across the piece boundaries kπ/4.
  for (double edge : {M_PI / 4, M_PI / 2, 3 * M_PI / 4}) {
    double below = head.psi(torch::tensor({std::cos(edge - 1e-7)}, torch::kDouble)).item<double>();
    double above = head.psi(torch::tensor({std::cos(edge + 1e-7)}, torch::kDouble)).item<double>();
    CHECK(below == Approx(above).margin(1e-5));
    CHECK(below > above);
  }
  head.on_step(7);
  check_gradient(head);
}

TEST_CASE("combined margin is cos(m1 θ + m2) - m3 for any m1, m2, m3", "[losses][heads]") {
  struct M { double m1, m2, m3; };
  for (M m : {M{1, 0.5, 0}, M{1, 0.3, 0.2}, M{1.35, 0.25, 0.15}, M{2, 0, 0}}) {
    INFO("m1 " << m.m1 << " m2 " << m.m2 << " m3 " << m.m3);
    CombinedMargin head(CombinedMarginOptions().scale(10).m1(m.m1).m2(m.m2).m3(m.m3));
    const double switch_angle = (M_PI - m.m2) / m.m1;
    const double drop = m.m1 == 1 ? m.m2 * std::sin(m.m2) : std::cos(switch_angle) + 1;
    check_closed_form(head, 10, [&](double t, size_t) {
      return t < switch_angle ? std::cos(m.m1 * t + m.m2) - m.m3 : std::cos(t) - m.m3 - drop;
    });
    check_gradient(head);
  }
}

TEST_CASE("reductions: combined(1,0.5,0) = arcface, combined(1,0,0.35) = cosface, m = 0 gives normface", "[losses][heads]") {
  Case c = angle_case();
  auto arc = ArcFace(ArcFaceOptions().scale(64).margin(0.5)).forward(c.cosine, c.labels);
  auto comb_arc = CombinedMargin(CombinedMarginOptions().scale(64).m1(1).m2(0.5).m3(0)).forward(c.cosine, c.labels);
  CHECK(torch::allclose(arc, comb_arc, 1e-12, 1e-10));
  auto cos = CosFace(CosFaceOptions().scale(64).margin(0.35)).forward(c.cosine, c.labels);
  auto comb_cos = CombinedMargin(CombinedMarginOptions().scale(64).m1(1).m2(0).m3(0.35)).forward(c.cosine, c.labels);
  CHECK(torch::allclose(cos, comb_cos, 1e-12, 1e-10));
  auto normface = c.cosine * 64;
  CHECK(torch::allclose(ArcFace(ArcFaceOptions().scale(64).margin(0)).forward(c.cosine, c.labels), normface, 1e-12, 1e-10));
  CHECK(torch::allclose(CombinedMargin(CombinedMarginOptions().scale(64).m2(0)).forward(c.cosine, c.labels), normface,
                        1e-12, 1e-10));
  SphereFaceOptions one;
  one.m = 1;
  CHECK(torch::allclose(SphereFace(64, one).forward(c.cosine, c.labels), normface, 1e-12, 1e-10));
  MagFaceOptions fixed;
  fixed.lower_margin = fixed.upper_margin = 0.5;
  auto norms = torch::full({c.cosine.size(0)}, 30.0, torch::kDouble);
  CHECK(torch::allclose(MagFace(64, fixed).forward(c.cosine, c.labels, norms), arc, 1e-12, 1e-10));
}

TEST_CASE("margin_gradient straight_through: arcface values, identity gradient", "[losses][heads]") {
  ArcFace exact(ArcFaceOptions().scale(8).margin(0.5));
  ArcFace straight(ArcFaceOptions().scale(8).margin(0.5).straight_through(true));
  auto cosine = torch::tensor({{0.7, -0.1, 0.3}, {0.2, 0.9, -0.4}}, torch::kDouble).requires_grad_(true);
  auto labels = torch::tensor({0, 1});
  auto a = exact.forward(cosine, labels), b = straight.forward(cosine, labels);
  CHECK(torch::allclose(a, b, 1e-12, 1e-12));
  b.sum().backward();
  CHECK(torch::allclose(cosine.grad(), torch::full_like(cosine, 8.0)));  // d(s cos)/d cos everywhere
}

TEST_CASE("sub-center classifier pools the best centre per class and dropping keeps the dominant one", "[losses][heads]") {
  auto head = std::make_shared<SubCenterArcFace>(ArcFaceOptions().scale(10).margin(0.2), 2);
  MarginClassifier fc(2, 2, head);
  torch::NoGradGuard no_grad;
  // class 0: centres at 0° and 90°; class 1: centres at 180° and 45°.
  fc.weight.copy_(torch::tensor({{1.0, 0.0}, {0.0, 1.0}, {-1.0, 0.0}, {1.0, 1.0}}));
  auto x = torch::tensor({{std::cos(0.2), std::sin(0.2)}});  // 0.2 rad
  auto pooled = fc.cosine(x);
  CHECK(pooled[0][0].item<double>() == Approx(std::cos(0.2)));              // nearer centre of class 0
  CHECK(pooled[0][1].item<double>() == Approx(std::cos(M_PI / 4 - 0.2)));   // the 45° centre of class 1
  // Train-mode forwards count wins: three samples of class 1 near 180°, one near 45°.
  fc.train();
  auto near_180 = torch::tensor({{-1.0, 0.05}, {-1.0, -0.05}, {-1.0, 0.0}}), near_45 = torch::tensor({{1.0, 0.9}});
  fc.forward(near_180, torch::tensor({1, 1, 1}));
  fc.forward(near_45, torch::tensor({1}));
  fc.drop_non_dominant_subcenters();
  CHECK(fc.cosine(x)[0][1].item<double>() == Approx(std::cos(M_PI - 0.2)).margin(1e-6));  // only 180° counts now
}

TEST_CASE("curricularface re-weights hard negatives with t, an EMA of the target cosine", "[losses][heads]") {
  CurricularFace head(16, 0.5, 0.01);
  auto cosine = torch::tensor({{0.8, 0.75, 0.1}, {0.4, -0.2, 0.3}}, torch::kDouble);
  auto labels = torch::tensor({0, 0});
  head.eval();  // t stays 0
  auto logits = head.forward(cosine, labels);
  const double m = 0.5, t0 = 0;
  double cm0 = std::cos(std::acos(0.8) + m), cm1 = std::cos(std::acos(0.4) + m);
  CHECK(logits[0][0].item<double>() == Approx(16 * cm0));
  CHECK(logits[0][1].item<double>() == Approx(16 * 0.75 * (t0 + 0.75)));  // 0.75 > cos(θ_y + m): hard
  CHECK(logits[0][2].item<double>() == Approx(16 * 0.1));                  // easy
  CHECK(logits[1][2].item<double>() == Approx(16 * 0.3 * (t0 + 0.3)));     // 0.3 > cm1 ≈ 0.115: hard
  CHECK(logits[1][1].item<double>() == Approx(16 * -0.2));
  head.train();
  head.forward(cosine, labels);
  CHECK(head.t() == Approx(0.01 * (0.8 + 0.4) / 2));
  const double t1 = head.t();
  auto after = head.forward(cosine, labels);  // t updates again before use
  const double t2 = 0.99 * t1 + 0.01 * 0.6;
  CHECK(head.t() == Approx(t2));
  CHECK(after[0][1].item<double>() == Approx(16 * 0.75 * (t2 + 0.75)));
  head.eval();
  check_gradient(head);
}

TEST_CASE("magface: the margin grows with the norm and the regulariser is lambda_g mean(1/a + a/u_a^2)", "[losses][heads]") {
  MagFaceOptions o;  // l_a 10, u_a 110, l_m 0.45, u_m 0.8, λ_g 35
  MagFace head(32, o);
  std::vector<double> norm_values = {5, 10, 35, 60, 85, 110, 150, 60};
  auto norms = torch::tensor(norm_values, torch::kDouble);
  auto margin = [&](size_t row) {
    double a = std::clamp(norm_values[row], 10.0, 110.0);
    return 0.45 + (0.8 - 0.45) * (a - 10) / 100;
  };
  check_closed_form(head, 32, [&](double t, size_t row) { return arcface_reference(t, margin(row)); }, norms);
  double g = 0;
  for (double a : norm_values) {
    double c = std::clamp(a, 10.0, 110.0);
    g += 1 / c + c / (110.0 * 110.0);
  }
  CHECK(head.regularizer().item<double>() == Approx(35 * g / norm_values.size()));
  check_gradient(head, torch::tensor({20.0, 50.0, 80.0, 100.0}, torch::kDouble));
  // The gradient also reaches the norms, through m(a) and g(a).
  auto n = torch::tensor({20.0, 50.0, 80.0, 100.0}, torch::kDouble).requires_grad_(true);
  auto c = torch::tensor({{0.9, 0.1}, {0.5, 0.2}, {0.3, 0.1}, {0.7, 0.0}}, torch::kDouble);
  ((head.forward(c, torch::tensor({0, 0, 0, 0}), n)).sum() + head.regularizer()).backward();
  CHECK(n.grad().abs().sum().item<double>() > 0);
  CHECK(magface_quality(torch::tensor({{3.0, 4.0}})).item<double>() == Approx(5.0));
}

TEST_CASE("adaface: margin from the normalised norm, statistics as EMAs", "[losses][heads]") {
  AdaFaceOptions o;  // h 0.333, momentum 0.01
  AdaFace head(64, 0.4, o);
  head.eval();  // μ = 20, σ = 100 stay
  std::vector<double> norm_values = {5, 20, 400, 20, 30, 10, 300, 25};
  auto norms = torch::tensor(norm_values, torch::kDouble);
  const double m = 0.4, eps = 1e-3;
  check_closed_form(head, 64, [&](double t, size_t row) {
    double z = std::clamp((norm_values[row] - 20.0) / (100.0 + eps) * 0.333, -1.0, 1.0);
    double angle = std::clamp(t - m * z, eps, M_PI - eps);
    return std::cos(angle) - (m * z + m);
  }, norms);
  head.train();
  head.forward(angle_case().cosine, angle_case().labels, norms);
  double mean = 0, var = 0;
  for (double v : norm_values) mean += v / norm_values.size();
  for (double v : norm_values) var += (v - mean) * (v - mean) / (norm_values.size() - 1);
  CHECK(head.norm_mean() == Approx(0.99 * 20 + 0.01 * mean));
  CHECK(head.norm_std() == Approx(0.99 * 100 + 0.01 * std::sqrt(var)));
  head.eval();
  check_gradient(head, torch::tensor({15.0, 25.0, 60.0, 30.0}, torch::kDouble));
}

TEST_CASE("elasticface draws a margin per sample from N(m, sigma)", "[losses][heads]") {
  torch::manual_seed(4);
  ElasticFace head(64, 0.5, 0.05);
  Case c = angle_case();
  auto logits = head.forward(c.cosine, c.labels);
  auto margins = head.last_margins();
  for (size_t i = 0; i < kAngles.size(); ++i) {
    double mi = margins[i][0].item<double>();
    CHECK(logits[i][0].item<double>() == Approx(64 * std::cos(kAngles[i] + mi)).epsilon(1e-9).margin(1e-9));
  }
  torch::manual_seed(5);
  ElasticFace many(64, 0.5, 0.05);
  many.forward(torch::zeros({20000, 2}, torch::kDouble), torch::zeros({20000}, torch::kLong));
  CHECK(many.last_margins().mean().item<double>() == Approx(0.5).margin(0.002));
  CHECK(many.last_margins().std().item<double>() == Approx(0.05).margin(0.002));
  check_gradient(head, {}, [] { torch::manual_seed(9); });  // the same draws in every evaluation
}

TEST_CASE("inter-class filtering zeroes non-target cosines above the threshold", "[losses][heads]") {
  CosFace head(CosFaceOptions().scale(10).margin(0.2));
  head.set_interclass_filtering_threshold(0.5);
  auto cosine = torch::tensor({{0.9, 0.7, 0.3}, {0.6, 0.4, 0.8}}, torch::kDouble);
  auto logits = head.forward(cosine, torch::tensor({0, -1}));
  auto expected = torch::tensor({{10 * 0.7, 0.0, 3.0}, {0.0, 4.0, 0.0}}, torch::kDouble);
  CHECK(torch::allclose(logits, expected));
}

TEST_CASE("stateful heads save and restore their state with the classifier", "[losses][heads]") {
  for (const std::string name : {"adaface", "curricularface", "sphereface", "subcenter_arcface"}) {
    INFO(name);
    auto make = [&] {
      HeadOptions o;
      o.head = name;
      return std::make_shared<MarginClassifier>(4, 8, make_margin_head(o));
    };
    torch::manual_seed(6);
    auto trained = make();
    trained->train();
    trained->head().on_step(17);
    trained->forward(torch::randn({6, 8}) * 7, torch::tensor({0, 1, 2, 3, 0, 1}));
    std::stringstream archive_bytes;
    {
      torch::serialize::OutputArchive out;
      trained->save(out);
      out.save_to(archive_bytes);
    }
    auto restored = make();
    auto fresh = make();
    torch::serialize::InputArchive in;
    in.load_from(archive_bytes);
    restored->load(in);
    auto before = fresh->named_buffers(), after = restored->named_buffers(), expected = trained->named_buffers();
    REQUIRE(expected.size() > 0);
    bool changed = false;
    for (const auto& b : expected) {
      INFO(b.key());
      CHECK(torch::equal(after[b.key()], b.value()));
      changed = changed || !torch::equal(before[b.key()], b.value());
    }
    CHECK(changed);  // training really moved the state that was restored
  }
}

TEST_CASE("the registry builds every head and checks per-head ranges", "[losses][heads]") {
  for (const auto& name : margin_head_names()) {
    if (name == "triplet") continue;
    INFO(name);
    HeadOptions o;
    o.head = name;
    auto fc = MarginClassifier(5, 8, make_margin_head(o));
    auto loss = fc.forward(torch::randn({4, 8}), torch::tensor({0, 1, 2, 4}));
    CHECK(std::isfinite(loss.item<double>()));
  }
  HeadOptions bad;
  bad.head = "cosface";
  bad.margin = 1.2;
  CHECK_THROWS_WITH(make_margin_head(bad), Catch::Contains("loss.margin: cosface") && Catch::Contains("m < 1"));
}
