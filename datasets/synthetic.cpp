// The embedded synthetic identity generator: persistent identity parameters, per-image variation
// drawn with OpenCV primitives, and the on-disk dataset with held-out verification pairs.
#include "datasets/synthetic.h"
#include "datasets/image_codec.h"
#include "datasets/synthetic_rng.h"

#include "src/util/splitmix.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numbers>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "datasets/verification_bin.h"
#include "src/util/atomic_file.h"
#include "src/util/error.h"

namespace ff::datasets {
namespace {

// ---- Difficulty knobs -------------------------------------------------------------------------
// Identity signal: the spread of persistent geometry between identities (1 = the per-parameter
// standard deviations below). Lower makes identities harder to tell apart for any network.
constexpr double kIdentitySpread = 1.0;
// How far group priors shift face shape (pixels and powers scale with it).
constexpr double kGroupShapeShift = 1.0;
// Skin tone: group centres span kSkinToneRange of the light..dark axis; identities in a group
// deviate by this standard deviation. Small within-group spread keeps colour from identifying.
constexpr double kSkinToneRange = 0.8;
constexpr double kSkinToneSpreadWithinGroup = 0.035;
constexpr double kSkinWarmthSpreadWithinGroup = 0.08;
// Persistent marks: mean count per identity and how strongly they differ from the skin.
constexpr double kMarksMean = 2.2;
constexpr double kMarkContrast = 1.0;
// Per-image variation at options.variation = 1 (everything below scales with it).
constexpr double kRotationDegrees = 5.0;   // in-plane rotation, standard deviation
constexpr double kScaleSigma = 0.045;      // relative size
constexpr double kShiftPixels = 2.2;       // translation, standard deviation per axis
constexpr double kYawSigma = 0.16;         // radians: features slide across the face
constexpr double kPitchSigma = 0.07;       // radians: features slide up/down
constexpr double kLightGradient = 0.65;    // max shading slope across the face (1 = black edge)
constexpr double kBrightnessSigma = 0.25;  // log ambient brightness
constexpr double kColourCastSigma = 0.11;  // log per-channel gain (white balance)
constexpr double kGrayscaleChance = 0.08;  // share of grey photographs
constexpr double kSmileChance = 0.45;
constexpr double kMouthOpenChance = 0.25;
constexpr double kBlinkChance = 0.15;  // eyes half closed
constexpr double kBlurChance = 0.35;
constexpr double kBlurSigmaMax = 1.6;
constexpr double kNoiseSigmaMax = 7.0;   // grey levels
constexpr double kLowResChance = 0.25;   // downscale, then back up to 112
constexpr double kLowResScaleMin = 0.3;  // the downscaled side, as a share of 112, is drawn
constexpr double kLowResScaleMax = 0.65; // uniformly from [min, max]
constexpr double kMaskChance = 0.04;
constexpr double kGlassesChanceCasual = 0.04;  // identities without the glasses habit
constexpr double kGlassesHabitShare = 0.15;    // identities that wear glasses often
constexpr double kGlassesChanceHabit = 0.6;
constexpr double kHairJitterPixels = 1.2;  // hairline and volume change between photos

// Bumped whenever pixels change for the same options, so cached datasets can be told apart.
constexpr int kGeneratorVersion = 1;
constexpr double kPi = std::numbers::pi;
constexpr int kSize = 112;
constexpr double kCx = 56.0;
constexpr int kShift = 4;  // drawing in 1/16 pixel so small features keep sub-pixel geometry
constexpr double kSub = 16.0;
constexpr int kRenderThreads = 2;

enum Stream : uint64_t { kStreamGroup = 1, kStreamGroupPrior, kStreamIdentity, kStreamImage, kStreamPairs };

uint64_t stream_key(int seed, Stream stream, int64_t a, int64_t b = 0) {
  return synthetic_stream_key(0xFACEF0D6E5EEDULL, seed, stream, a, b);
}

using Rng = SyntheticRng;

using Colour = std::array<float, 3>;

Colour mix(const Colour& a, const Colour& b, double t) {
  Colour c;
  for (int i = 0; i < 3; ++i) c[i] = static_cast<float>(a[i] + (b[i] - a[i]) * t);
  return c;
}
Colour scaled(const Colour& a, double f) {
  Colour c;
  for (int i = 0; i < 3; ++i) c[i] = static_cast<float>(std::clamp(a[i] * f, 0.0, 255.0));
  return c;
}
cv::Scalar scalar(const Colour& c) { return cv::Scalar(c[0], c[1], c[2]); }

// Demographic group priors: the distribution identities of a group are drawn from.
struct GroupPrior {
  double tone = 0.5;  // 0 lightest .. 1 darkest skin
  double warmth = 0;  // yellow (-) .. red (+) undertone
  double face_width = 0, jaw_power = 0, nose_width = 0, lip = 0, eye_height = 0, eye_tilt = 0;
  double crease_share = 0.8;  // identities with a visible lid crease
  double light_hair_share = 0, red_hair_share = 0, light_eye_share = 0;
  double freckle_rate = 0, facial_hair_share = 0.25, curly_share = 0.1;
};

GroupPrior group_prior(const SyntheticOptions& options, int group) {
  Rng r(stream_key(options.seed, kStreamGroupPrior, group));
  GroupPrior g;
  // Evenly spaced tones keep every group distinct in colour while identities within a group share it.
  double position = options.groups == 1 ? 0.5 : static_cast<double>(group) / (options.groups - 1);
  g.tone = 0.5 + kSkinToneRange * (position - 0.5);
  g.warmth = r.uniform(-0.6, 0.6);
  double s = kGroupShapeShift;
  g.face_width = s * r.normal(0, 1.6);
  g.jaw_power = s * r.normal(0, 0.25);
  g.nose_width = s * r.normal(0, 0.9);
  g.lip = s * r.normal(0, 0.45);
  g.eye_height = s * r.normal(0, 0.35);
  g.eye_tilt = s * r.normal(0, 0.05);
  g.crease_share = r.uniform(0.3, 1.0);
  double lightness = 1.0 - g.tone;  // light hair and eyes concentrate in lighter-skinned groups
  g.light_hair_share = std::clamp(lightness * lightness * r.uniform(0.3, 0.9), 0.0, 0.7);
  g.red_hair_share = g.light_hair_share * r.uniform(0.0, 0.3);
  g.light_eye_share = std::clamp(lightness * lightness * r.uniform(0.4, 1.0), 0.0, 0.8);
  g.freckle_rate = lightness * r.uniform(0.1, 0.6);
  g.facial_hair_share = r.uniform(0.1, 0.4);
  g.curly_share = r.uniform(0.0, 0.4) * (0.3 + g.tone);
  return g;
}

Colour skin_colour(double tone, double warmth) {
  const Colour light{188, 204, 236}, dark{52, 72, 108};
  Colour c = mix(light, dark, std::clamp(tone, 0.0, 1.0));
  c[0] = static_cast<float>(c[0] * (1.0 - 0.10 * warmth));
  c[1] = static_cast<float>(c[1] * (1.0 - 0.02 * warmth));
  c[2] = static_cast<float>(std::min(255.0, c[2] * (1.0 + 0.05 * warmth)));
  return c;
}

// Geometry shared by the outline, the hair and the beard: half width of the face at a row.
double face_half_width_at(const SyntheticIdentity& p, double y) {
  double widest = p.eye_y + 6.0;
  if (y < widest) {
    double t = std::clamp((widest - y) / (widest - p.head_top), 0.0, 1.0);
    double w = std::pow(1.0 - std::pow(t, p.skull_power), 1.0 / p.skull_power);
    double sin_theta = std::pow(t, p.skull_power / 2.0);
    return p.face_half_width * w * (1.0 + (p.forehead_width - 1.0) * sin_theta);
  }
  double t = std::clamp((y - widest) / (p.chin - widest), 0.0, 1.0);
  return p.face_half_width * std::pow(1.0 - std::pow(t, p.jaw_power), 1.0 / p.jaw_power);
}

// Everything that changes from one photo of an identity to the next.
struct Shot {
  double rotation = 0, scale = 1, shift_x = 0, shift_y = 0, yaw = 0, pitch = 0;
  double light_angle = 0, light_slope = 0, ambient = 1;
  std::array<double, 3> gain{1, 1, 1};
  bool grayscale = false;
  double smile = 0, mouth_open = 0, eye_open = 1, brow_raise = 0, gaze_x = 0, gaze_y = 0;
  double hairline_jitter = 0, volume_jitter = 0;
  bool glasses = false, sunglasses = false, mask = false;
  Colour mask_colour{}, glasses_colour{}, clothes{}, background_a{}, background_b{};
  double background_angle = 0;
  int background_shapes = 0;
  double blur_sigma = 0, low_res = 1, noise_sigma = 0;
  uint64_t noise_key = 0, background_key = 0;
};

Shot draw_shot(const SyntheticOptions& options, const SyntheticIdentity& p, int image_index) {
  Rng r(stream_key(options.seed, kStreamImage, p.identity, image_index));
  const double v = options.variation;
  Shot s;
  s.rotation = v * r.clamped_normal(0, kRotationDegrees, -3 * kRotationDegrees, 3 * kRotationDegrees);
  s.scale = 1.0 + v * r.clamped_normal(0, kScaleSigma, -3 * kScaleSigma, 3 * kScaleSigma);
  s.shift_x = v * r.clamped_normal(0, kShiftPixels, -3 * kShiftPixels, 3 * kShiftPixels);
  s.shift_y = v * r.clamped_normal(0, kShiftPixels, -3 * kShiftPixels, 3 * kShiftPixels);
  s.yaw = std::clamp(v * r.normal(0, kYawSigma), -0.5, 0.5);
  s.pitch = std::clamp(v * r.normal(0, kPitchSigma), -0.3, 0.3);
  s.light_angle = r.uniform(0, 2 * kPi);
  s.light_slope = std::min(0.9, v * r.uniform(0, kLightGradient));
  s.ambient = std::exp(v * r.clamped_normal(0, kBrightnessSigma, -2.5 * kBrightnessSigma, 2.5 * kBrightnessSigma));
  for (double& g : s.gain)
    g = std::exp(v * r.clamped_normal(0, kColourCastSigma, -3 * kColourCastSigma, 3 * kColourCastSigma));
  s.grayscale = r.chance(kGrayscaleChance * v);
  if (r.chance(std::min(1.0, kSmileChance * v))) s.smile = std::min(1.0, v * r.uniform(0.2, 1.0));
  if (r.chance(std::min(1.0, kMouthOpenChance * v))) s.mouth_open = std::min(6.0, v * r.uniform(1.0, 4.5));
  s.eye_open = r.chance(std::min(1.0, kBlinkChance * v)) ? 1.0 - std::min(0.75, v * r.uniform(0.35, 0.7))
                                                         : 1.0 - std::min(0.3, v * r.uniform(0.0, 0.15));
  s.brow_raise = v * r.clamped_normal(0, 0.9, -2.0, 2.5);
  s.gaze_x = v * r.clamped_normal(0, 0.6, -1.5, 1.5);
  s.gaze_y = v * r.clamped_normal(0, 0.3, -0.8, 0.8);
  s.hairline_jitter = v * r.clamped_normal(0, kHairJitterPixels, -3, 3);
  s.volume_jitter = v * r.clamped_normal(0, kHairJitterPixels, -3, 3);
  s.glasses = r.chance(std::min(1.0, p.glasses_tendency * v));
  s.sunglasses = s.glasses && r.chance(0.15);
  s.glasses_colour = r.chance(0.5)
                         ? Colour{25, 25, 30}
                         : Colour{static_cast<float>(r.uniform(30, 200)), static_cast<float>(r.uniform(30, 200)),
                                  static_cast<float>(r.uniform(30, 200))};
  s.mask = r.chance(std::min(1.0, kMaskChance * v));
  static const Colour mask_colours[] = {{235, 235, 235}, {225, 200, 150}, {40, 40, 40}, {200, 215, 230}};
  s.mask_colour = mask_colours[r.below(4)];
  auto random_colour = [&r](double lo, double hi) {
    return Colour{static_cast<float>(r.uniform(lo, hi)), static_cast<float>(r.uniform(lo, hi)),
                  static_cast<float>(r.uniform(lo, hi))};
  };
  s.clothes = random_colour(15, 230);
  s.background_a = random_colour(10, 245);
  s.background_b = random_colour(10, 245);
  s.background_angle = r.uniform(0, 2 * kPi);
  s.background_shapes = r.below(4);
  if (r.chance(std::min(1.0, kBlurChance * v))) s.blur_sigma = r.uniform(0.4, 0.4 + kBlurSigmaMax * std::min(v, 2.0));
  if (r.chance(std::min(1.0, kLowResChance * v))) s.low_res = r.uniform(kLowResScaleMin, kLowResScaleMax);
  s.noise_sigma = v * r.uniform(0, kNoiseSigmaMax);
  s.noise_key = r.next();
  s.background_key = r.next();
  return s;
}

// Draws one identity under one shot onto a 112x112 canvas in canonical (aligned) coordinates.
class Painter {
 public:
  Painter(cv::Mat& img, const SyntheticIdentity& p, const Shot& s) : img_(img), p_(p), s_(s) {
    sin_yaw_ = std::sin(s.yaw);
    cos_yaw_ = std::cos(s.yaw);
    sin_pitch_ = std::sin(s.pitch);
    double a = s.rotation * kPi / 180.0;
    rot_cos_ = s.scale * std::cos(a);
    rot_sin_ = s.scale * std::sin(a);
    skin_ = p.skin;
  }

