// Tests for datasets/synthetic_protocols.cpp: the RFW and IJB trees re-parsed with simple code of
// their own (formats, folds, pairs, templates, galleries), loose crops aligned back with their
// stored landmarks against direct renders, determinism, and option and folder checks.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "datasets/alignment.h"
#include "datasets/synthetic.h"
#include "datasets/synthetic_protocols.h"
#include "src/util/atomic_file.h"
#include "src/util/error.h"
#include "support.h"

namespace {

using namespace ff::datasets;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using ff::test::error_of;

SyntheticOptions base_options(int seed) {
  SyntheticOptions o;
  o.identities = 20;
  o.images_per_identity = 2;
  o.pair_identities = 8;
  o.pairs = 40;
  o.seed = seed;
  return o;
}

SyntheticRfwOptions rfw_options() {
  SyntheticRfwOptions o;
  o.identities_per_race = 8;
  o.images_per_identity = 4;
  o.pairs = 40;
  return o;
}

SyntheticIjbOptions ijb_options() {
  SyntheticIjbOptions o;
  o.subjects = 12;
  o.unenrolled_subjects = 2;
  o.templates_per_subject = 3;
  o.min_frames = 2;
  o.max_frames = 3;
  o.genuine_pairs = 20;
  o.impostor_pairs = 60;
  o.degraded_share = 0.25;
  return o;
}

// The trees every test reads, written once per test run.
struct Trees {
  ff::test::TempDir tmp{"synthetic-protocols"};
  SyntheticOptions options = base_options(11);
  fs::path rfw = tmp / "rfw", ijb = tmp / "ijb";
  Trees() {
    write_synthetic_rfw(options, rfw_options(), rfw);
    write_synthetic_ijb(options, ijb_options(), ijb);
  }
};
const Trees& trees() {
  static Trees t;
  return t;
}

// The options with the identity bound raised far enough for any protocol identity.
SyntheticOptions bound(SyntheticOptions o) {
  o.protocol_identities = 1 << 21;
  return o;
}

cv::Mat render(const SyntheticOptions& o, int identity, int image) {
  cv::Mat img;
  render_synthetic(bound(o), identity, image, img);
  return img;
}

std::vector<std::string> lines_of(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  REQUIRE(in.good());
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::vector<std::string> split(const std::string& line, char separator) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, separator)) fields.push_back(field);
  return fields;
}

double mean_abs_difference(const cv::Mat& a, const cv::Mat& b) {
  REQUIRE(a.size() == b.size());
  REQUIRE(a.type() == b.type());
  return cv::norm(a, b, cv::NORM_L1) / static_cast<double>(a.total()) / a.channels();
}

// "s0001234" -> 1234.
int identity_of(const std::string& id) {
  REQUIRE(id.size() == 8);
  REQUIRE(id[0] == 's');
  return std::stoi(id.substr(1));
}

std::string rfw_file(const std::string& id, int number) { return fmt::format("{}_{:04d}.jpg", id, number); }

// Measured over about 750 default-size crops: clean crops aligned back onto their renders differ by
// 3.5 grey levels on average and 7.0 at most (two bilinear warps and JPEG 95 against a render with
// up to 7 grey levels of noise); a crop compared with another render of its identity differs by 19
// or more, and an unaligned centre crop by 12-17 on average.
constexpr double kAlignedMadMax = 10.0;
constexpr double kAlignedMadMeanMax = 5.0;
constexpr double kOtherRenderMadMin = 15.0;

