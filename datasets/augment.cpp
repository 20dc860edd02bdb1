// Training-image augmentations: the `data.augment.*` bindings and the seeded, thread-safe Augmenter.
#include "datasets/augment.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <string>
#include <type_traits>
#include <utility>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "src/config/schema.h"
#include "src/util/error.h"

namespace ff::datasets {

using config::Bounds;

namespace {

// One walk over every key serves both bind_schema() and check(), so the two can never disagree.
template <typename Visit>
void each_key(AugmentOptions& o, Visit&& v) {
  const Bounds probability = Bounds::closed(0, 1);
  const Bounds positive = Bounds::greater_than(0);
  const Bounds fraction{0, 1, true, false};       // (0, 1]
  const Bounds open_fraction{0, 1, true, true};   // (0, 1): an erased rectangle must leave some image
  v("data.augment.flip.p", o.flip.p, "probability of a horizontal flip", probability);
  v("data.augment.crop.p", o.crop.p, "probability of a random resized crop", probability);
  v("data.augment.crop.scale_min", o.crop.scale_min, "smallest crop area as a fraction of the image", fraction);
  v("data.augment.crop.scale_max", o.crop.scale_max, "largest crop area as a fraction of the image", fraction);
  v("data.augment.crop.ratio_min", o.crop.ratio_min, "smallest crop aspect ratio width/height (log-uniform)",
    positive);
  v("data.augment.crop.ratio_max", o.crop.ratio_max, "largest crop aspect ratio width/height (log-uniform)",
    positive);
  v("data.augment.color.p", o.color.p, "probability of colour jitter", probability);
  v("data.augment.color.brightness", o.color.brightness, "brightness factor drawn from [max(0, 1-x), 1+x]",
    Bounds::at_least(0));
  v("data.augment.color.contrast", o.color.contrast, "contrast factor drawn from [max(0, 1-x), 1+x]",
    Bounds::at_least(0));
  v("data.augment.color.saturation", o.color.saturation, "saturation factor drawn from [max(0, 1-x), 1+x]",
    Bounds::at_least(0));
  v("data.augment.color.hue", o.color.hue, "hue shift drawn from [-x, x] of the full hue circle",
    Bounds::closed(0, 0.5));
  v("data.augment.grayscale.p", o.grayscale.p, "probability of converting to grayscale (ITU-R 601-2 luma)",
    probability);
  v("data.augment.blur.p", o.blur.p, "probability of a Gaussian blur", probability);
  v("data.augment.blur.sigma_min", o.blur.sigma_min, "smallest blur sigma in pixels (kernel 2 ceil(3 sigma) + 1)",
    positive);
  v("data.augment.blur.sigma_max", o.blur.sigma_max, "largest blur sigma in pixels", positive);
  v("data.augment.low_res.p", o.low_res.p, "probability of a low-resolution degradation (down, then back up)",
    probability);
  v("data.augment.low_res.min_size", o.low_res.min_size, "smallest side in pixels of the degraded image",
    Bounds::at_least(2));
  v("data.augment.low_res.max_size", o.low_res.max_size, "largest side in pixels of the degraded image",
    Bounds::at_least(2));
  v("data.augment.erase.p", o.erase.p, "probability of random erasing (synthetic occlusion)", probability);
  v("data.augment.erase.area_min", o.erase.area_min, "smallest erased area as a fraction of the image",
    open_fraction);
  v("data.augment.erase.area_max", o.erase.area_max, "largest erased area as a fraction of the image",
    open_fraction);
  v("data.augment.erase.ratio_min", o.erase.ratio_min, "smallest erased aspect ratio width/height (log-uniform)",
    positive);
  v("data.augment.erase.ratio_max", o.erase.ratio_max, "largest erased aspect ratio width/height (log-uniform)",
    positive);
  v("data.augment.erase.fill", o.erase.fill, "erased pixels: uniform random bytes, or one random colour",
    erase_fill_modes());
}

template <typename T>
void check_order(const char* min_key, T min, const char* max_key, T max) {
  if (min > max) fail("{} ({}) must not exceed {} ({})", min_key, min, max_key, max);
}

// --- random numbers, derived by hand so every standard library gives the same values ---

double unit_of(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }  // [0, 1)

// The run of stream positions reserved for one stage. Whatever the stage leaves unused is skipped when
// it ends, so every stage reads the same positions whatever the stages before it drew.
class Draws {
 public:
  static constexpr int kUnbounded = -1;  // the last stage: nothing follows it, so it may draw freely
  Draws(std::mt19937_64& rng, int reserved) : rng_(rng), left_(reserved) {}
  ~Draws() {
    if (left_ > 0) rng_.discard(static_cast<unsigned long long>(left_));
  }
  Draws(const Draws&) = delete;
  Draws& operator=(const Draws&) = delete;

