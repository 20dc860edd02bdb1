// Augmenter: determinism, probabilities, and each stage checked against a computation made here (luma,
// colorsys, coordinate-coded images, box filters, a hand-written Gaussian convolution) plus config bindings.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "datasets/augment.h"
#include "src/config/schema.h"
#include "src/util/error.h"
#include "support.h"

using namespace ff::datasets;

namespace {

// Every stage off, flip included, so a test turns on exactly what it checks.
AugmentOptions nothing() {
  AugmentOptions o;
  o.flip.p = 0;
  return o;
}

AugmentOptions everything() {
  AugmentOptions o;
  o.crop.p = o.color.p = o.blur.p = o.low_res.p = o.erase.p = 1.0;
  return o;
}

cv::Mat random_image(int width, int height, uint64_t seed) {
  cv::Mat m(height, width, CV_8UC3);
  std::mt19937_64 rng(seed);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < 3 * width; ++x) m.ptr<uint8_t>(y)[x] = static_cast<uint8_t>(rng() >> 56);
  return m;
}

bool same(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

int channel(const cv::Mat& m, int x, int y, int c) { return m.at<cv::Vec3b>(y, x)[c]; }

// Sum of squared differences between neighbouring pixels: the image's high-frequency energy.
double edge_energy(const cv::Mat& m) {
  double e = 0;
  for (int y = 0; y + 1 < m.rows; ++y)
    for (int x = 0; x + 1 < m.cols; ++x)
      for (int c = 0; c < 3; ++c) {
        double v = channel(m, x, y, c);
        e += std::pow(v - channel(m, x + 1, y, c), 2) + std::pow(v - channel(m, x, y + 1, c), 2);
      }
  return e;
}

int reflect101(int i, int n) {
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
  return i;
}

}  // namespace

TEST_CASE("augment: the same seed gives byte-identical pixels, other seeds differ, threads agree",
          "[datasets]") {
  Augmenter aug(everything());
  const cv::Mat input = random_image(112, 112, 1);
  cv::Mat a = input.clone(), b = input.clone(), c = input.clone();
  AugmentTrace ta, tb;
  bool fa = aug.apply(a, 77, &ta);
  bool fb = aug.apply(b, 77, &tb);
  aug.apply(c, 78);
  CHECK(fa == fb);
  CHECK(same(a, b));
  CHECK(ta.crop_rect.x == tb.crop_rect.x);
  CHECK(ta.blur_sigma == tb.blur_sigma);
  CHECK_FALSE(same(a, c));
  CHECK_FALSE(same(a, input));

  // Two threads sharing one Augmenter give what one thread gives.
  std::vector<cv::Mat> serial(40), threaded(40);
  for (int i = 0; i < 40; ++i) {
    serial[i] = input.clone();
    aug.apply(serial[i], 1000 + i);
    threaded[i] = input.clone();
  }
  auto work = [&](int first) {
    for (int i = first; i < 40; i += 2) aug.apply(threaded[i], 1000 + i);
  };
  std::thread t0(work, 0), t1(work, 1);
  t0.join();
  t1.join();
  for (int i = 0; i < 40; ++i) CHECK(same(serial[i], threaded[i]));
}

TEST_CASE("augment: p = 0 leaves the image byte-identical and the flip alone decides the return", "[datasets]") {
  AugmentOptions o = nothing();
  o.color.brightness = 0.9;  // magnitudes do not matter while p is 0
  o.erase.fill = "solid";
  Augmenter aug(o);
  CHECK_FALSE(aug.active());
  const cv::Mat input = random_image(112, 112, 2);
  for (uint64_t seed = 0; seed < 20; ++seed) {
    cv::Mat m = input.clone();
    CHECK_FALSE(aug.apply(m, seed));
    CHECK(same(m, input));
  }
  AugmentOptions flip_always = nothing();
  flip_always.flip.p = 1;
  cv::Mat m = input.clone();
  CHECK(Augmenter(flip_always).apply(m, 5));
  CHECK(same(m, input));
  CHECK(Augmenter(everything()).active());
}