TEST_CASE("Synthetic RFW pairs name existing images of one race in ten folds", "[datasets]") {
  const Trees& t = trees();
  const SyntheticRfwOptions o = rfw_options();
  const int first_heldout = t.options.identities + t.options.pair_identities;
  for (int race = 0; race < 4; ++race) {
    const std::string name = kSyntheticRfwRaces[race];
    INFO(name);
    // Identity folders: held out, of the race's synthetic group, identities_per_race of them.
    std::set<std::string> ids;
    for (const auto& entry : fs::directory_iterator(t.rfw / "test" / "data" / name)) {
      std::string id = entry.path().filename().string();
      ids.insert(id);
      int h = identity_of(id);
      CHECK(h >= first_heldout);
      CHECK(synthetic_group(bound(t.options), h) == race);
    }
    CHECK(static_cast<int>(ids.size()) == o.identities_per_race);

    std::vector<std::string> lines = lines_of(t.rfw / "test" / "txts" / name / (name + "_pairs.txt"));
    REQUIRE(static_cast<int>(lines.size()) == o.pairs);
    const int per_fold = o.pairs / 10;
    std::set<std::pair<std::string, std::string>> seen;
    for (size_t i = 0; i < lines.size(); ++i) {
      INFO("line " << i + 1 << ": " << lines[i]);
      bool genuine = static_cast<int>(i) % per_fold < per_fold / 2;  // each fold: genuine half first
      std::vector<std::string> f = split(lines[i], '\t');
      REQUIRE(f.size() == (genuine ? 3u : 4u));
      std::string id1 = f[0], id2 = genuine ? f[0] : f[2];
      int n1 = std::stoi(f[1]), n2 = std::stoi(genuine ? f[2] : f[3]);
      // Plain integers in the line, zero-padded to four digits in the file name.
      CHECK(f[1] == std::to_string(n1));
      std::string a = rfw_file(id1, n1), b = rfw_file(id2, n2);
      CHECK(fs::is_regular_file(t.rfw / "test" / "data" / name / id1 / a));
      CHECK(fs::is_regular_file(t.rfw / "test" / "data" / name / id2 / b));
      CHECK(ids.count(id1) == 1);
      CHECK(ids.count(id2) == 1);  // an impostor's second identity is of the same race
      if (genuine) {
        CHECK(n1 != n2);
      } else {
        CHECK(id1 != id2);
      }
      CHECK(seen.insert(std::minmax(a, b)).second);  // no pair twice
    }
  }
  nlohmann::json marker = nlohmann::json::parse(ff::read_file(t.rfw / "synthetic_rfw.json"));
  CHECK(marker.at("pairs") == 4 * o.pairs);
  CHECK(marker.at("images") == 4 * o.identities_per_race * o.images_per_identity);
}