  uint64_t bits() {
    if (left_ != kUnbounded && left_-- == 0) fail("internal: an augmentation stage drew more than it reserved");
    return rng_();
  }
  double unit() { return unit_of(bits()); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * unit(); }
  // Whole number in [lo, hi].
  int between(int lo, int hi) {
    int n = hi - lo + 1;
    return lo + std::min(n - 1, static_cast<int>(unit() * n));
  }

 private:
  std::mt19937_64& rng_;
  int left_;
};

// Stream positions per stage: the run/skip draw plus the most the stage can use.
constexpr int kCropDraws = 1 + 10 * 2 + 2;  // 10 tries of (area, aspect), then y, x
constexpr int kColorDraws = 1 + 3 + 4;      // order (3 swaps), 4 factors
constexpr int kGrayscaleDraws = 1;
constexpr int kBlurDraws = 1 + 1;           // sigma
constexpr int kLowResDraws = 1 + 1;         // side

int round_int(double v) { return static_cast<int>(std::lround(v)); }

// Per-thread working images, reused from call to call. A fresh 112 x 112 float image (150 KB) per call is
// above glibc's mmap threshold and cost an mmap, page faults and an munmap each time (a hue shift took
// about five times as long). Each thread has its own, so apply() shares nothing between threads.
struct Scratch {
  cv::Mat f32;          // float BGR or HSV
  cv::Mat u8;           // 8-bit BGR
  cv::Mat gray, gray3;  // luma, and luma in three channels
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// --- the stages ---

PixelRect crop_rect(Draws& rng, int width, int height, const AugmentOptions::Crop& o) {
  const double area = static_cast<double>(width) * height;
  const double log_lo = std::log(o.ratio_min), log_hi = std::log(o.ratio_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    double target = area * rng.uniform(o.scale_min, o.scale_max);
    double aspect = std::exp(rng.uniform(log_lo, log_hi));
    int w = round_int(std::sqrt(target * aspect));
    int h = round_int(std::sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      int y = rng.between(0, height - h);
      int x = rng.between(0, width - w);
      return {x, y, w, h};
    }
  }
  // No fit: the whole image, trimmed to the nearest allowed aspect ratio, centred.
  int w = width, h = height;
  double in_ratio = static_cast<double>(width) / height;
  if (in_ratio < o.ratio_min) {
    h = std::clamp(round_int(width / o.ratio_min), 1, height);
  } else if (in_ratio > o.ratio_max) {
    w = std::clamp(round_int(height * o.ratio_max), 1, width);
  }
  return {(width - w) / 2, (height - h) / 2, w, h};
}

void apply_lut(cv::Mat& bgr, const std::array<double, 256>& value) {
  cv::Mat lut(1, 256, CV_8U);
  for (int v = 0; v < 256; ++v) lut.at<uint8_t>(v) = cv::saturate_cast<uint8_t>(value[v]);
  cv::LUT(bgr, lut, bgr);
}

void adjust_brightness(cv::Mat& bgr, double f) {
  std::array<double, 256> value;
  for (int v = 0; v < 256; ++v) value[v] = v * f;
  apply_lut(bgr, value);
}

void adjust_contrast(cv::Mat& bgr, double c) {
  cv::Scalar m = cv::mean(bgr);  // B, G, R means; luma is linear, so its mean is the luma of the means
  double mean_luma = 0.114 * m[0] + 0.587 * m[1] + 0.299 * m[2];
  std::array<double, 256> value;
  for (int v = 0; v < 256; ++v) value[v] = c * v + (1.0 - c) * mean_luma;
  apply_lut(bgr, value);
}

void adjust_saturation(cv::Mat& bgr, double s, Scratch& work) {
  cv::cvtColor(bgr, work.gray, cv::COLOR_BGR2GRAY);
  cv::cvtColor(work.gray, work.gray3, cv::COLOR_GRAY2BGR);
  cv::addWeighted(bgr, s, work.gray3, 1.0 - s, 0.0, bgr);
}

// Rotates hue in float HSV (OpenCV's 8-bit HSV would quantise hue to 180 or 256 steps and S, V to 8 bits).
void adjust_hue(cv::Mat& bgr, double shift, Scratch& work) {
  cv::Mat& hsv = work.f32;
  bgr.convertTo(hsv, CV_32FC3, 1.0 / 255.0);
  cv::cvtColor(hsv, hsv, cv::COLOR_BGR2HSV);  // H in degrees [0, 360), S and V in [0, 1]
  // The shift as a turn in [0, 360), so one conditional subtraction wraps. The select form compiles
  // without a branch; a branch mispredicted on varied hues and took two thirds of the time.
  const float degrees = static_cast<float>(shift >= 0 ? shift * 360.0 : shift * 360.0 + 360.0);
  for (int y = 0; y < hsv.rows; ++y) {
    float* p = hsv.ptr<float>(y);
    for (int x = 0; x < hsv.cols; ++x) {
      float h = p[3 * x] + degrees;
      float wrapped = h - 360.0f;
      p[3 * x] = wrapped >= 0.0f ? wrapped : h;
    }
  }
  cv::cvtColor(hsv, hsv, cv::COLOR_HSV2BGR);
  hsv.convertTo(bgr, CV_8UC3, 255.0);  // rounds to nearest and saturates
}

void color_jitter(cv::Mat& bgr, Draws& rng, const AugmentOptions::Color& o, AugmentTrace& t, Scratch& work) {
  std::array<int, 4> order{0, 1, 2, 3};
  for (int i = 3; i > 0; --i) std::swap(order[i], order[rng.between(0, i)]);  // Fisher-Yates
  // All four are drawn every time so that a magnitude of 0 does not shift the other draws.
  auto factor = [&](double x) { return rng.uniform(std::max(0.0, 1.0 - x), 1.0 + x); };
  t.brightness = factor(o.brightness);
  t.contrast = factor(o.contrast);
  t.saturation = factor(o.saturation);
  t.hue = rng.uniform(-o.hue, o.hue);
  t.color_order = order;
  for (int op : order) {
    switch (op) {
      case 0: if (t.brightness != 1.0) adjust_brightness(bgr, t.brightness); break;
      case 1: if (t.contrast != 1.0) adjust_contrast(bgr, t.contrast); break;
      case 2: if (t.saturation != 1.0) adjust_saturation(bgr, t.saturation, work); break;
      default: if (t.hue != 0.0) adjust_hue(bgr, t.hue, work); break;
    }
  }
}

// Returns false when no rectangle fitted in 10 tries.
bool erase(cv::Mat& bgr, Draws& rng, const AugmentOptions::Erase& o, AugmentTrace& t) {
  const int width = bgr.cols, height = bgr.rows;
  const double area = static_cast<double>(width) * height;
  const double log_lo = std::log(o.ratio_min), log_hi = std::log(o.ratio_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    double target = area * rng.uniform(o.area_min, o.area_max);
    double aspect = std::exp(rng.uniform(log_lo, log_hi));
    int w = round_int(std::sqrt(target * aspect));
    int h = round_int(std::sqrt(target / aspect));
    if (!(w > 0 && w < width && h > 0 && h < height)) continue;
    int y = rng.between(0, height - h);
    int x = rng.between(0, width - w);
    t.erase_rect = {x, y, w, h};
    cv::Mat roi = bgr(cv::Rect(x, y, w, h));
    if (o.fill == "solid") {
      uint64_t r = rng.bits();
      t.erase_color = {static_cast<uint8_t>(r), static_cast<uint8_t>(r >> 8), static_cast<uint8_t>(r >> 16)};
      roi.setTo(cv::Scalar(t.erase_color[0], t.erase_color[1], t.erase_color[2]));
    } else {
      // Eight bytes per draw, low byte first, row by row.
      const int bytes = 3 * w;
      for (int row = 0; row < h; ++row) {
        uint8_t* p = roi.ptr<uint8_t>(row);
        for (int i = 0; i < bytes; i += 8) {
          uint64_t r = rng.bits();
          for (int k = 0; k < 8 && i + k < bytes; ++k) p[i + k] = static_cast<uint8_t>(r >> (8 * k));
        }
      }
    }
    return true;
  }
  return false;
}

}  // namespace

const std::vector<std::string>& erase_fill_modes() {
  static const std::vector<std::string> modes{"noise", "solid"};
  return modes;
}

void bind_schema(config::Schema& schema, AugmentOptions& options) {
  each_key(options, [&](const char* key, auto& field, const char* doc, const auto& limits) {
    schema.add(key, field, doc, limits);
  });
}

void check(const AugmentOptions& options) {
  AugmentOptions o = options;  // each_key hands out mutable fields; nothing is written here
  each_key(o, [](const char* key, auto& field, const char*, const auto& limits) {
    using Field = std::decay_t<decltype(field)>;
    if constexpr (std::is_same_v<Field, std::string>) {
      if (std::find(limits.begin(), limits.end(), field) == limits.end())
        fail("{}: expected one of {}, got '{}'", key, fmt::join(limits, ", "), field);
    } else {
      if (!limits.contains(static_cast<double>(field)))
        fail("{}: value out of range: expected {}, got {}", key, limits.text(), field);
    }
  });
  check_order("data.augment.crop.scale_min", o.crop.scale_min, "data.augment.crop.scale_max", o.crop.scale_max);
  check_order("data.augment.crop.ratio_min", o.crop.ratio_min, "data.augment.crop.ratio_max", o.crop.ratio_max);
  check_order("data.augment.blur.sigma_min", o.blur.sigma_min, "data.augment.blur.sigma_max", o.blur.sigma_max);
  check_order("data.augment.low_res.min_size", o.low_res.min_size, "data.augment.low_res.max_size",
              o.low_res.max_size);
  check_order("data.augment.erase.area_min", o.erase.area_min, "data.augment.erase.area_max", o.erase.area_max);
  check_order("data.augment.erase.ratio_min", o.erase.ratio_min, "data.augment.erase.ratio_max",
              o.erase.ratio_max);
}

Augmenter::Augmenter(const AugmentOptions& options) : options_(options) {
  check(options_);
  const auto& o = options_;
  active_ = o.crop.p > 0 || o.color.p > 0 || o.grayscale.p > 0 || o.blur.p > 0 || o.low_res.p > 0 || o.erase.p > 0;
}

bool Augmenter::apply(cv::Mat& bgr, uint64_t seed, AugmentTrace* trace) const {
  AugmentTrace local;
  AugmentTrace& t = trace ? *trace : local;
  t = AugmentTrace{};
  if (bgr.type() != CV_8UC3 || bgr.empty())
    fail("augment: expected a non-empty 8-bit 3-channel image, got OpenCV type {} of {}x{}", bgr.type(), bgr.cols,
         bgr.rows);
  std::mt19937_64 rng(seed);
  t.flip = unit_of(rng()) < options_.flip.p;
  if (!active_) return t.flip;

  const auto& o = options_;
  const int width = bgr.cols, height = bgr.rows;
  Scratch& work = scratch();
  // Each stage owns a fixed run of the stream: its first draw decides whether it runs (u < p), the rest
  // are its parameters; unused positions are skipped, so stages never shift one another's draws.
  auto stage = [&](int reserved, double p, auto&& body) {
    Draws draws(rng, reserved);
    if (draws.unit() < p) body(draws);
  };

  stage(kCropDraws, o.crop.p, [&](Draws& d) {
    t.crop = true;
    t.crop_rect = crop_rect(d, width, height, o.crop);
    const PixelRect& r = t.crop_rect;
    if (r.width == width && r.height == height) return;  // the whole image: resizing would be the identity
    cv::resize(bgr(cv::Rect(r.x, r.y, r.width, r.height)), work.u8, cv::Size(width, height), 0, 0,
               cv::INTER_LINEAR);
    work.u8.copyTo(bgr);
  });
  stage(kColorDraws, o.color.p, [&](Draws& d) {
    t.color = true;
    color_jitter(bgr, d, o.color, t, work);
  });
  stage(kGrayscaleDraws, o.grayscale.p, [&](Draws&) {
    t.grayscale = true;
    cv::cvtColor(bgr, work.gray, cv::COLOR_BGR2GRAY);
    cv::cvtColor(work.gray, bgr, cv::COLOR_GRAY2BGR);
  });
  stage(kBlurDraws, o.blur.p, [&](Draws& d) {
    t.blur = true;
    t.blur_sigma = d.uniform(o.blur.sigma_min, o.blur.sigma_max);
    t.blur_kernel = 2 * static_cast<int>(std::ceil(3.0 * t.blur_sigma)) + 1;
    // Filtered in float straight from the 8-bit pixels: about twice as fast as OpenCV's 8-bit fixed-point
    // Gaussian for 112 x 112 images, and exact to the rounding of the result instead of within 2 levels.
    cv::Mat taps = cv::getGaussianKernel(t.blur_kernel, t.blur_sigma, CV_32F);
    cv::sepFilter2D(bgr, work.f32, CV_32F, taps, taps, cv::Point(-1, -1), 0, cv::BORDER_REFLECT_101);
    work.f32.convertTo(bgr, CV_8U);  // rounds to nearest and saturates
  });
  stage(kLowResDraws, o.low_res.p, [&](Draws& d) {
    int side = d.between(o.low_res.min_size, o.low_res.max_size);
    if (side >= std::min(width, height)) return;
    int w = side, h = side;
    if (width < height) h = std::max(1, round_int(static_cast<double>(side) * height / width));
    if (height < width) w = std::max(1, round_int(static_cast<double>(side) * width / height));
    t.low_res = true;
    t.low_res_width = w;
    t.low_res_height = h;
    cv::resize(bgr, work.u8, cv::Size(w, h), 0, 0, cv::INTER_AREA);
    cv::resize(work.u8, bgr, cv::Size(width, height), 0, 0, cv::INTER_LINEAR);
  });
  stage(Draws::kUnbounded, o.erase.p, [&](Draws& d) { t.erase = erase(bgr, d, o.erase, t); });
  return t.flip;
}

}  // namespace ff::datasets