TEST_CASE("augment: each stage runs with its probability, independently of the others", "[datasets]") {
  AugmentOptions o;
  o.flip.p = o.crop.p = o.color.p = o.grayscale.p = o.blur.p = o.low_res.p = o.erase.p = 0.3;
  o.low_res.min_size = 4;
  o.low_res.max_size = 8;
  o.blur.sigma_max = 0.5;
  Augmenter all(o);
  AugmentOptions flip_only = nothing();
  flip_only.flip.p = 0.3;
  Augmenter only(flip_only);
  AugmentOptions crop_only = nothing();
  crop_only.crop.p = 0.3;
  Augmenter crop_alone(crop_only);
  AugmentOptions erase_only = nothing();
  erase_only.erase.p = 0.3;
  Augmenter erase_alone(erase_only);

  const cv::Mat input = random_image(24, 24, 3);
  const int n = 4000;
  std::array<int, 7> count{};
  int flip_mismatch = 0, crop_mismatch = 0, erase_mismatch = 0;
  for (int i = 0; i < n; ++i) {
    uint64_t seed = 0x9E3779B97F4A7C15ull * (i + 1);
    cv::Mat m = input.clone();
    AugmentTrace t;
    bool flip = all.apply(m, seed, &t);
    count[0] += flip;
    count[1] += t.crop;
    count[2] += t.color;
    count[3] += t.grayscale;
    count[4] += t.blur;
    count[5] += t.low_res;
    count[6] += t.erase;
    cv::Mat m2 = input.clone();
    flip_mismatch += only.apply(m2, seed) != flip;
    AugmentTrace t2;
    m2 = input.clone();
    crop_alone.apply(m2, seed, &t2);
    crop_mismatch += t2.crop != t.crop || t2.crop_rect.x != t.crop_rect.x || t2.crop_rect.width != t.crop_rect.width;
    m2 = input.clone();
    erase_alone.apply(m2, seed, &t2);
    erase_mismatch +=
        t2.erase != t.erase || t2.erase_rect.y != t.erase_rect.y || t2.erase_rect.height != t.erase_rect.height;
  }
  const char* names[] = {"flip", "crop", "color", "grayscale", "blur", "low_res", "erase"};
  for (int s = 0; s < 7; ++s) {
    INFO(names[s] << " applied " << count[s] << " of " << n);
    CHECK(std::abs(count[s] / static_cast<double>(n) - 0.3) <= 0.03);
  }
  CHECK(flip_mismatch == 0);  // turning other stages on does not move the flip draw
  CHECK(crop_mismatch == 0);  // nor the crop's
  CHECK(erase_mismatch == 0);  // nor the last stage's, whatever ran before it
}

TEST_CASE("augment: grayscale is the ITU-R 601-2 luma in all three channels", "[datasets]") {
  AugmentOptions o = nothing();
  o.grayscale.p = 1;
  const cv::Mat input = random_image(112, 112, 4);
  cv::Mat m = input.clone();
  AugmentTrace t;
  Augmenter(o).apply(m, 9, &t);
  CHECK(t.grayscale);
  int bad = 0;
  for (int y = 0; y < 112; ++y)
    for (int x = 0; x < 112; ++x) {
      double luma = 0.299 * channel(input, x, y, 2) + 0.587 * channel(input, x, y, 1) + 0.114 * channel(input, x, y, 0);
      long expected = std::lround(luma);
      for (int c = 0; c < 3; ++c) bad += std::abs(channel(m, x, y, c) - expected) > 1;
    }
  CHECK(bad == 0);
}

TEST_CASE("augment: brightness jitter scales every value by one factor f with 1 - b <= f <= 1 + b", "[datasets]") {
  AugmentOptions o = nothing();
  o.color.p = 1;
  o.color.brightness = 0.4;
  o.color.contrast = o.color.saturation = o.color.hue = 0;
  Augmenter aug(o);
  const cv::Mat input = random_image(64, 64, 5);
  bool darker = false, brighter = false;
  for (uint64_t seed = 0; seed < 30; ++seed) {
    cv::Mat m = input.clone();
    AugmentTrace t;
    aug.apply(m, seed, &t);
    REQUIRE(t.color);
    // Every pixel confines f to an interval; one f must satisfy them all.
    double lo = 0, hi = 1e9;
    bool zero_ok = true;
    for (int y = 0; y < 64; ++y)
      for (int x = 0; x < 64; ++x)
        for (int c = 0; c < 3; ++c) {
          int v = channel(input, x, y, c), out = channel(m, x, y, c);
          if (v == 0) {
            zero_ok = zero_ok && out == 0;
            continue;
          }
          lo = std::max(lo, (out - 0.5) / v);
          if (out < 255) hi = std::min(hi, (out + 0.5) / v);
        }
    INFO("seed " << seed << " f in [" << lo << ", " << hi << "], drawn " << t.brightness);
    CHECK(zero_ok);
    CHECK(lo <= hi);
    CHECK(hi >= 0.6 - 1e-9);
    CHECK(lo <= 1.4 + 1e-9);
    CHECK(t.brightness >= lo);
    CHECK(t.brightness <= hi);
    CHECK(t.contrast == 1.0);
    CHECK(t.saturation == 1.0);
    CHECK(t.hue == 0.0);
    darker = darker || hi < 1;
    brighter = brighter || lo > 1;
  }
  CHECK(darker);
  CHECK(brighter);
}