TEST_CASE("Synthetic RFW landmarks list every image and align it back onto its render", "[datasets]") {
  const Trees& t = trees();
  const SyntheticRfwOptions o = rfw_options();
  std::vector<double> aligned_mads, centre_mads;
  for (int race = 0; race < 4; ++race) {
    const std::string name = kSyntheticRfwRaces[race];
    const fs::path txts = t.rfw / "test" / "txts" / name;
    // The label field is the identity's line index in <Race>_people.txt.
    std::map<std::string, int> label_of;
    for (const std::string& line : lines_of(txts / (name + "_people.txt"))) {
      std::vector<std::string> f = split(line, '\t');
      REQUIRE(f.size() == 2u);
      CHECK(f[1] == std::to_string(o.images_per_identity));
      label_of.emplace(f[0], static_cast<int>(label_of.size()));
    }
    std::set<std::string> on_disk;
    for (const auto& entry : fs::recursive_directory_iterator(t.rfw / "test" / "data" / name))
      if (entry.is_regular_file()) on_disk.insert(fs::relative(entry.path(), t.rfw).generic_string());
    CHECK(static_cast<int>(on_disk.size()) == o.identities_per_race * o.images_per_identity);

    const fs::path lmk_file = txts / (name + "_lmk.txt");
    std::vector<std::string> lines = lines_of(lmk_file);
    std::vector<LandmarkEntry> parsed = read_landmarks(lmk_file, "auto");  // the project's reader agrees
    REQUIRE(parsed.size() == lines.size());
    std::set<std::string> listed;
    for (size_t i = 0; i < lines.size(); ++i) {
      INFO(lines[i]);
      std::vector<std::string> f = split(lines[i], '\t');
      REQUIRE(f.size() == 12u);
      const std::string& path = f[0];
      CHECK(listed.insert(path).second);
      std::vector<std::string> parts = split(path, '/');
      REQUIRE(parts.size() == 5u);
      CHECK(parts[0] == "test");
      CHECK(parts[1] == "data");
      CHECK(parts[2] == name);
      CHECK(std::stoi(f[1]) == label_of.at(parts[3]));
      FivePoints points;
      for (int k = 0; k < 5; ++k) {
        points[k] = {std::stod(f[2 + 2 * k]), std::stod(f[3 + 2 * k])};
        CHECK(points[k].x >= 0);
        CHECK(points[k].x < o.loose.canvas);
        CHECK(points[k].y >= 0);
        CHECK(points[k].y < o.loose.canvas);
        CHECK(parsed[i].points[k].x == points[k].x);
        CHECK(parsed[i].points[k].y == points[k].y);
      }
      CHECK(parsed[i].image == path);

      cv::Mat loose = cv::imread((t.rfw / path).string(), cv::IMREAD_COLOR);
      REQUIRE(loose.rows == o.loose.canvas);
      REQUIRE(loose.cols == o.loose.canvas);
      const std::string stem = fs::path(path).stem().string();  // s0001234_0003
      REQUIRE(stem.substr(0, 9) == parts[3] + "_");
      int identity = identity_of(parts[3]), number = std::stoi(stem.substr(9));
      cv::Mat aligned;
      align_face(loose, points, aligned);
      double mad = mean_abs_difference(aligned, render(t.options, identity, number - 1));
      CHECK(mad < kAlignedMadMax);
      aligned_mads.push_back(mad);
      // The crop shows exactly that render: another photo of the same identity is far off.
      int other = number % o.images_per_identity;  // a different 0-based render index
      CHECK(mean_abs_difference(aligned, render(t.options, identity, other)) > kOtherRenderMadMin);
      // Without the landmarks (the canvas centre cut out) the match is much worse.
      int offset = (o.loose.canvas - kAlignedSize) / 2;
      cv::Mat centre = loose(cv::Rect(offset, offset, kAlignedSize, kAlignedSize));
      centre_mads.push_back(mean_abs_difference(centre, render(t.options, identity, number - 1)));
    }
    CHECK(listed == on_disk);
  }
  double aligned_mean = 0, centre_mean = 0;
  for (double m : aligned_mads) aligned_mean += m / aligned_mads.size();
  for (double m : centre_mads) centre_mean += m / centre_mads.size();
  CHECK(aligned_mean < kAlignedMadMeanMax);
  CHECK(centre_mean > aligned_mean + 5.0);
}

// The IJB meta files, re-read: image -> (template, media), image -> subject (CSVs), the CSV sets.
struct IjbTree {
  std::vector<std::string> images;                 // tid_mid order
  std::map<std::string, std::pair<int, int>> tid_mid;  // image -> (template, media)
  std::map<int, std::set<std::string>> template_images;
  std::map<int, int> template_subject;             // from the CSVs
  std::map<std::string, std::set<int>> csv_templates;  // csv name -> templates
  std::map<std::string, std::map<int, std::set<std::string>>> csv_rows;  // csv name -> template -> files

  explicit IjbTree(const fs::path& dir) {
    for (const std::string& line : lines_of(dir / "meta" / "ijbc_face_tid_mid.txt")) {
      std::vector<std::string> f = split(line, ' ');
      REQUIRE(f.size() == 3u);
      images.push_back(f[0]);
      int tid = std::stoi(f[1]), mid = std::stoi(f[2]);
      REQUIRE(std::to_string(tid) == f[1]);
      REQUIRE(std::to_string(mid) == f[2]);
      REQUIRE(tid_mid.emplace(f[0], std::make_pair(tid, mid)).second);
      template_images[tid].insert(f[0]);
    }
    for (const char* name : {"ijbc_1N_gallery_G1.csv", "ijbc_1N_gallery_G2.csv", "ijbc_1N_probe_mixed.csv"}) {
      std::vector<std::string> lines = lines_of(dir / "meta" / name);
      REQUIRE(!lines.empty());
      REQUIRE(lines[0] == "TEMPLATE_ID,SUBJECT_ID,FILENAME");
      for (size_t i = 1; i < lines.size(); ++i) {
        std::vector<std::string> f = split(lines[i], ',');
        REQUIRE(f.size() == 3u);
        int tid = std::stoi(f[0]), subject = std::stoi(f[1]);
        auto [it, inserted] = template_subject.emplace(tid, subject);
        REQUIRE(it->second == subject);  // one subject per template, across all files
        csv_templates[name].insert(tid);
        REQUIRE(csv_rows[name][tid].insert(f[2]).second);
      }
    }
  }
};