  void paint() {
    background();
    clothes();
    if (p_.hair_style == 1 || p_.hair_style == 4) back_hair();
    neck();
    if (p_.hair_style != 1) ears();
    face();
    wrinkles();
    marks();
    eyes();
    brows();
    nose();
    mouth();
    facial_hair();
    front_hair();
    if (s_.glasses) glasses();
    if (s_.mask) mask();
  }

 private:
  // The camera's in-plane rotation, scale and shift are applied to every coordinate as it is drawn
  // (about the image centre), which is cheaper and sharper than warping the finished image.
  cv::Point2d view(double x, double y) const {
    double dx = x - 56.0, dy = y - 56.0;
    return {56.0 + s_.shift_x + rot_cos_ * dx + rot_sin_ * dy, 56.0 + s_.shift_y - rot_sin_ * dx + rot_cos_ * dy};
  }
  static cv::Point raw(double x, double y) {
    return {static_cast<int>(std::lround(x * kSub)), static_cast<int>(std::lround(y * kSub))};
  }
  cv::Point fixed(double x, double y) const {
    cv::Point2d q = view(x, y);
    return raw(q.x, q.y);
  }
  int length(double r) const { return static_cast<int>(std::lround(std::max(r * s_.scale, 0.3) * kSub)); }
  // A point on the face surface: dx across from the midline, y the canonical row, depth how far it
  // stands out of the cylinder that models the head (the nose tip does). Yaw slides it sideways by
  // its depth, pitch vertically, which is what separates a turned head from a shifted one.
  cv::Point2d surface(double dx, double y, double depth = 0) const {
    double u = std::clamp(dx / p_.face_half_width, -0.98, 0.98);
    double z = std::sqrt(1.0 - u * u) + depth;
    return {kCx + p_.face_half_width * (u * cos_yaw_ + z * sin_yaw_), y + 22.0 * z * sin_pitch_};
  }
  cv::Point fixed(const cv::Point2d& q) const { return fixed(q.x, q.y); }
  cv::Point2d view(const cv::Point2d& q) const { return view(q.x, q.y); }