TEST_CASE("augment: contrast blends towards the mean luma, saturation towards each pixel's luma", "[datasets]") {
  const cv::Mat input = random_image(48, 40, 6);
  SECTION("contrast") {
    AugmentOptions o = nothing();
    o.color.p = 1;
    o.color.contrast = 0.5;
    o.color.brightness = o.color.saturation = o.color.hue = 0;
    double mean = 0;
    for (int y = 0; y < input.rows; ++y)
      for (int x = 0; x < input.cols; ++x)
        mean += 0.299 * channel(input, x, y, 2) + 0.587 * channel(input, x, y, 1) + 0.114 * channel(input, x, y, 0);
    mean /= input.rows * input.cols;
    for (uint64_t seed = 0; seed < 5; ++seed) {
      cv::Mat m = input.clone();
      AugmentTrace t;
      Augmenter(o).apply(m, seed, &t);
      CHECK(t.contrast >= 0.5);
      CHECK(t.contrast <= 1.5);
      int bad = 0;
      for (int y = 0; y < input.rows; ++y)
        for (int x = 0; x < input.cols; ++x)
          for (int c = 0; c < 3; ++c) {
            double e = std::clamp(t.contrast * channel(input, x, y, c) + (1 - t.contrast) * mean, 0.0, 255.0);
            bad += std::abs(channel(m, x, y, c) - e) > 0.5 + 1e-6;
          }
      CHECK(bad == 0);
    }
  }
  SECTION("saturation") {
    AugmentOptions o = nothing();
    o.color.p = 1;
    o.color.saturation = 0.8;
    o.color.brightness = o.color.contrast = o.color.hue = 0;
    for (uint64_t seed = 0; seed < 5; ++seed) {
      cv::Mat m = input.clone();
      AugmentTrace t;
      Augmenter(o).apply(m, seed, &t);
      CHECK(t.saturation >= 0.2);
      CHECK(t.saturation <= 1.8);
      int bad = 0;
      for (int y = 0; y < input.rows; ++y)
        for (int x = 0; x < input.cols; ++x) {
          double luma =
              0.299 * channel(input, x, y, 2) + 0.587 * channel(input, x, y, 1) + 0.114 * channel(input, x, y, 0);
          for (int c = 0; c < 3; ++c) {
            double e = std::clamp(t.saturation * channel(input, x, y, c) + (1 - t.saturation) * luma, 0.0, 255.0);
            bad += std::abs(channel(m, x, y, c) - e) > 1.5;  // the grey is rounded to 8 bits first
          }
        }
      CHECK(bad == 0);
    }
  }
}

TEST_CASE("augment: colour jitter applies its four parts in every order", "[datasets]") {
  AugmentOptions o = nothing();
  o.color.p = 1;
  Augmenter aug(o);
  const cv::Mat input = random_image(4, 4, 7);
  std::set<std::array<int, 4>> orders;
  for (uint64_t seed = 0; seed < 600; ++seed) {
    cv::Mat m = input.clone();
    AugmentTrace t;
    aug.apply(m, seed, &t);
    std::array<int, 4> sorted = t.color_order;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == std::array<int, 4>{0, 1, 2, 3});
    orders.insert(t.color_order);
    CHECK(std::abs(t.hue) <= 0.05);
  }
  CHECK(orders.size() == 24);
}