TEST_CASE("Synthetic IJB meta files list every crop once with nested templates and media", "[datasets]") {
  const Trees& t = trees();
  const SyntheticIjbOptions o = ijb_options();
  IjbTree tree(t.ijb);
  // Crops are 1.jpg .. N.jpg, listed in that order, and nothing else is in loose_crop/.
  const size_t n = tree.images.size();
  REQUIRE(n > 0);
  for (size_t i = 0; i < n; ++i) CHECK(tree.images[i] == fmt::format("{}.jpg", i + 1));
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(t.ijb / "loose_crop")) {
    ++files;
    CHECK(tree.tid_mid.count(entry.path().filename().string()) == 1);
  }
  CHECK(files == n);

  // 5pts: the same images in the same order; scores in (0, 1], mostly high, some low.
  std::vector<std::string> five = lines_of(t.ijb / "meta" / "ijbc_name_5pts_score.txt");
  REQUIRE(five.size() == n);
  int high = 0, low = 0;
  for (size_t i = 0; i < n; ++i) {
    std::vector<std::string> f = split(five[i], ' ');
    REQUIRE(f.size() == 12u);
    CHECK(f[0] == tree.images[i]);
    for (int k = 1; k <= 10; ++k) {
      double v = std::stod(f[k]);
      CHECK(v >= 0);
      CHECK(v < o.loose.canvas);
    }
    double score = std::stod(f[11]);
    CHECK(score > 0);
    CHECK(score <= 1);
    high += score >= 0.9;
    low += score < 0.7;
  }
  CHECK(high > static_cast<int>(n) / 2);
  CHECK(low > 0);

  // Media nest in templates; template and media ids are two disjoint sets of integers.
  std::map<int, int> media_template;
  std::map<int, int> media_frames;
  for (const auto& [image, ids] : tree.tid_mid) {
    auto [it, inserted] = media_template.emplace(ids.second, ids.first);
    CHECK(it->second == ids.first);
    ++media_frames[ids.second];
  }
  std::map<int, std::set<int>> template_media;
  for (const auto& [mid, tid] : media_template) {
    template_media[tid].insert(mid);
    CHECK(tree.template_images.count(mid) == 0);
  }
  CHECK(static_cast<int>(template_media.size()) == o.subjects * o.templates_per_subject);
  for (const auto& [tid, mids] : template_media) {
    CHECK(static_cast<int>(mids.size()) >= o.min_media);
    CHECK(static_cast<int>(mids.size()) <= o.max_media);
  }
  int stills = 0, videos = 0;
  for (const auto& [mid, frames] : media_frames) {
    if (frames == 1) {
      ++stills;
    } else {
      ++videos;
      CHECK(frames >= o.min_frames);
      CHECK(frames <= o.max_frames);
    }
  }
  CHECK(stills > 0);
  CHECK(videos > 0);

  // Every template's images: the CSV rows of the template equal its tid_mid images.
  std::map<int, std::set<std::string>> csv_images;
  for (const auto& [name, rows] : tree.csv_rows)
    for (const auto& [tid, images] : rows) csv_images[tid].insert(images.begin(), images.end());
  CHECK(csv_images == tree.template_images);
}