  void fill(const std::vector<cv::Point>& pts, const Colour& c) {
    const cv::Point* data = pts.data();
    int n = static_cast<int>(pts.size());
    cv::fillPoly(img_, &data, &n, 1, scalar(c), cv::LINE_AA, kShift);
  }
  void stroke(const std::vector<cv::Point>& pts, const Colour& c, int thickness, bool closed = false) {
    const cv::Point* data = pts.data();
    int n = static_cast<int>(pts.size());
    cv::polylines(img_, &data, &n, 1, closed, scalar(c), thickness, cv::LINE_AA, kShift);
  }
  void disc(const cv::Point2d& c, double r, const Colour& colour) {
    cv::circle(img_, fixed(c), length(r), scalar(colour), cv::FILLED, cv::LINE_AA, kShift);
  }
  // Ellipses turn with the camera (OpenCV's angle is clockwise in image coordinates).
  void oval(const cv::Point2d& c, double ax, double ay, double angle_deg, const Colour& colour, int thickness = -1,
            int line_type = cv::LINE_AA) {
    cv::ellipse(img_, fixed(c), cv::Size(length(ax), length(ay)), angle_deg - s_.rotation, 0, 360, scalar(colour),
                thickness, line_type, kShift);
  }

  void background() {
    // A two-colour gradient plus a few random shapes: busy enough that the background says nothing.
    // The colour is linear in x and y: a per-column part plus the row number times a per-row slope,
    // laid out per byte so the loop vectorises.
    const float ca = static_cast<float>(std::cos(s_.background_angle) / 158.0);
    const float sa = static_cast<float>(std::sin(s_.background_angle) / 158.0);
    float column_part[kSize * 3], row_slope[kSize * 3];
    for (int x = 0; x < kSize; ++x) {
      for (int c = 0; c < 3; ++c) {
        float diff = s_.background_b[c] - s_.background_a[c];
        column_part[3 * x + c] = s_.background_a[c] + diff * (0.5f + (x - 56) * ca);
        row_slope[3 * x + c] = diff * sa;
      }
    }
    for (int y = 0; y < kSize; ++y) {
      uint8_t* __restrict row = img_.ptr<uint8_t>(y);
      const float dy = static_cast<float>(y - 56);
      for (int i = 0; i < kSize * 3; ++i)
        row[i] = static_cast<uint8_t>(std::min(255.0f, std::max(0.0f, column_part[i] + dy * row_slope[i])));
    }
    Rng r(s_.background_key);
    for (int i = 0; i < s_.background_shapes; ++i) {
      Colour c{static_cast<float>(r.uniform(10, 245)), static_cast<float>(r.uniform(10, 245)),
               static_cast<float>(r.uniform(10, 245))};
      cv::Point2d centre(r.uniform(0, kSize), r.uniform(0, kSize));
      if (r.chance(0.5)) {
        cv::ellipse(img_, raw(centre.x, centre.y),
                    cv::Size(static_cast<int>(r.uniform(5, 30) * kSub), static_cast<int>(r.uniform(5, 30) * kSub)),
                    r.uniform(0, 180), 0, 360, scalar(c), cv::FILLED, cv::LINE_8, kShift);
      } else {
        double w = r.uniform(4, 40), h = r.uniform(4, 40);
        cv::rectangle(img_, raw(centre.x - w, centre.y - h), raw(centre.x + w, centre.y + h), scalar(c), cv::FILLED,
                      cv::LINE_8, kShift);
      }
    }
  }

  void clothes() {
    double shoulder_y = p_.chin - 4.0;
    oval({kCx + p_.face_half_width * sin_yaw_ * 0.3, shoulder_y + 40.0}, p_.face_half_width * 1.9, 40.0, 0, s_.clothes,
         cv::FILLED, cv::LINE_8);
  }

  double hair_volume() const { return std::max(0.5, p_.hair_volume + s_.volume_jitter); }
  double head_shift() const { return p_.face_half_width * sin_yaw_ * 0.6; }

  void back_hair() {
    // Long or voluminous hair seen behind the head and down past the jaw.
    double vol = hair_volume();
    double w = p_.face_half_width + vol + 3.0;
    double cy = p_.eye_y + 4.0;
    double h = cy - p_.head_top + vol;
    std::vector<cv::Point> pts;
    bool long_hair = p_.hair_style == 1;
    double bottom = long_hair ? kSize + 10.0 : p_.eye_y + 22.0;
    pts.push_back(fixed(kCx + head_shift() - w - (long_hair ? 6 : 0), bottom));
    for (int i = 0; i <= 24; ++i) {
      double a = kPi + kPi * i / 24.0;
      double bump = p_.hair_style == 4 ? 1.0 + 0.06 * std::fabs(std::sin(9.0 * a)) : 1.0;
      pts.push_back(fixed(kCx + head_shift() + w * bump * std::cos(a), cy + h * bump * std::sin(a)));
    }
    pts.push_back(fixed(kCx + head_shift() + w + (long_hair ? 6 : 0), bottom));
    fill(pts, hair_shade(0.8));
  }

  void neck() {
    double w = p_.face_half_width * 0.58;
    double top = p_.eye_y + 20.0;
    double x = kCx + head_shift() * 0.5;
    fill({fixed(x - w, top), fixed(x + w, top), fixed(x + w * 1.1, kSize + 2.0), fixed(x - w * 1.1, kSize + 2.0)},
         scaled(skin_, 0.78));
  }

  void ears() {
    for (int side : {-1, 1}) {
      double x = kCx + side * (face_half_width_at(p_, p_.eye_y + 8) + p_.ear_size * 0.15) - head_shift();
      double y = p_.eye_y + 9.0;
      oval({x, y}, p_.ear_size * 0.42, p_.ear_size, side * 8.0, scaled(skin_, 0.92));
      oval({x + side * 1.0, y}, p_.ear_size * 0.2, p_.ear_size * 0.6, side * 8.0, scaled(skin_, 0.78));
    }
  }

  std::vector<cv::Point> outline() const {
    // Superellipse skull above the cheekbones and superellipse jaw below; both slide with yaw by
    // how far forward they are (the chin most, the sides not at all).
    std::vector<cv::Point> pts;
    double widest = p_.eye_y + 6.0;
    const int n = 24;
    for (int side : {1, -1}) {
      for (int i = 0; i <= n; ++i) {
        double theta = -kPi / 2 + kPi * (side == 1 ? i : n - i) / n;
        double st = std::sin(theta), ct = std::cos(theta);
        double power = st < 0 ? p_.skull_power : p_.jaw_power;
        double height = st < 0 ? widest - p_.head_top : p_.chin - widest;
        double w = p_.face_half_width * std::pow(std::fabs(ct), 2.0 / power);
        if (st < 0) w *= 1.0 + (p_.forehead_width - 1.0) * std::fabs(st);
        double y = widest + (st < 0 ? -1 : 1) * height * std::pow(std::fabs(st), 2.0 / power);
        double x = kCx + side * w + p_.face_half_width * sin_yaw_ * 0.8 * st * st;
        pts.push_back(fixed(x, y));
      }
    }
    return pts;
  }

  void face() { fill(outline(), skin_); }

  void wrinkles() {
    if (p_.age < 0.45) return;
    Colour line = scaled(skin_, 1.0 - 0.15 * p_.age);
    double tip = p_.eye_y + p_.nose_length;
    double mouth_y = tip + p_.mouth_gap;
    for (int side : {-1, 1}) {  // nasolabial folds
      stroke({fixed(surface(side * p_.nose_width * 1.1, tip - 4)), fixed(surface(side * (p_.nose_width + 4), tip + 6)),
              fixed(surface(side * (p_.mouth_half_width + 2.5), mouth_y + 2))},
             line, 1);
    }
    if (p_.age > 0.6) {
      double top = p_.eye_y - p_.brow_gap - 8;
      for (int k = 0; k < 2; ++k) {
        std::vector<cv::Point> pts;
        for (int i = -3; i <= 3; ++i) pts.push_back(fixed(surface(i * 5.0, top - k * 4.5 + 0.15 * i * i)));
        stroke(pts, line, 1);
      }
    }
  }

