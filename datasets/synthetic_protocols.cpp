// RFW-style and IJB-C-style protocol trees of loose crops rendered from held-out synthetic identities:
// the plan (identities, images, pairs, templates) is drawn first, then images render in parallel.
#include "datasets/synthetic_protocols.h"
#include "datasets/image_codec.h"
#include "datasets/synthetic_rng.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <mutex>
#include <numbers>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "datasets/alignment.h"
#include "src/util/atomic_file.h"
#include "src/util/error.h"
#include "src/util/splitmix.h"

namespace ff::datasets {

namespace fs = std::filesystem;

namespace {

// Bumped whenever the trees change for the same options.
constexpr int kProtocolVersion = 1;
constexpr double kRenderCentre = 56.0;  // the warp turns about the render's middle
constexpr double kRenderHalfExtent = 56.5;  // from that middle to the render's outer pixel edge
constexpr double kSurroundBlur = 6.0;     // pixels: defocus of the surrounding outside the render
constexpr double kSurroundFeather = 3.0;  // pixels: how far outside the render it fades into that

enum Stream : uint64_t { kRfwLoose = 1, kRfwPairs, kIjbPlan, kIjbLoose, kIjbPairs, kIjbIds };

// The salt keeps these streams apart from the renderer's own.
uint64_t stream_key(int seed, Stream stream, int64_t a, int64_t b = 0) {
  return synthetic_stream_key(0x9A0705E7F0C0105ULL, seed, stream, a, b);
}

using Rng = SyntheticRng;

// ---- Loose crops ------------------------------------------------------------------------------

void validate_loose(const SyntheticLooseOptions& o, const char* prefix) {
  if (o.canvas < 112 || o.canvas > 4096)
    fail("{}.loose.canvas must be in [112, 4096] pixels, got {}", prefix, o.canvas);
  if (!(o.max_rotation_degrees >= 0 && o.max_rotation_degrees <= 45))
    fail("{}.loose.max_rotation_degrees must be in [0, 45], got {}", prefix, o.max_rotation_degrees);
  if (!(o.min_scale >= 0.25 && o.min_scale <= 4))
    fail("{}.loose.min_scale must be in [0.25, 4], got {}", prefix, o.min_scale);
  if (!(o.max_scale >= o.min_scale && o.max_scale <= 4))
    fail("{}.loose.max_scale must be in [min_scale = {}, 4], got {}", prefix, o.min_scale, o.max_scale);
  if (!(o.max_shift >= 0 && o.max_shift <= o.canvas))
    fail("{}.loose.max_shift must be in [0, canvas = {}] pixels, got {}", prefix, o.canvas, o.max_shift);
  if (o.jpeg_quality < 1 || o.jpeg_quality > 100)
    fail("{}.loose.jpeg_quality must be in [1, 100], got {}", prefix, o.jpeg_quality);
  // The rotated, scaled, shifted render must stay inside the canvas (one pixel spare for bilinear
  // sampling), or aligning the crop back would sample past its edge.
  double a = o.max_rotation_degrees * std::numbers::pi / 180.0;
  double half = kRenderHalfExtent * o.max_scale * (std::cos(a) + std::sin(a)) + o.max_shift;
  int needed = static_cast<int>(std::ceil(2.0 * (half + 1.0)));
  if (o.canvas < needed)
    fail("{}.loose.canvas must be >= {} pixels so the whole render fits at max_scale {}, max_rotation_degrees {} "
         "and max_shift {}, got {}",
         prefix, needed, o.max_scale, o.max_rotation_degrees, o.max_shift, o.canvas);
}

// q = s R (p - centre) + canvas middle + shift, as the 2x3 matrix cv::warpAffine takes.
cv::Matx23d draw_loose_transform(Rng& r, const SyntheticLooseOptions& o) {
  double angle = r.uniform(-o.max_rotation_degrees, o.max_rotation_degrees) * std::numbers::pi / 180.0;
  double scale = r.uniform(o.min_scale, o.max_scale);
  double tx = o.canvas / 2.0 + r.uniform(-o.max_shift, o.max_shift);
  double ty = o.canvas / 2.0 + r.uniform(-o.max_shift, o.max_shift);
  double c = scale * std::cos(angle), s = scale * std::sin(angle);
  return {c, -s, tx - c * kRenderCentre + s * kRenderCentre, s, c, ty - s * kRenderCentre - c * kRenderCentre};
}

FivePoints mapped_template(const cv::Matx23d& m) {
  FivePoints out;
  for (size_t i = 0; i < out.size(); ++i) {
    const cv::Point2d& p = kArcFaceTemplate[i];
    out[i] = {m(0, 0) * p.x + m(0, 1) * p.y + m(0, 2), m(1, 0) * p.x + m(1, 1) * p.y + m(1, 2)};
  }
  return out;
}

std::string points_text(const FivePoints& points, char separator) {
  std::string text;
  for (size_t i = 0; i < points.size(); ++i)
    text += fmt::format("{}{:.3f}{}{:.3f}", i ? std::string(1, separator) : "", points[i].x, separator, points[i].y);
  return text;
}

// Inside the warped render the canvas is the warp itself; outside, the render's edge colours
// continue, smeared (replicated) and defocused, blended in over a few pixels: a plausible
// out-of-focus surrounding without a hard pasted edge and without mirrored copies of the head.
cv::Mat make_loose(const cv::Mat& render, const cv::Matx23d& m, int canvas) {
  const cv::Size size(canvas, canvas);
  cv::Mat sharp, soft, inside, feather;
  cv::warpAffine(render, sharp, cv::Mat(m), size, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  cv::GaussianBlur(sharp, soft, cv::Size(0, 0), kSurroundBlur);
  cv::warpAffine(cv::Mat(render.size(), CV_32F, cv::Scalar(1)), inside, cv::Mat(m), size, cv::INTER_LINEAR,
                 cv::BORDER_CONSTANT, cv::Scalar(0));
  cv::GaussianBlur(inside, feather, cv::Size(0, 0), kSurroundFeather);
  cv::Mat weight = cv::max(inside, feather), weight3, sharp_f, soft_f, out;
  cv::merge(std::vector<cv::Mat>{weight, weight, weight}, weight3);
  sharp.convertTo(sharp_f, CV_32FC3);
  soft.convertTo(soft_f, CV_32FC3);
  cv::Mat blended = soft_f + weight3.mul(sharp_f - soft_f);
  blended.convertTo(out, CV_8UC3);
  return out;
}

// A bad detection: low resolution, blur, sensor noise and heavy JPEG, all growing with `severity`
// (0..1). Returns the JPEG quality to store the crop with.
int degrade(cv::Mat& img, double severity, Rng& r) {
  int side = std::max(16, static_cast<int>(std::lround(img.cols * (0.5 - 0.3 * severity))));
  cv::Mat small;
  cv::resize(img, small, cv::Size(side, side), 0, 0, cv::INTER_AREA);
  cv::resize(small, img, img.size(), 0, 0, cv::INTER_LINEAR);
  double sigma = 0.6 + 1.4 * severity;
  cv::GaussianBlur(img, img, cv::Size(0, 0), sigma);
  double noise = 3.0 + 9.0 * severity;
  for (int y = 0; y < img.rows; ++y) {
    uint8_t* row = img.ptr<uint8_t>(y);
    for (int i = 0; i < img.cols * img.channels(); ++i)
      row[i] = static_cast<uint8_t>(std::clamp(std::lround(row[i] + noise * r.normal()), 0L, 255L));
  }
  return static_cast<int>(std::lround(70.0 - 45.0 * severity));
}

void write_jpeg(const fs::path& path, const cv::Mat& img, int quality) {
  if (!write_image(path, img, quality)) fail("cannot write image {}", path.string());
}

// Runs fn(i) for i in [0, n) on a few threads; fn's effects depend only on i. The first exception
// is rethrown on the caller's thread; `progress` runs on the caller's thread only.
template <typename Fn>
void parallel_for(int64_t n, Fn fn, const SyntheticProgress& progress, const std::vector<int64_t>& weights) {
  const int threads = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 8u));
  std::atomic<int64_t> next{0}, done{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  std::atomic<bool> failed{false};
  int64_t total = 0;
  for (int64_t w : weights) total += w;
  auto work = [&](bool caller) {
    try {
      for (int64_t i = next++; i < n && !failed; i = next++) {
        fn(i);
        int64_t now = done += weights[static_cast<size_t>(i)];
        if (caller && progress) progress(now, total);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      failed = true;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, false);
  work(true);
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  if (progress) progress(total, total);
}

void create_folder(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("cannot create {}: {}", dir.string(), ec.message());
}

// The first held-out index after training and verification.bin identities.
int first_protocol_identity(const SyntheticOptions& o) { return o.identities + o.pair_identities; }

// The renderer's options with the protocol bound raised to cover `count` indices from the first one.
SyntheticOptions with_protocol_identities(const SyntheticOptions& o, int64_t count) {
  SyntheticOptions out = o;
  out.protocol_identities = static_cast<int>(std::max<int64_t>(o.protocol_identities, count));
  return out;
}

nlohmann::json base_json(const SyntheticOptions& o) {
  return {{"identities", o.identities},   {"pair_identities", o.pair_identities}, {"seed", o.seed},
          {"groups", o.groups},           {"variation", o.variation},             {"protocol_version", kProtocolVersion}};
}

nlohmann::json loose_json(const SyntheticLooseOptions& o) {
  return {{"canvas", o.canvas},       {"max_rotation_degrees", o.max_rotation_degrees}, {"min_scale", o.min_scale},
          {"max_scale", o.max_scale}, {"max_shift", o.max_shift},                     {"jpeg_quality", o.jpeg_quality}};
}

}  // namespace

void check_synthetic_protocol_folder(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !(fs::is_directory(dir, ec) && fs::is_empty(dir, ec)))
    fail("cannot write a synthetic protocol tree into {}: it already exists and is not an empty folder (remove it "
         "or choose another output folder)",
         dir.string());
}

// ---- RFW --------------------------------------------------------------------------------------

void validate_synthetic_rfw_options(const SyntheticOptions& options, const SyntheticRfwOptions& o) {
  validate_synthetic_options(options);
  if (o.identities_per_race < 2)
    fail("rfw.identities_per_race must be >= 2 (impostor pairs need two identities), got {}", o.identities_per_race);
  if (o.images_per_identity < 2 || o.images_per_identity > 9999)
    fail("rfw.images_per_identity must be in [2, 9999] (genuine pairs need two images; names have 4 digits), got {}",
         o.images_per_identity);
  if (o.pairs < 20 || o.pairs % 20 != 0)
    fail("rfw.pairs must be a positive multiple of 20 (10 folds, half genuine), got {}", o.pairs);
  const int64_t n = o.identities_per_race, k = o.images_per_identity;
  // Pairs never repeat; each half may use at most half of the distinct pairs of its kind, so
  // rejection sampling stays quick.
  const int64_t genuine_capacity = n * k * (k - 1) / 2, impostor_capacity = n * (n - 1) / 2 * k * k;
  const int64_t limit = std::min(genuine_capacity / 2, impostor_capacity / 2) * 2 / 20 * 20;
  if (o.pairs > limit)
    fail("rfw.pairs must be <= {} for {} identities of {} images per race (each half may use at most half of the {} "
         "distinct genuine or {} impostor pairs), got {}",
         limit, n, k, genuine_capacity, impostor_capacity, o.pairs);
  if (n * options.groups > kSyntheticIjbIdentityOffset)
    fail("rfw.identities_per_race must be <= {} at {} groups (RFW identities stay below the IJB ones), got {}",
         kSyntheticIjbIdentityOffset / options.groups, options.groups, n);
  if (static_cast<int64_t>(first_protocol_identity(options)) + n * options.groups > std::numeric_limits<int>::max())
    fail("rfw.identities_per_race = {} needs identity indices past the int range after {} training and held-out "
         "identities",
         n, first_protocol_identity(options));
  validate_loose(o.loose, "rfw");
}

SyntheticRfwReport write_synthetic_rfw(const SyntheticOptions& base, const SyntheticRfwOptions& o,
                                       const fs::path& dir, const SyntheticProgress& progress) {
  validate_synthetic_rfw_options(base, o);
  check_synthetic_protocol_folder(dir);
  // Round robin groups: every `groups` consecutive indices hold each group once.
  const SyntheticOptions options =
      with_protocol_identities(base, static_cast<int64_t>(o.identities_per_race) * base.groups);
  const int first = first_protocol_identity(options);
  const int races = static_cast<int>(kSyntheticRfwRaces.size());
  std::vector<std::vector<int>> ids(races);
  for (int h = first, found = 0; found < races * o.identities_per_race; ++h) {
    int g = synthetic_group(options, h);
    if (g < races && static_cast<int>(ids[g].size()) < o.identities_per_race) {
      ids[g].push_back(h);
      ++found;
    }
  }
  auto id_name = [](int h) { return fmt::format("s{:07d}", h); };
  auto file_name = [&](int h, int number) { return fmt::format("{}_{:04d}.jpg", id_name(h), number); };

  struct Image {
    int race, label, identity, number;
  };
  std::vector<Image> images;
  for (int race = 0; race < races; ++race)
    for (int label = 0; label < o.identities_per_race; ++label)
      for (int number = 1; number <= o.images_per_identity; ++number)
        images.push_back({race, label, ids[race][label], number});

  create_folder(dir);
  for (int race = 0; race < races; ++race) {
    create_folder(dir / "test" / "txts" / kSyntheticRfwRaces[race]);
    for (int h : ids[race]) create_folder(dir / "test" / "data" / kSyntheticRfwRaces[race] / id_name(h));
  }

  std::vector<FivePoints> landmarks(images.size());
  parallel_for(
      static_cast<int64_t>(images.size()),
      [&](int64_t i) {
        const Image& im = images[static_cast<size_t>(i)];
        cv::Mat render;
        render_synthetic(options, im.identity, im.number - 1, render);
        Rng r(stream_key(options.seed, kRfwLoose, im.identity, im.number));
        cv::Matx23d m = draw_loose_transform(r, o.loose);
        landmarks[static_cast<size_t>(i)] = mapped_template(m);
        write_jpeg(dir / "test" / "data" / kSyntheticRfwRaces[im.race] / id_name(im.identity) /
                       file_name(im.identity, im.number),
                   make_loose(render, m, o.loose.canvas), o.loose.jpeg_quality);
      },
      progress, std::vector<int64_t>(images.size(), 1));

  SyntheticRfwReport report;
  for (int race = 0; race < races; ++race) {
    const std::string& name = kSyntheticRfwRaces[race];
    const fs::path txts = dir / "test" / "txts" / name;
    std::string lmk, people, listing;
    for (size_t i = 0; i < images.size(); ++i) {
      const Image& im = images[i];
      if (im.race != race) continue;
      std::string file = file_name(im.identity, im.number);
      lmk += fmt::format("test/data/{}/{}/{}\t{}\t{}\n", name, id_name(im.identity), file, im.label,
                         points_text(landmarks[i], '\t'));
      listing += fmt::format("{}\t{}\n", file, im.label);
    }
    for (int h : ids[race]) people += fmt::format("{}\t{}\n", id_name(h), o.images_per_identity);

    // Fold f = lines [f*P/10, (f+1)*P/10): genuine first, then impostors, as LFW and RFW order them.
    Rng r(stream_key(options.seed, kRfwPairs, race));
    const int n = o.identities_per_race, k = o.images_per_identity, per_fold = o.pairs / 10;
    std::set<std::tuple<int, int, int, int>> used;  // (label1, number1, label2, number2), ordered
    std::string pairs;
    for (int fold = 0; fold < 10; ++fold) {
      for (int i = 0; i < per_fold; ++i) {
        const bool genuine = i < per_fold / 2;
        for (int attempt = 0;; ++attempt) {
          if (attempt > 1000000) fail("rfw: could not draw a new {} pair for {}", genuine ? "genuine" : "impostor", name);
          int a = r.below(n), b = a;
          if (!genuine) {
            b = r.below(n - 1);
            if (b >= a) ++b;
          }
          int na = 1 + r.below(k), nb = 1 + r.below(k);
          if (genuine && na == nb) continue;
          // LFW lists genuine numbers ascending and impostor names in order; so do we.
          if (std::tie(a, na) > std::tie(b, nb)) {
            std::swap(a, b);
            std::swap(na, nb);
          }
          if (!used.emplace(a, na, b, nb).second) continue;
          pairs += genuine ? fmt::format("{}\t{}\t{}\n", id_name(ids[race][a]), na, nb)
                           : fmt::format("{}\t{}\t{}\t{}\n", id_name(ids[race][a]), na, id_name(ids[race][b]), nb);
          break;
        }
      }
    }
    write_file_atomically(txts / (name + "_pairs.txt"), pairs);
    write_file_atomically(txts / (name + "_lmk.txt"), lmk);
    write_file_atomically(txts / (name + "_people.txt"), people);
    write_file_atomically(txts / (name + "_images.txt"), listing);
    report.pairs += o.pairs;
  }
  report.images = static_cast<int64_t>(images.size());
  report.identities = races * o.identities_per_race;

  nlohmann::json meta = {{"synthetic", base_json(base)},
                         {"rfw",
                          {{"identities_per_race", o.identities_per_race},
                           {"images_per_identity", o.images_per_identity},
                           {"pairs", o.pairs},
                           {"loose", loose_json(o.loose)}}},
                         {"first_identity", first},
                         {"images", report.images},
                         {"pairs", report.pairs}};
  write_file_atomically(dir / "synthetic_rfw.json", meta.dump(2) + "\n");
  return report;
}

// ---- IJB --------------------------------------------------------------------------------------

void validate_synthetic_ijb_options(const SyntheticOptions& options, const SyntheticIjbOptions& o) {
  validate_synthetic_options(options);
  if (o.subjects < 2 || o.subjects > 1000000) fail("ijb.subjects must be in [2, 1000000], got {}", o.subjects);
  if (o.unenrolled_subjects < 0 || o.unenrolled_subjects > o.subjects - 2)
    fail("ijb.unenrolled_subjects must be in [0, subjects - 2 = {}] (each gallery needs a subject), got {}",
         o.subjects - 2, o.unenrolled_subjects);
  if (o.templates_per_subject < 2 || o.templates_per_subject > 1000)
    fail("ijb.templates_per_subject must be in [2, 1000] (a gallery template and a probe), got {}",
         o.templates_per_subject);
  if (o.min_media < 1 || o.min_media > 1000) fail("ijb.min_media must be in [1, 1000], got {}", o.min_media);
  if (o.max_media < o.min_media || o.max_media > 1000)
    fail("ijb.max_media must be in [min_media = {}, 1000], got {}", o.min_media, o.max_media);
  if (!(o.still_share >= 0 && o.still_share <= 1)) fail("ijb.still_share must be in [0, 1], got {}", o.still_share);
  if (o.min_frames < 2 || o.min_frames > 1000)
    fail("ijb.min_frames must be in [2, 1000] (a video has two frames or more), got {}", o.min_frames);
  if (o.max_frames < o.min_frames || o.max_frames > 1000)
    fail("ijb.max_frames must be in [min_frames = {}, 1000], got {}", o.min_frames, o.max_frames);
  if (!(o.degraded_share >= 0 && o.degraded_share <= 1))
    fail("ijb.degraded_share must be in [0, 1], got {}", o.degraded_share);
  const int64_t s = o.subjects, t = o.templates_per_subject;
  const int64_t genuine_capacity = s * t * (t - 1) / 2, impostor_capacity = s * (s - 1) / 2 * t * t;
  if (o.genuine_pairs < 0 || o.genuine_pairs > genuine_capacity)
    fail("ijb.genuine_pairs must be in [0, {}] (distinct same-subject template pairs), got {}", genuine_capacity,
         o.genuine_pairs);
  // At most half of the distinct impostor pairs, so rejection sampling stays quick.
  if (o.impostor_pairs < 0 || o.impostor_pairs > impostor_capacity / 2)
    fail("ijb.impostor_pairs must be in [0, {}] (half of the distinct cross-subject template pairs), got {}",
         impostor_capacity / 2, o.impostor_pairs);
  if (static_cast<int64_t>(first_protocol_identity(options)) + kSyntheticIjbIdentityOffset + s >
      std::numeric_limits<int>::max())
    fail("ijb.subjects = {} needs identity indices past the int range after {} training and held-out identities",
         o.subjects, first_protocol_identity(options));
  validate_loose(o.loose, "ijb");
}

SyntheticIjbReport write_synthetic_ijb(const SyntheticOptions& base, const SyntheticIjbOptions& o, const fs::path& dir,
                                       const SyntheticProgress& progress) {
  validate_synthetic_ijb_options(base, o);
  check_synthetic_protocol_folder(dir);
  const SyntheticOptions options =
      with_protocol_identities(base, static_cast<int64_t>(kSyntheticIjbIdentityOffset) + o.subjects);
  const int first = first_protocol_identity(options) + kSyntheticIjbIdentityOffset;
  const int T = o.templates_per_subject;

  // Plan: subject -> templates -> media -> frames. One render per media; images numbered in order.
  struct Media {
    int subject, template_index, render_index;
    int64_t first_image;
    int frames;
  };
  std::vector<Media> media;
  std::vector<int> image_media;  // image (0-based) -> media index
  Rng plan(stream_key(options.seed, kIjbPlan, 0));
  for (int s = 0; s < o.subjects; ++s) {
    int render_index = 0;
    for (int t = 0; t < T; ++t) {
      int count = plan.between(o.min_media, o.max_media);
      for (int m = 0; m < count; ++m) {
        int frames = plan.chance(o.still_share) ? 1 : plan.between(o.min_frames, o.max_frames);
        media.push_back({s, s * T + t, render_index++, static_cast<int64_t>(image_media.size()), frames});
        for (int f = 0; f < frames; ++f) image_media.push_back(static_cast<int>(media.size()) - 1);
      }
    }
  }
  const int templates = o.subjects * T;
  Rng ids(stream_key(options.seed, kIjbIds, 0));
  std::vector<int> template_id(static_cast<size_t>(templates)), media_id(media.size());
  for (int i = 0; i < templates; ++i) template_id[static_cast<size_t>(i)] = 1 + i;
  for (size_t i = 0; i < media.size(); ++i) media_id[i] = templates + 1 + static_cast<int>(i);
  ids.shuffle(template_id);
  ids.shuffle(media_id);

  create_folder(dir / "loose_crop");
  create_folder(dir / "meta");
  const int64_t images = static_cast<int64_t>(image_media.size());
  struct Crop {
    FivePoints points;
    double score = 1;
    bool degraded = false;
  };
  std::vector<Crop> crops(static_cast<size_t>(images));
  std::vector<int64_t> weights;
  for (const Media& m : media) weights.push_back(m.frames);
  parallel_for(
      static_cast<int64_t>(media.size()),
      [&](int64_t mi) {
        const Media& m = media[static_cast<size_t>(mi)];
        cv::Mat render;
        render_synthetic(options, first + m.subject, m.render_index, render);
        // Frames of a video share the render (one shot) but each is its own loose crop.
        for (int f = 0; f < m.frames; ++f) {
          int64_t n = m.first_image + f;
          Rng r(stream_key(options.seed, kIjbLoose, n));
          Crop& crop = crops[static_cast<size_t>(n)];
          cv::Matx23d transform = draw_loose_transform(r, o.loose);
          crop.points = mapped_template(transform);
          cv::Mat loose = make_loose(render, transform, o.loose.canvas);
          int quality = o.loose.jpeg_quality;
          if (r.chance(o.degraded_share)) {
            double severity = r.uniform();
            quality = std::min(quality, degrade(loose, severity, r));
            crop.degraded = true;
            crop.score = std::clamp(0.62 - 0.55 * severity + r.uniform(-0.02, 0.02), 0.01, 0.62);
          } else {
            crop.score = r.uniform(0.9, 0.9999);
          }
          write_jpeg(dir / "loose_crop" / fmt::format("{}.jpg", n + 1), loose, quality);
        }
      },
      progress, weights);

  std::string tid_mid, five_points, sources;
  for (int64_t n = 0; n < images; ++n) {
    const Media& m = media[static_cast<size_t>(image_media[static_cast<size_t>(n)])];
    const Crop& crop = crops[static_cast<size_t>(n)];
    tid_mid += fmt::format("{}.jpg {} {}\n", n + 1, template_id[static_cast<size_t>(m.template_index)],
                           media_id[static_cast<size_t>(image_media[static_cast<size_t>(n)])]);
    five_points += fmt::format("{}.jpg {} {:.4f}\n", n + 1, points_text(crop.points, ' '), crop.score);
    sources += fmt::format("{}.jpg {} {} {}\n", n + 1, first + m.subject, m.render_index, crop.degraded ? 1 : 0);
  }

  // 1:N: enrolled subjects alternate G1, G2 by position; the last unenrolled_subjects are in neither.
  const int enrolled = o.subjects - o.unenrolled_subjects;
  const std::string header = "TEMPLATE_ID,SUBJECT_ID,FILENAME\n";
  std::string g1 = header, g2 = header, probes = header;
  for (int64_t n = 0; n < images; ++n) {
    const Media& m = media[static_cast<size_t>(image_media[static_cast<size_t>(n)])];
    std::string row = fmt::format("{},{},{}.jpg\n", template_id[static_cast<size_t>(m.template_index)],
                                  first + m.subject, n + 1);
    bool gallery = m.subject < enrolled && m.template_index % T == 0;
    (gallery ? (m.subject % 2 == 0 ? g1 : g2) : probes) += row;
  }

  // 1:1: distinct unordered template pairs, genuine from one subject, impostors across two.
  Rng r(stream_key(options.seed, kIjbPairs, 0));
  std::vector<std::pair<int, int>> genuine;  // template indices
  for (int s = 0; s < o.subjects; ++s)
    for (int a = 0; a < T; ++a)
      for (int b = a + 1; b < T; ++b) genuine.emplace_back(s * T + a, s * T + b);
  r.shuffle(genuine);
  genuine.resize(static_cast<size_t>(o.genuine_pairs));
  std::set<std::pair<int, int>> impostors;
  std::vector<std::tuple<int, int, int>> pairs;  // tid1, tid2, label
  for (const auto& [a, b] : genuine)
    pairs.emplace_back(template_id[static_cast<size_t>(a)], template_id[static_cast<size_t>(b)], 1);
  while (static_cast<int>(impostors.size()) < o.impostor_pairs) {
    int sa = r.below(o.subjects), sb = r.below(o.subjects - 1);
    if (sb >= sa) ++sb;
    int a = sa * T + r.below(T), b = sb * T + r.below(T);
    if (impostors.emplace(std::min(a, b), std::max(a, b)).second)
      pairs.emplace_back(template_id[static_cast<size_t>(a)], template_id[static_cast<size_t>(b)], 0);
  }
  r.shuffle(pairs);
  std::string pair_text;
  for (const auto& [a, b, label] : pairs) pair_text += fmt::format("{} {} {}\n", a, b, label);

  const fs::path meta_dir = dir / "meta";
  write_file_atomically(meta_dir / "ijbc_face_tid_mid.txt", tid_mid);
  write_file_atomically(meta_dir / "ijbc_name_5pts_score.txt", five_points);
  write_file_atomically(meta_dir / "ijbc_template_pair_label.txt", pair_text);
  write_file_atomically(meta_dir / "ijbc_1N_gallery_G1.csv", g1);
  write_file_atomically(meta_dir / "ijbc_1N_gallery_G2.csv", g2);
  write_file_atomically(meta_dir / "ijbc_1N_probe_mixed.csv", probes);
  write_file_atomically(dir / "synthetic_ijb_sources.txt", sources);

  SyntheticIjbReport report;
  report.images = images;
  report.templates = templates;
  report.media = static_cast<int>(media.size());
  report.subjects = o.subjects;
  report.genuine_pairs = o.genuine_pairs;
  report.impostor_pairs = o.impostor_pairs;
  nlohmann::json meta = {{"synthetic", base_json(base)},
                         {"ijb",
                          {{"subjects", o.subjects},
                           {"unenrolled_subjects", o.unenrolled_subjects},
                           {"templates_per_subject", o.templates_per_subject},
                           {"min_media", o.min_media},
                           {"max_media", o.max_media},
                           {"still_share", o.still_share},
                           {"min_frames", o.min_frames},
                           {"max_frames", o.max_frames},
                           {"genuine_pairs", o.genuine_pairs},
                           {"impostor_pairs", o.impostor_pairs},
                           {"degraded_share", o.degraded_share},
                           {"loose", loose_json(o.loose)}}},
                         {"first_identity", first},
                         {"images", report.images},
                         {"templates", report.templates},
                         {"media", report.media}};
  write_file_atomically(dir / "synthetic_ijb.json", meta.dump(2) + "\n");
  return report;
}

}  // namespace ff::datasets