TEST_CASE("Synthetic IJB galleries split enrolled subjects and mate each probe at most once", "[datasets]") {
  const Trees& t = trees();
  const SyntheticIjbOptions o = ijb_options();
  IjbTree tree(t.ijb);
  const auto& g1 = tree.csv_templates.at("ijbc_1N_gallery_G1.csv");
  const auto& g2 = tree.csv_templates.at("ijbc_1N_gallery_G2.csv");
  const auto& probes = tree.csv_templates.at("ijbc_1N_probe_mixed.csv");
  std::set<int> s1, s2;
  for (int tid : g1) CHECK(s1.insert(tree.template_subject.at(tid)).second);  // one template per subject
  for (int tid : g2) CHECK(s2.insert(tree.template_subject.at(tid)).second);
  const int enrolled = o.subjects - o.unenrolled_subjects;
  CHECK(static_cast<int>(s1.size() + s2.size()) == enrolled);
  CHECK(std::abs(static_cast<int>(s1.size()) - static_cast<int>(s2.size())) <= 1);
  for (int s : s1) CHECK(s2.count(s) == 0);

  // Each template is in exactly one list; probes are never gallery templates.
  for (const auto& [tid, images] : tree.template_images)
    CHECK(g1.count(tid) + g2.count(tid) + probes.count(tid) == 1u);
  int mated = 0, unmated = 0;
  for (int tid : probes) {
    int subject = tree.template_subject.at(tid);
    size_t galleries = s1.count(subject) + s2.count(subject);
    CHECK(galleries <= 1u);
    (galleries == 1 ? mated : unmated)++;
  }
  CHECK(mated == enrolled * (o.templates_per_subject - 1));
  CHECK(unmated == o.unenrolled_subjects * o.templates_per_subject);

  // Subjects are held-out identities, apart from training, verification.bin and the RFW tree.
  std::set<int> rfw_identities;
  for (int race = 0; race < 4; ++race)
    for (const auto& entry : fs::directory_iterator(t.rfw / "test" / "data" / kSyntheticRfwRaces[race]))
      rfw_identities.insert(identity_of(entry.path().filename().string()));
  std::set<int> subjects;
  for (const auto& [tid, subject] : tree.template_subject) subjects.insert(subject);
  CHECK(static_cast<int>(subjects.size()) == o.subjects);
  for (int s : subjects) {
    CHECK(s >= t.options.identities + t.options.pair_identities);
    CHECK(rfw_identities.count(s) == 0);
  }
}

TEST_CASE("Synthetic IJB template pairs have the configured genuine and impostor counts", "[datasets]") {
  const Trees& t = trees();
  const SyntheticIjbOptions o = ijb_options();
  IjbTree tree(t.ijb);
  int genuine = 0, impostor = 0;
  std::set<std::pair<int, int>> seen;
  for (const std::string& line : lines_of(t.ijb / "meta" / "ijbc_template_pair_label.txt")) {
    INFO(line);
    std::vector<std::string> f = split(line, ' ');
    REQUIRE(f.size() == 3u);
    int a = std::stoi(f[0]), b = std::stoi(f[1]);
    REQUIRE(tree.template_images.count(a) == 1);
    REQUIRE(tree.template_images.count(b) == 1);
    CHECK(a != b);
    CHECK(seen.insert(std::minmax(a, b)).second);
    bool same = tree.template_subject.at(a) == tree.template_subject.at(b);
    if (f[2] == "1") {
      CHECK(same);
      ++genuine;
    } else {
      CHECK(f[2] == "0");
      CHECK_FALSE(same);
      ++impostor;
    }
  }
  CHECK(genuine == o.genuine_pairs);
  CHECK(impostor == o.impostor_pairs);
}