  void marks() {
    for (const auto& m : p_.marks) {
      double dx = m.u * p_.face_half_width;
      cv::Point2d c = surface(dx, m.y);
      double strength = std::clamp(m.strength * kMarkContrast, 0.0, 1.0);
      switch (m.kind) {
        case SyntheticMark::Kind::mole:
          disc(c, m.size, mix(skin_, {30, 38, 62}, strength));
          break;
        case SyntheticMark::Kind::freckles: {
          Rng r(m.detail);
          Colour dot = mix(skin_, {45, 75, 125}, 0.25 + 0.3 * strength);
          for (int i = 0; i < 14; ++i) {
            double a = r.uniform(0, 2 * kPi), rr = m.size * std::sqrt(r.uniform());
            disc(surface(dx + rr * std::cos(a), m.y + 0.5 * rr * std::sin(a)), r.uniform(0.4, 0.65), dot);
          }
          break;
        }
        case SyntheticMark::Kind::scar: {
          double ca = std::cos(m.angle) * m.size / 2, sa = std::sin(m.angle) * m.size / 2;
          Colour c1 = mix(skin_, {170, 170, 225}, 0.6 * strength);
          stroke({fixed(surface(dx - ca, m.y - sa)), fixed(surface(dx, m.y)), fixed(surface(dx + ca, m.y + sa))}, c1,
                 1);
          break;
        }
        case SyntheticMark::Kind::birthmark:
          oval(c, m.size, m.size * 0.6, m.angle * 180 / kPi, mix(skin_, {60, 80, 140}, 0.35 * strength));
          break;
      }
    }
  }

  void eyes() {
    Colour socket = scaled(skin_, 0.9);
    Colour lid_line = scaled(skin_, 0.35);
    Colour white{225, 232, 238};
    double open = s_.eye_open;
    for (int side : {-1, 1}) {
      double ex = side * p_.eye_half_gap;
      double tilt = p_.eye_tilt * side;  // outer corner up on both sides
      auto eye_point = [&](double s, double dy) {
        double x = ex + s * p_.eye_width;
        double y = p_.eye_y + dy - tilt * s * p_.eye_width * side;
        return surface(x, y);
      };
      oval(eye_point(0, -0.5), p_.eye_width * 1.35, p_.eye_height * 1.9 + 1.0, 0, socket);
      // The almond: upper lid arc (lowered when the eye half closes) and lower lid arc.
      std::vector<cv::Point> almond, upper;
      const int n = 10;
      for (int i = 0; i <= n; ++i) {
        double s = -1.0 + 2.0 * i / n;
        double bulge = std::pow(1.0 - s * s, 0.75);
        cv::Point2d q = eye_point(s, -p_.eye_height * open * bulge + 0.1 * s);
        almond.push_back(fixed(q));
        upper.push_back(fixed(q));
      }
      for (int i = n - 1; i >= 1; --i) {
        double s = -1.0 + 2.0 * i / n;
        almond.push_back(fixed(eye_point(s, 0.7 * p_.eye_height * std::pow(1.0 - s * s, 0.9))));
      }
      fill(almond, white);
      // The iris is drawn on a copy and blended through the almond's mask, so lids clip it.
      cv::Point2d centre = view(eye_point(s_.gaze_x / p_.eye_width, s_.gaze_y));
      int r = static_cast<int>(std::ceil((p_.eye_width + 3) * s_.scale));
      cv::Rect roi = cv::Rect(static_cast<int>(centre.x) - r, static_cast<int>(centre.y) - r, 2 * r, 2 * r) &
                     cv::Rect(0, 0, kSize, kSize);
      if (roi.area() > 0) {
        cv::Mat patch = img_(roi);
        cv::Mat layer = patch.clone(), mask = cv::Mat::zeros(roi.size(), CV_8U);
        std::vector<cv::Point> local = almond;
        for (auto& q : local) q -= cv::Point(roi.x * 16, roi.y * 16);
        const cv::Point* data = local.data();
        int count = static_cast<int>(local.size());
        cv::fillPoly(mask, &data, &count, 1, cv::Scalar(255), cv::LINE_AA, kShift);
        cv::Point2d lc = centre - cv::Point2d(roi.x, roi.y);
        cv::circle(layer, raw(lc.x, lc.y), length(p_.iris_radius), scalar(p_.iris), cv::FILLED, cv::LINE_AA, kShift);
        cv::circle(layer, raw(lc.x, lc.y), length(p_.iris_radius * 0.45), cv::Scalar(15, 15, 18), cv::FILLED,
                   cv::LINE_AA, kShift);
        // The catch light sits on the side the light comes from.
        double hx = -std::cos(s_.light_angle) * p_.iris_radius * 0.4,
               hy = -std::sin(s_.light_angle) * p_.iris_radius * 0.4;
        cv::circle(layer, raw(lc.x + hx, lc.y + hy), 8, cv::Scalar(245, 245, 245), cv::FILLED, cv::LINE_AA, kShift);
        for (int y = 0; y < roi.height; ++y) {
          const uint8_t* m = mask.ptr<uint8_t>(y);
          const auto* src = layer.ptr<cv::Vec3b>(y);
          auto* dst = patch.ptr<cv::Vec3b>(y);
          for (int x = 0; x < roi.width; ++x) {
            if (m[x] == 0) continue;
            for (int c = 0; c < 3; ++c)
              dst[x][c] = static_cast<uint8_t>((dst[x][c] * (255 - m[x]) + src[x][c] * m[x] + 127) / 255);
          }
        }
      }
      stroke(upper, lid_line, 1);
      if (p_.crease > 0.05) {
        std::vector<cv::Point> crease;
        for (int i = 1; i < n; ++i) {
          double s = -1.0 + 2.0 * i / n;
          crease.push_back(
              fixed(eye_point(s * 0.9, -(p_.eye_height * open + 1.3 + p_.crease) * std::pow(1.0 - s * s, 0.6))));
        }
        stroke(crease, scaled(skin_, 0.72), 1);
      }
    }
  }

  void brows() {
    Colour c = mix(skin_, scaled(p_.hair, 0.8), 0.85);
    for (int side : {-1, 1}) {
      std::vector<cv::Point> top, bottom;
      const int n = 8;
      for (int i = 0; i <= n; ++i) {
        double s = static_cast<double>(i) / n;
        double dx = side * (p_.brow_inner + s * p_.brow_length);
        double y = p_.eye_y - p_.brow_gap - s_.brow_raise - p_.brow_arch * std::sin(kPi * std::pow(s, 0.8)) +
                   p_.brow_slant * s;
        double half = p_.brow_thickness * (0.5 - 0.3 * s) + 0.3;
        top.push_back(fixed(surface(dx, y - half)));
        bottom.push_back(fixed(surface(dx, y + half)));
      }
      top.insert(top.end(), bottom.rbegin(), bottom.rend());
      fill(top, c);
    }
  }

  void nose() {
    double tip = p_.eye_y + p_.nose_length;
    Colour shadow = scaled(skin_, 0.8), nostril = scaled(skin_, 0.42);
    // The bridge shadow falls on the side away from the light.
    int dark_side = std::cos(s_.light_angle) > 0 ? -1 : 1;
    stroke({fixed(surface(dark_side * p_.nose_bridge, p_.eye_y + 3, 0.15)),
            fixed(surface(dark_side * p_.nose_bridge * 1.1, tip - 8, 0.3)),
            fixed(surface(dark_side * p_.nose_width * 0.75, tip - 2, 0.2))},
           shadow, 1);
    for (int side : {-1, 1}) {
      oval(surface(side * p_.nose_width * 0.45, tip + 1.2, 0.25), p_.nose_width * 0.26, 1.3, side * 15.0, nostril);
      std::vector<cv::Point> wing;
      for (int i = 0; i <= 6; ++i) {
        double a = -kPi / 2 + kPi * i / 6.0;
        wing.push_back(
            fixed(surface(side * (p_.nose_width * 0.7 + 2.0 * std::cos(a)), tip - 0.5 + 2.5 * std::sin(a), 0.2)));
      }
      stroke(wing, shadow, 1);
    }
    std::vector<cv::Point> base;
    for (int i = -3; i <= 3; ++i)
      base.push_back(fixed(surface(i * p_.nose_width * 0.12, tip + 2.2 - 0.12 * std::abs(i), 0.3)));
    stroke(base, shadow, 1);
  }