TEST_CASE("augment: hue jitter on a pure colour matches Python's colorsys", "[datasets]") {
  AugmentOptions o = nothing();
  o.color.p = 1;
  o.color.hue = 0.5;
  o.color.brightness = o.color.contrast = o.color.saturation = 0;
  Augmenter aug(o);
  const std::vector<cv::Vec3b> colours{{90, 40, 200}, {60, 180, 30}, {230, 20, 10}, {30, 128, 128}, {77, 77, 77},
                                       {255, 0, 255}, {12, 200, 250}};
  std::ostringstream lines;
  std::vector<cv::Vec3b> got;
  for (size_t i = 0; i < colours.size(); ++i) {
    for (uint64_t seed = 0; seed < 4; ++seed) {
      cv::Mat m(6, 5, CV_8UC3, cv::Scalar(colours[i][0], colours[i][1], colours[i][2]));
      AugmentTrace t;
      aug.apply(m, 31 * i + seed, &t);
      REQUIRE(t.color);
      CHECK(std::abs(t.hue) <= 0.5);
      CHECK(cv::norm(m, cv::Mat(m.size(), CV_8UC3, cv::Scalar(m.at<cv::Vec3b>(0, 0))), cv::NORM_INF) == 0);
      got.push_back(m.at<cv::Vec3b>(0, 0));
      lines << int(colours[i][2]) << ' ' << int(colours[i][1]) << ' ' << int(colours[i][0]) << ' '
            << fmt::format("{:.17g}", t.hue) << '\n';
    }
  }
  ff::test::TempDir dir("augment-hue");
  ff::test::write_text(dir / "in.txt", lines.str());
  ff::test::write_text(dir / "hue.py",
                       "import colorsys, sys\n"
                       "for line in open(sys.argv[1]):\n"
                       "    r, g, b, shift = line.split()\n"
                       "    h, s, v = colorsys.rgb_to_hsv(int(r) / 255, int(g) / 255, int(b) / 255)\n"
                       "    rgb = colorsys.hsv_to_rgb((h + float(shift)) % 1.0, s, v)\n"
                       "    print(' '.join(str(round(255 * x)) for x in rgb))\n");
  auto run = ff::test::run_command(ff::test::python() + " " + (dir / "hue.py").string() + " " +
                                   (dir / "in.txt").string());
  REQUIRE(run.exit_code == 0);
  std::istringstream expected(run.output);
  for (const auto& px : got) {
    int r, g, b;
    REQUIRE(expected >> r >> g >> b);
    INFO("got BGR " << int(px[0]) << ' ' << int(px[1]) << ' ' << int(px[2]) << ", colorsys RGB " << r << ' ' << g
                    << ' ' << b);
    CHECK(std::abs(px[2] - r) <= 1);
    CHECK(std::abs(px[1] - g) <= 1);
    CHECK(std::abs(px[0] - b) <= 1);
  }
}