TEST_CASE("Synthetic IJB crops align back onto their renders and low scores mark degraded crops", "[datasets]") {
  const Trees& t = trees();
  IjbTree tree(t.ijb);
  std::vector<std::string> five = lines_of(t.ijb / "meta" / "ijbc_name_5pts_score.txt");
  std::vector<std::string> sources = lines_of(t.ijb / "synthetic_ijb_sources.txt");
  REQUIRE(sources.size() == five.size());
  double clean_sum = 0, degraded_sum = 0;
  int clean = 0, degraded = 0;
  for (size_t i = 0; i < five.size(); ++i) {
    INFO(five[i]);
    std::vector<std::string> f = split(five[i], ' '), s = split(sources[i], ' ');
    REQUIRE(s.size() == 4u);
    REQUIRE(s[0] == f[0]);
    int identity = std::stoi(s[1]), render_index = std::stoi(s[2]);
    bool is_degraded = s[3] == "1";
    // The crop's subject per the 1:N lists is the identity it was rendered from.
    CHECK(tree.template_subject.at(tree.tid_mid.at(f[0]).first) == identity);
    double score = std::stod(f[11]);
    CHECK((score >= 0.9) == !is_degraded);
    FivePoints points;
    for (int k = 0; k < 5; ++k) points[k] = {std::stod(f[1 + 2 * k]), std::stod(f[2 + 2 * k])};
    cv::Mat loose = cv::imread((t.ijb / "loose_crop" / f[0]).string(), cv::IMREAD_COLOR), aligned;
    REQUIRE(!loose.empty());
    align_face(loose, points, aligned);
    double mad = mean_abs_difference(aligned, render(t.options, identity, render_index));
    if (is_degraded) {
      degraded_sum += mad;
      ++degraded;
    } else {
      CHECK(mad < kAlignedMadMax);
      clean_sum += mad;
      ++clean;
    }
  }
  REQUIRE(clean > 0);
  REQUIRE(degraded > 0);
  CHECK(clean_sum / clean < kAlignedMadMeanMax);
  // Measured: degraded crops average about twice the clean difference (7.1 against 3.5).
  CHECK(degraded_sum / degraded > clean_sum / clean + 1.5);
  // Frames of one video are one shot: all of a media's frames come from one render.
  std::map<int, std::set<std::string>> media_renders;
  for (size_t i = 0; i < sources.size(); ++i) {
    std::vector<std::string> s = split(sources[i], ' ');
    media_renders[tree.tid_mid.at(s[0]).second].insert(s[1] + "/" + s[2]);
  }
  for (const auto& [mid, renders] : media_renders) CHECK(renders.size() == 1u);
}

TEST_CASE("Synthetic protocol trees are the same bytes for the same seed", "[datasets]") {
  const Trees& t = trees();
  ff::test::TempDir tmp("synthetic-protocols-again");
  write_synthetic_rfw(base_options(11), rfw_options(), tmp / "rfw");
  write_synthetic_ijb(base_options(11), ijb_options(), tmp / "ijb");
  std::vector<std::string> sample = {
      "rfw/test/txts/Asian/Asian_pairs.txt", "rfw/test/txts/Indian/Indian_lmk.txt",
      "rfw/synthetic_rfw.json",              "ijb/meta/ijbc_face_tid_mid.txt",
      "ijb/meta/ijbc_name_5pts_score.txt",   "ijb/meta/ijbc_template_pair_label.txt",
      "ijb/meta/ijbc_1N_probe_mixed.csv",    "ijb/loose_crop/1.jpg",
      "ijb/loose_crop/17.jpg",               "ijb/synthetic_ijb.json"};
  for (const auto& entry : fs::directory_iterator(t.rfw / "test" / "data" / "Caucasian")) {
    std::string id = entry.path().filename().string();
    sample.push_back("rfw/test/data/Caucasian/" + id + "/" + rfw_file(id, 2));
  }
  for (const std::string& file : sample) {
    INFO(file);
    CHECK(ff::read_file(t.tmp / file) == ff::read_file(tmp / file));
  }
  // Another seed gives other pairs and other pixels.
  ff::test::TempDir other("synthetic-protocols-other");
  write_synthetic_rfw(base_options(12), rfw_options(), other / "rfw");
  write_synthetic_ijb(base_options(12), ijb_options(), other / "ijb");
  CHECK(ff::read_file(t.tmp / "rfw/test/txts/Asian/Asian_pairs.txt") !=
        ff::read_file(other / "rfw/test/txts/Asian/Asian_pairs.txt"));
  CHECK(ff::read_file(t.tmp / "ijb/loose_crop/1.jpg") != ff::read_file(other / "ijb/loose_crop/1.jpg"));
  CHECK(ff::read_file(t.tmp / "ijb/meta/ijbc_template_pair_label.txt") !=
        ff::read_file(other / "ijb/meta/ijbc_template_pair_label.txt"));
}