  void mouth() {
    double y0 = p_.eye_y + p_.nose_length + p_.mouth_gap;
    double w = p_.mouth_half_width * (1.0 + 0.12 * s_.smile);
    double corner = -p_.mouth_curve - 2.5 * s_.smile;  // corners rise with a smile
    double open = s_.mouth_open;
    Colour lip = p_.lips, line = scaled(p_.lips, 0.45);
    auto mouth_line = [&](double s) { return y0 + corner * s * s; };
    const int n = 12;
    std::vector<cv::Point> upper, lower, gap_top, gap_bottom;
    for (int i = 0; i <= n; ++i) {  // upper lip: cupid's bow on top, the mouth line below
      double s = -1.0 + 2.0 * i / n;
      double bow =
          1.0 - 0.35 * std::exp(-s * s / 0.02) + 0.25 * std::exp(-(std::fabs(s) - 0.3) * (std::fabs(s) - 0.3) / 0.03);
      upper.push_back(
          fixed(surface(s * w, mouth_line(s) - p_.upper_lip * bow * std::pow(1.0 - s * s, 0.5) - open * 0.3, 0.1)));
    }
    for (int i = n; i >= 0; --i) {
      double s = -1.0 + 2.0 * i / n;
      double y = mouth_line(s) - open * 0.3 * std::pow(1.0 - s * s, 0.5);
      upper.push_back(fixed(surface(s * w, y, 0.1)));
      gap_top.push_back(fixed(surface(s * w, y, 0.1)));
    }
    for (int i = 0; i <= n; ++i) {
      double s = -1.0 + 2.0 * i / n;
      double y = mouth_line(s) + open * 0.7 * std::pow(1.0 - s * s, 0.5);
      lower.push_back(fixed(surface(s * w, y, 0.1)));
      gap_bottom.push_back(fixed(surface(s * w, y, 0.1)));
    }
    for (int i = n; i >= 0; --i) {
      double s = -1.0 + 2.0 * i / n;
      lower.push_back(
          fixed(surface(s * w * 0.92, mouth_line(s) + open * 0.7 + p_.lower_lip * std::pow(1.0 - s * s, 0.6), 0.1)));
    }
    fill(upper, lip);
    fill(lower, lip);
    if (open > 0.6) {
      std::vector<cv::Point> gap = gap_top;
      gap.insert(gap.end(), gap_bottom.begin(), gap_bottom.end());
      fill(gap, {35, 30, 60});
      std::vector<cv::Point> teeth;
      for (int i = 2; i <= n - 2; ++i) {
        double s = -1.0 + 2.0 * i / n;
        teeth.push_back(
            fixed(surface(s * w * 0.8, mouth_line(s) - open * 0.3 * std::pow(1.0 - s * s, 0.5) + 0.2, 0.1)));
      }
      for (int i = n - 2; i >= 2; --i) {
        double s = -1.0 + 2.0 * i / n;
        teeth.push_back(fixed(surface(s * w * 0.8, mouth_line(s) + std::min(1.6, open * 0.35), 0.1)));
      }
      fill(teeth, {215, 225, 230});
    }
    stroke(gap_top, line, 1);
  }

  void facial_hair() {
    if (p_.facial_hair == 0) return;
    double tip = p_.eye_y + p_.nose_length;
    double y0 = tip + p_.mouth_gap;
    double w = p_.mouth_half_width;
    Colour c = p_.facial_hair == 3 ? mix(skin_, p_.hair, 0.3) : mix(skin_, p_.hair, 0.9);
    if (p_.facial_hair == 1 || p_.facial_hair == 2 || p_.facial_hair == 4) {
      fill({fixed(surface(-w * 0.95, y0 - 1.0, 0.1)), fixed(surface(-w * 0.7, tip + 3.5, 0.2)),
            fixed(surface(0, tip + 3.0, 0.3)), fixed(surface(w * 0.7, tip + 3.5, 0.2)),
            fixed(surface(w * 0.95, y0 - 1.0, 0.1)), fixed(surface(0, y0 - p_.upper_lip - 0.3, 0.1))},
           c);
    }
    if (p_.facial_hair == 2 || p_.facial_hair == 3) {  // along the jaw from ear to ear
      std::vector<cv::Point> pts;
      double top = p_.eye_y + 16.0;
      for (int i = 0; i <= 10; ++i) {
        double y = top + (p_.chin - top) * i / 10.0;
        pts.push_back(fixed(surface(-face_half_width_at(p_, y) + 0.5, y)));
      }
      for (int i = 10; i >= 0; --i) {
        double y = top + (p_.chin - top) * i / 10.0;
        pts.push_back(fixed(surface(face_half_width_at(p_, y) - 0.5, y)));
      }
      double lip_bottom = y0 + p_.lower_lip + 1.5;
      pts.push_back(fixed(surface(face_half_width_at(p_, top) - 4, top)));
      pts.push_back(fixed(surface(w + 3, lip_bottom - 4)));
      pts.push_back(fixed(surface(w * 0.5, lip_bottom)));
      pts.push_back(fixed(surface(-w * 0.5, lip_bottom)));
      pts.push_back(fixed(surface(-w - 3, lip_bottom - 4)));
      pts.push_back(fixed(surface(-face_half_width_at(p_, top) + 4, top)));
      fill(pts, c);
    }
    if (p_.facial_hair == 4) {
      double lip_bottom = y0 + p_.lower_lip + 1.0;
      fill({fixed(surface(-w * 0.45, lip_bottom)), fixed(surface(w * 0.45, lip_bottom)),
            fixed(surface(w * 0.35, p_.chin - 1)), fixed(surface(-w * 0.35, p_.chin - 1))},
           c);
    }
  }

  Colour hair_shade(double f) const { return scaled(p_.hair, f); }

  void front_hair() {
    if (p_.hair_style == 2) {  // bald: short hair only at the sides above the ears
      for (int side : {-1, 1}) {
        double y = p_.eye_y - 6;
        double x = kCx + side * (face_half_width_at(p_, y) - 1.5) - head_shift();
        oval({x, y}, 3.0, 9.0, 0, hair_shade(0.9));
      }
      return;
    }
    double vol = hair_volume();
    double widest = p_.eye_y + 4.0;
    double hairline = p_.hairline + s_.hairline_jitter;
    double sideburn = p_.eye_y - 4.0;
    // Outer edge: the skull grown by the hair's volume; inner edge: the hairline across the
    // forehead and down the temples to the sideburns.
    std::vector<cv::Point> pts;
    double w_out = p_.face_half_width + vol;
    double h_out = widest - p_.head_top + vol;
    double start = std::asin(std::clamp((widest - sideburn) / h_out, -1.0, 1.0));
    const int n = 20;
    double top_shift = p_.face_half_width * sin_yaw_ * 0.5;
    for (int i = 0; i <= n; ++i) {
      double a = kPi + start + (kPi - 2 * start) * i / n;  // left side, over the top, right side
      double bump = p_.hair_style == 4 ? 1.0 + 0.05 * std::fabs(std::sin(11.0 * a)) : 1.0;
      double x = kCx + w_out * bump * std::cos(a) + top_shift * std::fabs(std::sin(a));
      double y = widest + h_out * bump * std::sin(a);
      pts.push_back(fixed(x, y));
    }
    // Right sideburn, up the temple, across the forehead right to left, down the left temple.
    double temple_y = hairline + 4.0 + p_.hair_recede * 6.0;
    pts.push_back(fixed(surface(face_half_width_at(p_, sideburn) - 1.5, sideburn)));
    pts.push_back(fixed(surface(face_half_width_at(p_, temple_y) - 2.0 - p_.hair_recede * 3.0, temple_y)));
    const int m = 14;
    for (int i = 0; i <= m; ++i) {
      double u = 1.0 - 2.0 * i / m;
      double y =
          hairline - p_.hair_recede * 9.0 * std::pow(std::fabs(u), 3) + p_.hair_part * 4.0 * u + 2.5 * (1.0 - u * u);
      if (p_.hair_style == 3) y += (i % 2 == 0 ? 1.6 : -1.2);  // fringe ends
      double dx = u * (face_half_width_at(p_, y) - 3.0 - p_.hair_recede * 4.0);
      pts.push_back(fixed(surface(dx, y)));
    }
    pts.push_back(fixed(surface(-face_half_width_at(p_, temple_y) + 2.0 + p_.hair_recede * 3.0, temple_y)));
    pts.push_back(fixed(surface(-face_half_width_at(p_, sideburn) + 1.5, sideburn)));
    fill(pts, p_.hair);
    // A few strands of a darker shade give the hair texture that blur and low resolution can erase.
    Colour strand = hair_shade(0.82);
    for (int i = -2; i <= 2; ++i) {
      stroke({fixed(surface(i * 7.0 + 2, hairline - 1.0)), fixed(surface(i * 8.0 + p_.hair_part * 6, p_.head_top + 8))},
             strand, 1);
    }
  }