TEST_CASE("augment: a crop is a resized sub-rectangle of allowed area and aspect", "[datasets]") {
  // Blue holds x, green holds y: the output's corners give back the rectangle.
  const int width = 200, height = 150;
  cv::Mat coded(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) coded.at<cv::Vec3b>(y, x) = cv::Vec3b(x, y, (x * 7 + y * 3) & 255);
  AugmentOptions o = nothing();
  o.crop.p = 1;
  o.crop.scale_min = 0.25;
  o.crop.scale_max = 0.9;
  o.crop.ratio_min = 0.5;
  o.crop.ratio_max = 2.0;
  Augmenter aug(o);
  double smallest = 1, largest = 0, position_sum = 0;
  int placed = 0;
  for (uint64_t seed = 0; seed < 60; ++seed) {
    cv::Mat m = coded.clone();
    AugmentTrace t;
    aug.apply(m, seed, &t);
    REQUIRE(m.cols == width);
    REQUIRE(m.rows == height);
    int x0 = channel(m, 0, 0, 0), x1 = channel(m, width - 1, 0, 0);
    int y0 = channel(m, 0, 0, 1), y1 = channel(m, 0, height - 1, 1);
    int w = x1 - x0 + 1, h = y1 - y0 + 1;
    INFO("seed " << seed << " rect " << x0 << ',' << y0 << ' ' << w << 'x' << h);
    CHECK(channel(m, width - 1, height - 1, 0) == x1);
    CHECK(channel(m, width - 1, height - 1, 1) == y1);
    // Sides are whole pixels rounded from the drawn real sides, hence the half-pixel slack.
    const double area = static_cast<double>(width) * height;
    CHECK((w + 0.5) * (h + 0.5) >= o.crop.scale_min * area);
    CHECK((w - 0.5) * (h - 0.5) <= o.crop.scale_max * area);
    CHECK((w + 0.5) / (h - 0.5) >= o.crop.ratio_min);
    CHECK((w - 0.5) / (h + 0.5) <= o.crop.ratio_max);
    CHECK(t.crop_rect.x == x0);
    CHECK(t.crop_rect.y == y0);
    CHECK(t.crop_rect.width == w);
    CHECK(t.crop_rect.height == h);
    cv::Mat expected;
    cv::resize(coded(cv::Rect(x0, y0, w, h)), expected, coded.size(), 0, 0, cv::INTER_LINEAR);
    CHECK(same(m, expected));
    smallest = std::min(smallest, w * h / area);
    largest = std::max(largest, w * h / area);
    if (w < width) position_sum += static_cast<double>(x0) / (width - w), ++placed;
    if (h < height) position_sum += static_cast<double>(y0) / (height - h), ++placed;
  }
  CHECK(smallest < 0.4);  // the draws spread over the range
  CHECK(largest > 0.75);
  CHECK(std::abs(position_sum / placed - 0.5) < 0.1);  // offsets uniform over the free room

  SECTION("no rectangle fits: the centred whole-image fallback at the nearest allowed aspect") {
    AugmentOptions f = nothing();
    f.crop.p = 1;
    f.crop.scale_min = f.crop.scale_max = 1.0;
    f.crop.ratio_min = 2.0;
    f.crop.ratio_max = 3.0;
    cv::Mat square = coded(cv::Rect(0, 0, 100, 100)).clone();
    AugmentTrace t;
    Augmenter(f).apply(square, 3, &t);
    CHECK(t.crop_rect.x == 0);
    CHECK(t.crop_rect.y == 25);  // height 100 / 2 = 50, centred
    CHECK(t.crop_rect.width == 100);
    CHECK(t.crop_rect.height == 50);
    CHECK(channel(square, 0, 0, 1) == 25);
    CHECK(channel(square, 0, 99, 1) == 74);
  }
}

TEST_CASE("augment: low-res is INTER_AREA down to the drawn side and INTER_LINEAR back up", "[datasets]") {
  const cv::Mat input = random_image(112, 112, 8);
  SECTION("min = max = 14 gives exactly down-then-up") {
    AugmentOptions o = nothing();
    o.low_res.p = 1;
    o.low_res.min_size = o.low_res.max_size = 14;
    cv::Mat m = input.clone();
    AugmentTrace t;
    Augmenter(o).apply(m, 1, &t);
    CHECK(t.low_res);
    cv::Mat small, expected;
    cv::resize(input, small, cv::Size(14, 14), 0, 0, cv::INTER_AREA);
    cv::resize(small, expected, cv::Size(112, 112), 0, 0, cv::INTER_LINEAR);
    CHECK(same(m, expected));
    // 112 / 14 = 8: INTER_AREA is then the mean of each 8 x 8 block, computed here by hand.
    int bad = 0;
    for (int by = 0; by < 14; ++by)
      for (int bx = 0; bx < 14; ++bx)
        for (int c = 0; c < 3; ++c) {
          double sum = 0;
          for (int y = 0; y < 8; ++y)
            for (int x = 0; x < 8; ++x) sum += channel(input, 8 * bx + x, 8 * by + y, c);
          bad += std::abs(channel(small, bx, by, c) - sum / 64) > 0.5 + 1e-9;
        }
    CHECK(bad == 0);
  }
  SECTION("default range: sides in [14, 56] and high frequencies removed") {
    AugmentOptions o = nothing();
    o.low_res.p = 1;
    Augmenter aug(o);
    std::set<int> sides;
    const double before = edge_energy(input);
    for (uint64_t seed = 0; seed < 40; ++seed) {
      cv::Mat m = input.clone();
      AugmentTrace t;
      aug.apply(m, seed, &t);
      REQUIRE(t.low_res);
      CHECK(t.low_res_width == t.low_res_height);
      CHECK(t.low_res_width >= 14);
      CHECK(t.low_res_width <= 56);
      sides.insert(t.low_res_width);
      CHECK(m.size() == input.size());
      CHECK(edge_energy(m) < 0.5 * before);
    }
    CHECK(sides.size() > 10);
  }
  SECTION("a non-square image keeps its aspect ratio at the small size") {
    AugmentOptions o = nothing();
    o.low_res.p = 1;
    o.low_res.min_size = o.low_res.max_size = 20;
    cv::Mat m = random_image(120, 80, 9);
    AugmentTrace t;
    Augmenter(o).apply(m, 2, &t);
    CHECK(t.low_res_height == 20);
    CHECK(t.low_res_width == 30);
    CHECK(m.cols == 120);
    CHECK(m.rows == 80);
  }
}

