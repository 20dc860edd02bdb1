// Training-image augmentations (`data.augment.*` keys): flip, random resized crop, colour jitter,
// grayscale, Gaussian blur, low-resolution degradation and random erasing, each with its own probability.
//
// Semantics follow torchvision's documented transforms where one exists (RandomResizedCrop, ColorJitter,
// RandomGrayscale, GaussianBlur, RandomErasing); the differences are spelled out field by field below.
//
// Randomness. Everything is drawn from std::mt19937_64, whose output the C++ standard fixes bit for bit,
// and every real number is derived by hand ((x >> 11) * 2^-53) rather than through the library's
// distributions (whose algorithms differ between standard libraries), so one seed gives the same draws on
// every platform, compiler and thread count, and the same pixels with the same OpenCV build.
//   1. rng = mt19937_64(seed). Its first output decides the flip (u < flip.p). When no augmentation
//      besides flip is enabled, apply() stops here.
//   2. Otherwise each stage, in the order crop, colour, grayscale, blur, low_res, erase, owns a fixed run
//      of the following outputs (crop 23, colour 8, grayscale 1, blur 2, low_res 2, erase the rest). The
//      first decides whether it runs (u < p); the rest are its parameters, in the order written in
//      augment.cpp; positions a stage does not use are skipped. So enabling, disabling or retuning one
//      stage never changes what another stage draws for the same seed, which keeps ablations comparable
//      image for image.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace cv {
class Mat;
}

namespace ff::config {
class Schema;
}

namespace ff::datasets {

struct AugmentOptions {
  // Horizontal mirror; arcface_torch's only augmentation, hence the only one on by default.
  struct Flip {
    double p = 0.5;
  } flip;

  // RandomResizedCrop: a rectangle covering area fraction U[scale_min, scale_max] of the image with aspect
  // ratio width/height log-uniform in [ratio_min, ratio_max]; up to 10 tries for one that fits, otherwise
  // the whole image trimmed to the nearest allowed aspect ratio, centred. Sides are rounded to whole pixels
  // (so the area fraction holds up to that rounding). The rectangle is resized back to the input size
  // (bilinear, cv::INTER_LINEAR).
  struct Crop {
    double p = 0.0;
    double scale_min = 0.8;
    double scale_max = 1.0;
    double ratio_min = 3.0 / 4.0;
    double ratio_max = 4.0 / 3.0;
  } crop;

  // ColorJitter: brightness, contrast and saturation factors uniform in [max(0, 1 - x), 1 + x]; hue shift
  // uniform in [-hue, hue] of the full hue circle. The four are applied in a random order. A magnitude of 0
  // turns that part off. Every result is rounded to the nearest 8-bit value and clamped to [0, 255].
  //   brightness f: v -> f v;  contrast c: v -> c v + (1 - c) m, m = mean luma of the image at that point;
  //   saturation s: v -> s v + (1 - s) gray(pixel);  hue: rotate H in HSV space (computed in float).
  struct Color {
    double p = 0.0;
    double brightness = 0.2;
    double contrast = 0.2;
    double saturation = 0.2;
    double hue = 0.05;
  } color;

  // RandomGrayscale: every channel becomes the ITU-R 601-2 luma 0.299 R + 0.587 G + 0.114 B.
  struct Grayscale {
    double p = 0.0;
  } grayscale;

  // GaussianBlur: sigma uniform in [sigma_min, sigma_max], square kernel of side 2 ceil(3 sigma) + 1
  // (covers +-3 sigma), reflected borders (cv::BORDER_REFLECT_101, torch's "reflect" padding), computed in
  // float and rounded to the nearest 8-bit value.
  struct Blur {
    double p = 0.0;
    double sigma_min = 0.1;
    double sigma_max = 2.0;
  } blur;

  // Low-resolution degradation for very-low-resolution recognition: the shorter side is shrunk to a whole
  // number of pixels s uniform in [min_size, max_size] (the other side keeps the aspect ratio) with
  // cv::INTER_AREA, as a small sensor would average light, then scaled back to the input size with
  // cv::INTER_LINEAR. Nothing happens when s is not smaller than the shorter side.
  struct LowRes {
    double p = 0.0;
    int min_size = 14;
    int max_size = 56;
  } low_res;

  // RandomErasing / synthetic occlusion: a rectangle of area fraction U[area_min, area_max] with aspect ratio
  // width/height log-uniform in [ratio_min, ratio_max], strictly smaller than the image on both sides, up to
  // 10 tries (if none fits the image is left alone). fill "noise": independent uniform random bytes;
  // "solid": one random colour for the whole rectangle, like an occluding object.
  struct Erase {
    double p = 0.0;
    double area_min = 0.02;
    double area_max = 0.33;
    double ratio_min = 0.3;
    double ratio_max = 3.3;
    std::string fill = "noise";
  } erase;
};

const std::vector<std::string>& erase_fill_modes();  // noise, solid

// Registers data.augment.flip.p, data.augment.crop.p, data.augment.crop.scale_min, ... with docs and bounds.
void bind_schema(config::Schema& schema, AugmentOptions& options);

// Checks every value against its key's bounds (as loading YAML does) and the cross-field rules the
// per-key bounds cannot express (each min <= its max); errors name the keys.
void check(const AugmentOptions& options);

// A pixel rectangle: columns [x, x + width), rows [y, y + height).
struct PixelRect {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
};

// What apply() drew and did for one image: for tests, debugging and visualising a pipeline. A stage's
// parameters are filled in only when the stage ran (its flag is true).
struct AugmentTrace {
  bool flip = false;
  bool crop = false;
  PixelRect crop_rect;  // in input pixels, before resizing back
  bool color = false;
  double brightness = 1.0, contrast = 1.0, saturation = 1.0;  // factors (1 = unchanged)
  double hue = 0.0;                                            // shift as a fraction of the hue circle
  std::array<int, 4> color_order{0, 1, 2, 3};                  // 0 brightness, 1 contrast, 2 saturation, 3 hue
  bool grayscale = false;
  bool blur = false;
  double blur_sigma = 0.0;
  int blur_kernel = 0;
  bool low_res = false;                       // false also when the drawn side was not below the image's
  int low_res_width = 0, low_res_height = 0;  // the intermediate small image
  bool erase = false;                         // false also when no rectangle fitted in 10 tries
  PixelRect erase_rect;
  std::array<uint8_t, 3> erase_color{0, 0, 0};  // B, G, R (fill "solid" only)
};

class Augmenter {
 public:
  // Validates the options with check(); throws ff::Error naming the key.
  explicit Augmenter(const AugmentOptions& options);

  // Applies the enabled augmentations, in the fixed order crop, colour, grayscale, blur, low_res, erase, to
  // `bgr` (8-bit, 3 channels, any size; the size is kept) in place, and returns whether the image should be
  // mirrored: the flip is folded into the tensor copy by the caller (bgr_to_input). Every stage writes into
  // the pixels `bgr` points at, so pass a Mat this call may modify. Thread-safe: const, and its working
  // images are per thread (thread_local). `trace`, when given, receives what was drawn.
  bool apply(cv::Mat& bgr, uint64_t seed, AugmentTrace* trace = nullptr) const;

  // Whether any augmentation besides flip is enabled (p > 0).
  bool active() const { return active_; }

  const AugmentOptions& options() const { return options_; }

 private:
  AugmentOptions options_;
  bool active_ = false;
};

}  // namespace ff::datasets