  void glasses() {
    Colour frame = s_.glasses_colour;
    double r = p_.eye_width + 2.5;
    std::array<cv::Point2d, 2> centres;
    for (int side : {-1, 1}) {
      cv::Point2d c = surface(side * p_.eye_half_gap, p_.eye_y + 0.5, 0.15);
      centres[side < 0 ? 0 : 1] = c;
      if (s_.sunglasses) {
        if (p_.glasses_shape == 0)
          oval(c, r, r * 0.8, 0, {30, 28, 25});
        else
          fill({fixed(c.x - r, c.y - r * 0.7), fixed(c.x + r, c.y - r * 0.7), fixed(c.x + r, c.y + r * 0.7),
                fixed(c.x - r, c.y + r * 0.7)},
               {30, 28, 25});
      }
      if (p_.glasses_shape == 0)
        oval(c, r, r * 0.8, 0, frame, 1);
      else
        stroke({fixed(c.x - r, c.y - r * 0.7), fixed(c.x + r, c.y - r * 0.7), fixed(c.x + r, c.y + r * 0.7),
                fixed(c.x - r, c.y + r * 0.7)},
               frame, 1, true);
      double outer = c.x + side * r;
      stroke(
          {fixed(outer, c.y - 1), fixed(kCx + side * (face_half_width_at(p_, p_.eye_y) + 1) - head_shift(), c.y - 2)},
          frame, 1);
    }
    stroke({fixed(centres[0].x + r, centres[0].y - 1), fixed((centres[0].x + centres[1].x) / 2, centres[0].y - 2.5),
            fixed(centres[1].x - r, centres[1].y - 1)},
           frame, 1);
  }

  void mask() {
    double top = p_.eye_y + p_.nose_length - 5.0;
    std::vector<cv::Point> pts;
    for (int i = 0; i <= 8; ++i) {
      double y = top + (p_.chin - 2 - top) * i / 8.0;
      pts.push_back(fixed(surface(face_half_width_at(p_, y) - 1.0, y)));
    }
    for (int i = 8; i >= 0; --i) {
      double y = top + (p_.chin - 2 - top) * i / 8.0;
      pts.push_back(fixed(surface(-face_half_width_at(p_, y) + 1.0, y)));
    }
    pts.push_back(fixed(surface(0, top - 3.0, 0.3)));
    fill(pts, s_.mask_colour);
    for (int side : {-1, 1}) {
      stroke({fixed(surface(side * (face_half_width_at(p_, top) - 1.0), top)),
              fixed(kCx + side * face_half_width_at(p_, p_.eye_y + 6) - head_shift(), p_.eye_y + 6)},
             scaled(s_.mask_colour, 0.8), 1);
    }
  }