TEST_CASE("Synthetic protocol writers refuse bad options and non-empty folders", "[datasets]") {
  const SyntheticOptions base = base_options(3);
  auto rfw_with = [&](auto change) {
    SyntheticRfwOptions o = rfw_options();
    change(o);
    return error_of([&] { validate_synthetic_rfw_options(base, o); });
  };
  auto ijb_with = [&](auto change) {
    SyntheticIjbOptions o = ijb_options();
    change(o);
    return error_of([&] { validate_synthetic_ijb_options(base, o); });
  };
  CHECK_THAT(rfw_with([](auto& o) { o.pairs = 30; }), Contains("rfw.pairs") && Contains("got 30"));
  CHECK_THAT(rfw_with([](auto& o) { o.pairs = 200; }), Contains("rfw.pairs must be <= 40") && Contains("got 200"));
  CHECK_THAT(rfw_with([](auto& o) { o.images_per_identity = 1; }),
             Contains("rfw.images_per_identity") && Contains("got 1"));
  CHECK_THAT(rfw_with([](auto& o) { o.loose.canvas = 130; }),
             Contains("rfw.loose.canvas must be >= 151") && Contains("got 130"));
  CHECK_THAT(rfw_with([](auto& o) { o.loose.max_scale = 0.5; }), Contains("rfw.loose.max_scale") && Contains("0.5"));
  CHECK_THAT(ijb_with([](auto& o) { o.unenrolled_subjects = 11; }),
             Contains("ijb.unenrolled_subjects") && Contains("got 11"));
  CHECK_THAT(ijb_with([](auto& o) { o.genuine_pairs = 37; }),
             Contains("ijb.genuine_pairs must be in [0, 36]") && Contains("got 37"));
  CHECK_THAT(ijb_with([](auto& o) { o.min_frames = 1; }), Contains("ijb.min_frames") && Contains("got 1"));
  CHECK_THAT(ijb_with([](auto& o) { o.degraded_share = 1.5; }), Contains("ijb.degraded_share") && Contains("1.5"));
  SyntheticOptions three_groups = base;
  three_groups.groups = 3;
  CHECK_THAT(error_of([&] { validate_synthetic_rfw_options(three_groups, rfw_options()); }),
             Contains("synthetic.groups"));

  ff::test::TempDir tmp("synthetic-protocols-refuse");
  ff::test::write_text(tmp / "rfw" / "leftover.txt", "x");
  CHECK_THAT(error_of([&] { write_synthetic_rfw(base, rfw_options(), tmp / "rfw"); }), Contains("not an empty folder"));
  ff::test::write_text(tmp / "ijb" / "meta" / "leftover.txt", "x");
  CHECK_THAT(error_of([&] { write_synthetic_ijb(base, ijb_options(), tmp / "ijb"); }), Contains("not an empty folder"));
  CHECK_FALSE(fs::exists(tmp / "rfw" / "test"));
  CHECK_FALSE(fs::exists(tmp / "ijb" / "loose_crop"));
}

TEST_CASE("Synthetic protocol identities leave the renderer's pixels and bounds as they were", "[datasets]") {
  SyntheticOptions o = base_options(5);
  cv::Mat before, after;
  render_synthetic(o, o.identities + 1, 3, before);
  SyntheticOptions raised = o;
  raised.protocol_identities = 1000;
  render_synthetic(raised, o.identities + 1, 3, after);
  CHECK(cv::norm(before, after, cv::NORM_INF) == 0);
  const int past = o.identities + o.pair_identities;
  CHECK_THAT(error_of([&] { render_synthetic(o, past, 0, after); }), Contains("out of range"));
  render_synthetic(raised, past + 999, 0, after);
  CHECK(after.rows == 112);
  CHECK_THAT(error_of([&] { render_synthetic(raised, past + 1000, 0, after); }), Contains("out of range"));
  raised.protocol_identities = -1;
  CHECK_THAT(error_of([&] { validate_synthetic_options(raised); }),
             Contains("synthetic.protocol_identities") && Contains("got -1"));
}

}  // namespace