TEST_CASE("augment: erasing changes one rectangle of allowed area, solid fill is one colour", "[datasets]") {
  const int side = 112;
  const cv::Mat input = random_image(side, side, 10);
  double position_sum = 0;
  for (const std::string fill : {"noise", "solid"}) {
    AugmentOptions o = nothing();
    o.erase.p = 1;
    o.erase.fill = fill;
    Augmenter aug(o);
    for (uint64_t seed = 0; seed < 40; ++seed) {
      cv::Mat m = input.clone();
      AugmentTrace t;
      aug.apply(m, seed, &t);
      INFO(fill << " seed " << seed);
      REQUIRE(t.erase);
      // The bounding box of the changed pixels, found from the pixels alone.
      int x0 = side, y0 = side, x1 = -1, y1 = -1, changed = 0;
      for (int y = 0; y < side; ++y)
        for (int x = 0; x < side; ++x)
          if (m.at<cv::Vec3b>(y, x) != input.at<cv::Vec3b>(y, x)) {
            x0 = std::min(x0, x), y0 = std::min(y0, y), x1 = std::max(x1, x), y1 = std::max(y1, y);
            ++changed;
          }
      int w = x1 - x0 + 1, h = y1 - y0 + 1;
      REQUIRE(w > 0);
      CHECK(changed >= 0.99 * w * h);  // a rectangle, not a scatter (a few pixels may be redrawn equal)
      CHECK(w < side);
      CHECK(h < side);
      const double area = static_cast<double>(side) * side;
      CHECK((w + 0.5) * (h + 0.5) >= o.erase.area_min * area);
      CHECK((w - 0.5) * (h - 0.5) <= o.erase.area_max * area);
      CHECK((w + 0.5) / (h - 0.5) >= o.erase.ratio_min);
      CHECK((w - 0.5) / (h + 0.5) <= o.erase.ratio_max);
      CHECK(t.erase_rect.x == x0);
      CHECK(t.erase_rect.y == y0);
      CHECK(t.erase_rect.width == w);
      CHECK(t.erase_rect.height == h);
      position_sum += static_cast<double>(x0) / (side - w) + static_cast<double>(y0) / (side - h);
      cv::Mat region = m(cv::Rect(x0, y0, w, h));
      if (fill == "solid") {
        cv::Vec3b colour = region.at<cv::Vec3b>(0, 0);
        CHECK(cv::norm(region, cv::Mat(region.size(), CV_8UC3, cv::Scalar(colour)), cv::NORM_INF) == 0);
        CHECK(colour == cv::Vec3b(t.erase_color[0], t.erase_color[1], t.erase_color[2]));
      } else if (w * h >= 400) {
        cv::Scalar mean = cv::mean(region);
        for (int c = 0; c < 3; ++c) CHECK(std::abs(mean[c] - 127.5) < 15);
      }
    }
  }
  CHECK(std::abs(position_sum / 160 - 0.5) < 0.1);  // offsets uniform over the free room
}