  cv::Mat& img_;
  const SyntheticIdentity& p_;
  const Shot& s_;
  Colour skin_;
  double sin_yaw_ = 0, cos_yaw_ = 1, sin_pitch_ = 0, rot_cos_ = 1, rot_sin_ = 0;
};

// A fixed table of standard normal samples; each image reads one row's worth from a random offset
// per row, which gives sensor noise at memory speed instead of one generator call per pixel.
constexpr uint32_t kNoiseOffsets = 1 << 16;
const std::vector<float>& noise_table() {
  static const std::vector<float> table = [] {
    std::vector<float> t(kNoiseOffsets + kSize * 3);
    Rng r(0x5E45011015EULL);
    for (float& x : t) x = static_cast<float>(r.normal(0, 1));
    return t;
  }();
  return table;
}

// Light and camera after drawing: shading, white balance, blur, resolution loss and sensor noise.
void develop(const Shot& s, cv::Mat& img) {
  // Directional light as a linear ramp, times ambient brightness and a per-channel gain.
  const float dx = static_cast<float>(std::cos(s.light_angle) * s.light_slope / 56.0);
  const float dy = static_cast<float>(std::sin(s.light_angle) * s.light_slope / 56.0);
  float ramp_x[kSize * 3], gain[kSize * 3];  // per byte of a row, so the loop below vectorises
  for (int x = 0; x < kSize; ++x) {
    for (int c = 0; c < 3; ++c) {
      ramp_x[3 * x + c] = (x - 56) * dx;
      gain[3 * x + c] = static_cast<float>(s.ambient * s.gain[c]);
    }
  }
  for (int y = 0; y < kSize; ++y) {
    // __restrict: uint8_t may alias anything, and without it GCC -O2 will not vectorise these loops.
    uint8_t* __restrict row = img.ptr<uint8_t>(y);
    const float ramp_y = 1.0f + (y - 56) * dy;
    for (int i = 0; i < kSize * 3; ++i) {
      float f = std::max(0.12f, ramp_y + ramp_x[i]) * gain[i];
      row[i] = static_cast<uint8_t>(std::min(255.0f, row[i] * f + 0.5f));
    }
  }
  if (s.grayscale) {
    cv::Mat grey;
    cv::cvtColor(img, grey, cv::COLOR_BGR2GRAY);
    cv::cvtColor(grey, img, cv::COLOR_GRAY2BGR);
  }
  if (s.blur_sigma > 0) cv::GaussianBlur(img, img, cv::Size(0, 0), s.blur_sigma);
  if (s.low_res < 1) {
    int side = std::max(8, static_cast<int>(std::lround(kSize * s.low_res)));
    cv::Mat small;
    cv::resize(img, small, cv::Size(side, side), 0, 0, cv::INTER_AREA);
    cv::resize(small, img, cv::Size(kSize, kSize), 0, 0, cv::INTER_LINEAR);
  }
  if (s.noise_sigma > 0.05) {
    const float sigma = static_cast<float>(s.noise_sigma);
    const float* table = noise_table().data();
    Rng r(s.noise_key);
    float noise[kSize * 3];
    for (int y = 0; y < kSize; ++y) {
      uint8_t* __restrict row = img.ptr<uint8_t>(y);
      std::copy_n(table + r.next() % kNoiseOffsets, kSize * 3, noise);  // a local copy lets GCC vectorise
      for (int i = 0; i < kSize * 3; ++i) {
        float v = static_cast<float>(row[i]) + sigma * noise[i] + 0.5f;
        row[i] = static_cast<uint8_t>(std::min(255.0f, std::max(0.0f, v)));
      }
    }
  }
}

void check_identity(const SyntheticOptions& options, int identity) {
  int64_t total = static_cast<int64_t>(options.identities) + options.pair_identities + options.protocol_identities;
  if (identity < 0 || identity >= total)
    fail("synthetic identity {} out of range: expected 0..{} ({} training + {} held-out + {} protocol identities)",
         identity, total - 1, options.identities, options.pair_identities, options.protocol_identities);
}

// Runs fn(i) for i in [0, n) on kRenderThreads threads; results depend only on i, never on which
// thread ran it. The first exception is rethrown on the caller's thread.
template <typename Fn>
void parallel_for(int64_t n, Fn fn) {
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&](int worker) {
    try {
      for (int64_t i = worker; i < n; i += kRenderThreads) {
        {
          std::lock_guard<std::mutex> lock(error_mutex);
          if (error) return;
        }
        fn(i);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < kRenderThreads; ++t) threads.emplace_back(work, t);
  work(0);
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace

void validate_synthetic_options(const SyntheticOptions& o) {
  if (o.identities < 1) fail("synthetic.identities must be >= 1, got {}", o.identities);
  if (o.images_per_identity < 1) fail("synthetic.images_per_identity must be >= 1, got {}", o.images_per_identity);
  if (o.groups < 4) fail("synthetic.groups must be >= 4 (demographic groups), got {}", o.groups);
  if (o.pair_identities < 2 * o.groups)
    fail(
        "synthetic.pair_identities must be >= 2 * groups = {} (two held-out identities per group for impostor "
        "pairs), got {}",
        2 * o.groups, o.pair_identities);
  if (o.protocol_identities < 0)
    fail("synthetic.protocol_identities must be >= 0, got {}", o.protocol_identities);
  if (static_cast<int64_t>(o.identities) + o.pair_identities + o.protocol_identities > std::numeric_limits<int>::max())
    fail("synthetic.identities + pair_identities + protocol_identities must fit in an int, got {} + {} + {}",
         o.identities, o.pair_identities, o.protocol_identities);
  if (o.pairs < 20 || o.pairs % 20 != 0)
    fail("synthetic.pairs must be a positive multiple of 20 (10 folds, half genuine), got {}", o.pairs);
  if (!(o.variation >= 0.0 && o.variation <= 3.0))
    fail("synthetic.variation must be in [0, 3] (1 = default difficulty), got {}", o.variation);
}

int synthetic_group(const SyntheticOptions& options, int identity) {
  validate_synthetic_options(options);
  check_identity(options, identity);
  // Round robin with a seed-dependent offset keeps groups balanced in any index range.
  int offset = static_cast<int>(stream_key(options.seed, kStreamGroup, 0) % static_cast<uint64_t>(options.groups));
  return (identity + offset) % options.groups;
}

SyntheticIdentity synthetic_identity(const SyntheticOptions& options, int identity) {
  SyntheticIdentity p;
  p.identity = identity;
  p.group = synthetic_group(options, identity);  // validates
  const GroupPrior g = group_prior(options, p.group);
  Rng r(stream_key(options.seed, kStreamIdentity, identity));
  const double k = kIdentitySpread;
  auto around = [&](double mean, double sigma, double lo, double hi) {
    return static_cast<float>(std::clamp(mean + k * r.normal(0, sigma), lo, hi));
  };

  p.eye_y = around(51.6, 1.6, 46, 57);
  p.face_half_width = around(40.0 + g.face_width, 2.4, 33, 47);
  p.head_top = around(p.eye_y - 52.0, 3.0, p.eye_y - 62, p.eye_y - 44);
  p.skull_power = around(2.1, 0.25, 1.7, 2.8);
  p.jaw_power = around(2.0 + g.jaw_power, 0.45, 1.35, 3.2);
  p.forehead_width = around(0.92, 0.05, 0.8, 1.02);
  p.ear_size = around(9.5, 1.2, 7, 12.5);
  p.eye_half_gap = around(17.6, 1.5, 13.5, 21.5);
  p.eye_width = around(6.6, 0.7, 5.0, 8.3);
  p.eye_height = around(3.1 + g.eye_height, 0.45, 1.9, 4.4);
  p.eye_tilt = around(g.eye_tilt, 0.07, -0.18, 0.22);
  p.iris_radius = static_cast<float>(std::min(p.eye_height * 1.15, 0.5 * p.eye_width) * r.uniform(0.9, 1.05));
  p.crease = r.chance(g.crease_share) ? static_cast<float>(r.uniform(0.3, 1.6)) : 0.0f;
  p.brow_gap = around(9.0, 1.4, 6.0, 13.0);
  p.brow_thickness = around(2.2, 0.6, 1.0, 3.8);
  p.brow_inner = around(4.5, 1.1, 2.0, 7.5);
  p.brow_length = around(p.eye_half_gap + p.eye_width - p.brow_inner + 2.0, 1.8, 10, 24);
  p.brow_arch = around(2.0, 0.9, 0.0, 4.5);
  p.brow_slant = around(0.0, 1.3, -3.5, 3.5);
  p.nose_length = around(20.1, 1.9, 15.5, 25);
  p.nose_width = around(7.5 + g.nose_width, 1.1, 5.0, 11.0);
  p.nose_bridge = around(3.0, 0.5, 1.8, 4.5);
  p.mouth_gap = around(20.6, 1.8, 16, 25);
  p.mouth_half_width = around(14.6, 1.7, 10.5, 19);
  p.upper_lip = around(2.3 + g.lip, 0.55, 1.0, 4.0);
  p.lower_lip = around(3.2 + g.lip, 0.7, 1.6, 5.2);
  p.mouth_curve = around(0.0, 0.8, -2.0, 2.0);
  p.chin = around(p.eye_y + p.nose_length + p.mouth_gap + 17.5, 2.2, p.eye_y + p.nose_length + p.mouth_gap + 12,
                  p.eye_y + p.nose_length + p.mouth_gap + 24);

  // Skin: the group's tone plus a small personal offset, so colour barely separates group mates.
  double tone = g.tone + r.normal(0, kSkinToneSpreadWithinGroup);
  double warmth = g.warmth + r.normal(0, kSkinWarmthSpreadWithinGroup);
  p.skin = skin_colour(tone, warmth);
  // Lips: the skin shifted towards red and darkened, which reads right on light and dark skin.
  double lip_shade = r.uniform(0.88, 1.02);
  p.lips = {static_cast<float>(p.skin[0] * 0.70 * lip_shade), static_cast<float>(p.skin[1] * 0.64 * lip_shade),
            static_cast<float>(std::min(255.0, p.skin[2] * 0.93 * lip_shade))};

  p.age = static_cast<float>(std::pow(r.uniform(), 1.6));
  // Hair colour: black-brown for most, light or red where the group allows; grey with age.
  Colour hair;
  double u = r.uniform();
  if (u < g.red_hair_share) {
    hair = mix(Colour{30, 55, 120}, Colour{60, 100, 190}, r.uniform());
  } else if (u < g.light_hair_share) {
    hair = mix(Colour{60, 95, 130}, Colour{130, 185, 220}, r.uniform());
  } else {
    hair = mix(Colour{18, 18, 22}, Colour{40, 60, 90}, r.uniform());
  }
  if (p.age > 0.55) hair = mix(hair, Colour{175, 178, 180}, std::min(0.85, (p.age - 0.55) * 2.2));
  p.hair = hair;

  std::vector<double> style_weights{0.42, 0.26, 0.08, 0.14, g.curly_share};
  p.hair_style = r.pick(style_weights);
  p.hair_volume = static_cast<float>(p.hair_style == 4 ? r.uniform(9, 16) : r.uniform(1.5, 6.5));
  p.hairline = around(p.eye_y - 30.0, 3.0, p.eye_y - 38, p.eye_y - 22);
  if (p.hair_style == 3) p.hairline = static_cast<float>(p.eye_y - r.uniform(13, 19));
  p.hair_part = static_cast<float>(r.uniform(-1, 1));
  p.hair_recede = p.hair_style == 0 ? static_cast<float>(std::max(0.0, p.age - 0.3) * r.uniform(0.5, 1.5)) : 0.0f;

  p.facial_hair = r.chance(g.facial_hair_share) ? 1 + r.below(4) : 0;

  // Iris: dark brown for most; blue, green, hazel or grey where the group allows.
  if (r.chance(g.light_eye_share)) {
    static const Colour light_eyes[] = {{165, 115, 60}, {95, 135, 75}, {55, 100, 125}, {140, 135, 125}};
    p.iris = scaled(light_eyes[r.below(4)], r.uniform(0.8, 1.1));
  } else {
    p.iris = scaled(Colour{30, 50, 85}, r.uniform(0.5, 1.1));
  }

  p.glasses_tendency = static_cast<float>(r.chance(kGlassesHabitShare) ? kGlassesChanceHabit : kGlassesChanceCasual);
  p.glasses_shape = r.below(2);

  // Marks stay where they are on the face for life: the persistent cues a trained model can use.
  int count = 0;
  for (double l = std::exp(-kMarksMean), prod = r.uniform(); prod > l; prod *= r.uniform()) ++count;
  if (r.chance(g.freckle_rate)) ++count;
  for (int i = 0; i < count; ++i) {
    SyntheticMark m;
    double kind = r.uniform();
    m.kind = kind < 0.55                                   ? SyntheticMark::Kind::mole
             : kind < 0.55 + 0.25 * (0.4 + g.freckle_rate) ? SyntheticMark::Kind::freckles
             : kind < 0.9                                  ? SyntheticMark::Kind::scar
                                                           : SyntheticMark::Kind::birthmark;
    // Rejection-sample a spot on the skin that is not an eye, the mouth or under the hairline.
    for (int attempt = 0; attempt < 20; ++attempt) {
      m.u = static_cast<float>(r.uniform(-0.8, 0.8));
      m.y = static_cast<float>(r.uniform(p.hairline + 6, p.chin - 6));
      double dx = m.u * p.face_half_width;
      bool on_eye =
          std::fabs(m.y - p.eye_y) < p.eye_height + 3 && std::fabs(std::fabs(dx) - p.eye_half_gap) < p.eye_width + 3;
      double mouth_y = p.eye_y + p.nose_length + p.mouth_gap;
      bool on_mouth = std::fabs(m.y - mouth_y) < 5 && std::fabs(dx) < p.mouth_half_width + 2;
      bool off_face = std::fabs(dx) > face_half_width_at(p, m.y) - 3;
      if (!on_eye && !on_mouth && !off_face) break;
    }
    switch (m.kind) {
      case SyntheticMark::Kind::mole:
        m.size = static_cast<float>(r.uniform(0.8, 1.8));
        break;
      case SyntheticMark::Kind::freckles:
        m.size = static_cast<float>(r.uniform(6, 11));
        break;
      case SyntheticMark::Kind::scar:
        m.size = static_cast<float>(r.uniform(5, 12));
        break;
      case SyntheticMark::Kind::birthmark:
        m.size = static_cast<float>(r.uniform(2.5, 5));
        break;
    }
    m.angle = static_cast<float>(r.uniform(0, kPi));
    m.strength = static_cast<float>(r.uniform(0.55, 1.0));
    m.detail = r.next();
    p.marks.push_back(m);
  }
  return p;
}

void render_synthetic(const SyntheticOptions& options, int identity, int image_index, cv::Mat& out) {
  if (image_index < 0) fail("synthetic image index must be >= 0, got {}", image_index);
  const SyntheticIdentity p = synthetic_identity(options, identity);  // validates options and identity
  const Shot shot = draw_shot(options, p, image_index);
  cv::Mat img(kSize, kSize, CV_8UC3);
  Painter(img, p, shot).paint();
  develop(shot, img);
  out = img;
}

int64_t write_synthetic_dataset(const SyntheticOptions& options, const std::filesystem::path& out_dir) {
  namespace fs = std::filesystem;
  validate_synthetic_options(options);
  std::error_code ec;
  // Leftover images of an earlier, larger dataset would silently join this one.
  if (fs::exists(out_dir / "images") && !fs::is_empty(out_dir / "images"))
    fail("cannot write a synthetic dataset into {}: {} already holds images (remove it or choose another folder)",
         out_dir.string(), (out_dir / "images").string());
  fs::create_directories(out_dir / "images", ec);
  if (ec) fail("cannot create {}: {}", (out_dir / "images").string(), ec.message());
  for (int id = 0; id < options.identities; ++id) {
    fs::path dir = out_dir / "images" / fmt::format("{:05d}", id);
    fs::create_directories(dir, ec);
    if (ec) fail("cannot create {}: {}", dir.string(), ec.message());
  }

  const int64_t total = static_cast<int64_t>(options.identities) * options.images_per_identity;
  parallel_for(total, [&](int64_t i) {
    int id = static_cast<int>(i / options.images_per_identity), k = static_cast<int>(i % options.images_per_identity);
    cv::Mat img;
    render_synthetic(options, id, k, img);
    fs::path path = out_dir / "images" / fmt::format("{:05d}", id) / fmt::format("{:03d}.jpg", k);
    if (!write_image(path, img, 95)) fail("cannot write image {}", path.string());
  });

  // Held-out pairs: fold f is pairs [f*N/10, (f+1)*N/10), genuine first. Every pair image is a fresh
  // render (index images_per_identity and up), so no pair image repeats or leaks from training.
  const int first_heldout = options.identities;
  std::vector<std::vector<int>> by_group(options.groups);
  for (int h = first_heldout; h < first_heldout + options.pair_identities; ++h)
    by_group[synthetic_group(options, h)].push_back(h);
  std::vector<int> next_index(options.pair_identities, options.images_per_identity);
  auto take = [&](int h) { return next_index[h - first_heldout]++; };
  struct Side {
    int identity, image;
  };
  std::vector<Side> sides;
  VerificationPack pack;
  Rng r(stream_key(options.seed, kStreamPairs, 0));
  const int per_fold = options.pairs / 10;
  for (int fold = 0; fold < 10; ++fold) {
    for (int i = 0; i < per_fold; ++i) {
      bool genuine = i < per_fold / 2;
      int a = first_heldout + r.below(options.pair_identities);
      int b = a;
      if (!genuine) {
        // Impostors come from the same group, as RFW does: colour alone cannot reject them.
        const auto& mates = by_group[synthetic_group(options, a)];
        int j = r.below(static_cast<int>(mates.size()) - 1);
        b = mates[j] == a ? mates.back() : mates[j];
      }
      int ia = take(a);
      int ib = take(b);
      sides.push_back({a, ia});
      sides.push_back({b, ib});
      pack.issame.push_back(genuine);
    }
  }
  pack.images.resize(sides.size());
  parallel_for(static_cast<int64_t>(sides.size()), [&](int64_t i) {
    cv::Mat img;
    render_synthetic(options, sides[i].identity, sides[i].image, img);
    std::vector<uchar> bytes;
    if (!encode_image(".jpg", img, bytes, 95)) fail("cannot encode verification image {} as JPEG", i);
    pack.images[i].assign(bytes.begin(), bytes.end());
  });
  write_verification_bin(out_dir / "verification.bin", pack);

  std::string csv = "id,group,split\n";
  for (int id = 0; id < options.identities + options.pair_identities; ++id)
    csv += fmt::format("{},{},{}\n", id, synthetic_group(options, id), id < options.identities ? "train" : "heldout");
  write_file_atomically(out_dir / "identities.csv", csv);

  nlohmann::json meta = {{"identities", options.identities},
                         {"images_per_identity", options.images_per_identity},
                         {"seed", options.seed},
                         {"groups", options.groups},
                         {"pair_identities", options.pair_identities},
                         {"pairs", options.pairs},
                         {"variation", options.variation},
                         {"generator_version", kGeneratorVersion}};
  write_file_atomically(out_dir / "synthetic.json", meta.dump(2) + "\n");
  return total;
}

}  // namespace ff::datasets