TEST_CASE("augment: blur equals a Gaussian of the documented kernel and a sigma in range", "[datasets]") {
  AugmentOptions o = nothing();
  o.blur.p = 1;
  o.blur.sigma_min = 0.3;
  o.blur.sigma_max = 2.0;
  Augmenter aug(o);
  const int side = 48;
  const cv::Mat input = random_image(side, side, 11);
  for (uint64_t seed = 0; seed < 8; ++seed) {
    cv::Mat m = input.clone();
    AugmentTrace t;
    aug.apply(m, seed, &t);
    REQUIRE(t.blur);
    CHECK(t.blur_sigma >= 0.3);
    CHECK(t.blur_sigma <= 2.0);
    const int k = t.blur_kernel, r = k / 2;
    CHECK(k == 2 * static_cast<int>(std::ceil(3 * t.blur_sigma)) + 1);
    // Separable normalised Gaussian with reflect-101 borders, in double precision.
    std::vector<double> g(k);
    double total = 0;
    for (int i = 0; i < k; ++i) total += g[i] = std::exp(-(i - r) * (i - r) / (2 * t.blur_sigma * t.blur_sigma));
    for (double& v : g) v /= total;
    std::vector<double> rows(side * side * 3);
    for (int y = 0; y < side; ++y)
      for (int x = 0; x < side; ++x)
        for (int c = 0; c < 3; ++c) {
          double s = 0;
          for (int i = 0; i < k; ++i) s += g[i] * channel(input, reflect101(x + i - r, side), y, c);
          rows[(y * side + x) * 3 + c] = s;
        }
    // The output is that convolution rounded to the nearest level (float arithmetic may tip a near-tie).
    int bad = 0;
    for (int y = 0; y < side; ++y)
      for (int x = 0; x < side; ++x)
        for (int c = 0; c < 3; ++c) {
          double s = 0;
          for (int i = 0; i < k; ++i) s += g[i] * rows[(reflect101(y + i - r, side) * side + x) * 3 + c];
          bad += std::abs(channel(m, x, y, c) - s) > 0.5 + 1e-3;
        }
    INFO("sigma " << t.blur_sigma << " kernel " << k);
    CHECK(bad == 0);
  }
}

TEST_CASE("augment: config keys carry bounds, choices and cross-field checks that name the key", "[datasets]") {
  ff::config::Schema schema;
  AugmentOptions o;
  bind_schema(schema, o);
  for (const auto& key : schema.keys()) CHECK(key.rfind("data.augment.", 0) == 0);
  for (const auto& e : schema.entries()) CHECK_FALSE(e.doc.empty());
  CHECK(schema.find("data.augment.low_res.max_size") != nullptr);

  CHECK(ff::test::error_of([&] {
          ff::config::load_yaml_text("data:\n  augment:\n    crop:\n      p: 1.5\n", "aug.yaml", schema);
        }) == "aug.yaml:4: data.augment.crop.p: value out of range: expected [0, 1], got 1.5");
  CHECK(ff::test::error_of([&] {
          ff::config::load_yaml_text("data:\n  augment:\n    low_res:\n      min_size: 1\n", "aug.yaml", schema);
        }) == "aug.yaml:4: data.augment.low_res.min_size: value out of range: expected >= 2, got 1");
  CHECK(ff::test::error_of([&] {
          ff::config::load_yaml_text("data:\n  augment:\n    erase:\n      fill: blur\n", "aug.yaml", schema);
        }).find("data.augment.erase.fill: expected one of noise, solid, got 'blur'") != std::string::npos);

  ff::config::load_yaml_text(
      "data:\n  augment:\n    flip: {p: 0.25}\n    color: {p: 0.5, hue: 0.1}\n    low_res: {min_size: 8}\n"
      "    erase: {fill: solid}\n",
      "aug.yaml", schema);
  CHECK(o.flip.p == 0.25);
  CHECK(o.color.p == 0.5);
  CHECK(o.color.hue == 0.1);
  CHECK(o.color.brightness == 0.2);  // untouched default
  CHECK(o.low_res.min_size == 8);
  CHECK(o.erase.fill == "solid");
  CHECK_NOTHROW(check(o));

  AugmentOptions bad;
  bad.crop.scale_min = 0.9;
  bad.crop.scale_max = 0.8;
  CHECK(ff::test::error_of([&] { check(bad); }) ==
        "data.augment.crop.scale_min (0.9) must not exceed data.augment.crop.scale_max (0.8)");
  bad = AugmentOptions{};
  bad.low_res.min_size = 60;
  CHECK(ff::test::error_of([&] { Augmenter{bad}; }) ==
        "data.augment.low_res.min_size (60) must not exceed data.augment.low_res.max_size (56)");
  bad = AugmentOptions{};
  bad.blur.p = 2;
  CHECK(ff::test::error_of([&] { Augmenter{bad}; }) ==
        "data.augment.blur.p: value out of range: expected [0, 1], got 2");
  cv::Mat gray(8, 8, CV_8UC1, cv::Scalar(0));
  CHECK(ff::test::error_of([&] { Augmenter(everything()).apply(gray, 1); }).find("8-bit 3-channel") !=
        std::string::npos);
}
