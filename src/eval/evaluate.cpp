// Protocol dispatch: builds each protocol's image set, gets its features, scores pairs or templates
// and turns the metrics into store evaluations with their conventions.
#include "src/eval/evaluate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <unordered_map>

#include <fmt/format.h>
#include <torch/nn/functional/normalization.h>
#include <torch/types.h>

#include "datasets/image_codec.h"
#include "datasets/alignment.h"
#include "datasets/ijb_meta.h"
#include "datasets/pair_lists.h"
#include "datasets/text_lines.h"
#include "datasets/verification_bin.h"
#include "src/eval/group_metrics.h"
#include "src/eval/identification.h"
#include "src/eval/ijb.h"
#include "src/util/error.h"
#include "src/util/threads.h"

namespace ff::eval {

namespace fs = std::filesystem;

double TargetResult::value(const std::string& metric, const std::string& group) const {
  for (const auto& e : evaluations)
    for (const auto& v : e.values)
      if (v.metric == metric && v.group == group) return v.value;
  fail("evaluation of {} has no metric '{}'{}", target.name, metric, group.empty() ? "" : " for group " + group);
}

bool TargetResult::has(const std::string& metric, const std::string& group) const {
  for (const auto& e : evaluations)
    for (const auto& v : e.values)
      if (v.metric == metric && v.group == group) return true;
  return false;
}

namespace {

datasets::FivePoints five_points(const std::array<float, 10>& xy) {
  datasets::FivePoints p;
  for (int k = 0; k < 5; ++k) p[k] = {xy[2 * k], xy[2 * k + 1]};
  return p;
}

cv::Mat read_image(const fs::path& path) {
  cv::Mat image = datasets::read_image(path);
  if (image.empty()) fail("cannot read image {}", path.string());
  return image;
}

// Loads image `path` and aligns it when `points` is given.
cv::Mat load_aligned(const fs::path& path, const datasets::FivePoints* points) {
  cv::Mat image = read_image(path);
  if (!points) return image;
  cv::Mat aligned;
  datasets::align_face(image, *points, aligned);
  return aligned;
}

// Cosine of each (first, second) row pair of `features`.
std::vector<float> pair_cosines(const at::Tensor& features, const std::vector<int64_t>& first,
                                const std::vector<int64_t>& second) {
  namespace F = torch::nn::functional;
  at::Tensor unit = F::normalize(features, F::NormalizeFuncOptions().dim(1));
  auto index = [](const std::vector<int64_t>& v) {
    return torch::from_blob(const_cast<int64_t*>(v.data()), {static_cast<int64_t>(v.size())}, torch::kLong);
  };
  at::Tensor cosine = (unit.index_select(0, index(first)) * unit.index_select(0, index(second))).sum(1).contiguous();
  return {cosine.data_ptr<float>(), cosine.data_ptr<float>() + cosine.numel()};
}

// eval.groups file: `<image> <group>` per line ('#' starts a comment line); returns the group index
// of every image (-1 = unlisted) and the group names in order of first appearance.
struct ImageGroups {
  std::vector<int> of_image;
  std::vector<std::string> names;
};
ImageGroups read_image_groups(const fs::path& file, const std::unordered_map<std::string, int64_t>& image_index) {
  ImageGroups g;
  g.of_image.assign(image_index.size(), -1);
  datasets::TextFile text(file);
  std::unordered_map<std::string, int> name_index;
  std::string_view line, fields[3];
  while (text.next(line)) {
    size_t n = datasets::split_fields(line, fields, 3);
    if (n == 0 || fields[0].starts_with('#')) continue;
    if (n != 2) fail("{}:{}: expected `<image> <group>`, found {} fields", text.name(), text.line(), n);
    auto it = image_index.find(std::string(fields[0]));
    if (it == image_index.end())
      fail("{}:{}: image {} is not one of the target's images", text.name(), text.line(), datasets::quoted(fields[0]));
    auto [entry, added] = name_index.try_emplace(std::string(fields[1]), static_cast<int>(g.names.size()));
    if (added) g.names.emplace_back(fields[1]);
    g.of_image[it->second] = entry->second;
  }
  if (g.names.size() < 2) fail("{}: eval.groups needs at least 2 groups, found {}", text.name(), g.names.size());
  return g;
}

double find_value(const MetricValues& values, const std::string& metric) {
  for (const auto& v : values)
    if (v.metric == metric && v.group.empty()) return v.value;
  return std::nan("");
}

struct Context {
  const Target& target;
  FeatureSource& source;
  const EvalOptions& options;
  VerificationConventions conventions;
  TargetResult result;

  nlohmann::json base_conventions(bool aligned) const {
    nlohmann::json j = source.conventions();
    j["aligned"] = aligned;
    j["target_format"] = to_string(target.protocol);
    return j;
  }
  void add(std::string protocol, nlohmann::json conventions, MetricValues values, const std::vector<std::string>& notes) {
    if (!notes.empty()) conventions["notes"] = notes;
    store::Evaluation e;
    e.checkpoint = source.provenance();
    e.target = target.name;
    e.protocol = std::move(protocol);
    e.conventions = conventions.dump();
    e.values = std::move(values);
    result.evaluations.push_back(std::move(e));
    for (const auto& note : notes) result.lines.push_back(fmt::format("  note: {}", note));
  }
};

// Verification over pairs of feature rows, in the list's fold order, plus the groups file when set.
void verify_pairs(Context& c, const at::Tensor& features, const std::vector<int64_t>& first,
                  const std::vector<int64_t>& second, const std::vector<bool>& genuine, const std::vector<int>& fold,
                  const std::function<std::unordered_map<std::string, int64_t>()>& image_index, bool aligned) {
  std::vector<float> raw = pair_cosines(features, first, second);
  std::vector<size_t> order = fold_order(fold, c.conventions.folds, c.target.path.string());
  std::vector<float> scores(raw.size());
  std::vector<bool> labels(raw.size());
  for (size_t i = 0; i < order.size(); ++i) {
    scores[i] = raw[order[i]];
    labels[i] = genuine[order[i]];
  }
  MetricValues values = verification_values(scores, labels, c.conventions);
  nlohmann::json conventions = c.base_conventions(aligned);
  conventions.update(to_json(c.conventions));
  std::vector<std::string> notes;
  if (std::string file = lookup_named(c.options.groups, c.target.name, "eval.groups"); !file.empty()) {
    ImageGroups g = read_image_groups(file, image_index());
    std::vector<int> pair_group(order.size());
    for (size_t i = 0; i < order.size(); ++i) {
      int a = g.of_image[first[order[i]]], b = g.of_image[second[order[i]]];
      pair_group[i] = a == b ? a : -1;
    }
    Spread spread = c.options.group_spread == "sample" ? Spread::sample : Spread::population;
    FairnessOptions fairness = fairness_options(c.options);
    GroupValues gv = group_values(scores, labels, pair_group, g.names, c.conventions, fairness, spread);
    values.insert(values.end(), gv.values.begin(), gv.values.end());
    notes = gv.notes;
    conventions["groups_file"] = fs::path(file).filename().string();
    conventions["fairness"] = to_json(fairness, spread);
  }
  c.result.lines.push_back(fmt::format("{:<12} {:<12} pairs {:<7} accuracy {:.2f}% ± {:.2f} ({})  EER {:.2f}%  AUC {:.4f}",
                                       c.target.name, "verification", scores.size(), 100 * values[0].value,
                                       100 * values[1].value, values[1].metric, 100 * find_value(values, "eer"),
                                       find_value(values, "auc")));
  c.add("verification", conventions, std::move(values), notes);
}

// --- Protocols ----------------------------------------------------------------------------------

void evaluate_bin(Context& c, const datasets::VerificationPack& pack, ImageSet& images) {
  const int64_t n = static_cast<int64_t>(pack.pairs());
  images = {2 * n, [&pack, &c](int64_t i) {
              const std::string& bytes = pack.images[i];
              cv::Mat bgr = datasets::decode_image(bytes);
              if (bgr.empty()) fail("{}: image {} cannot be decoded ({} bytes)", c.target.path.string(), i, bytes.size());
              return bgr;
            },
            c.target.path.string()};
  at::Tensor features = c.source.features(c.target.name, images);
  std::vector<int64_t> first(n), second(n);
  std::vector<int> fold(n);
  for (int64_t i = 0; i < n; ++i) {
    first[i] = 2 * i;
    second[i] = 2 * i + 1;
  }
  // eval.groups names a pack's images by their 0-based index.
  auto image_index = [n] {
    std::unordered_map<std::string, int64_t> index;
    for (int64_t i = 0; i < 2 * n; ++i) index.emplace(std::to_string(i), i);
    return index;
  };
  // A pack's pairs are in fold order already: fold f is the f-th contiguous KFold block.
  const int k = c.conventions.folds;
  for (int64_t f = 0, start = 0; f < k; ++f) {
    int64_t size = n / k + (f < n % k ? 1 : 0);
    for (int64_t i = start; i < start + size && i < n; ++i) fold[i] = static_cast<int>(f);
    start += size;
  }
  verify_pairs(c, features, first, second, pack.issame, fold, image_index, false);
}

// LFW pairs.txt folders and CALFW/CPLFW lists: image files, aligned with an eval.landmarks file.
void evaluate_pair_list(Context& c, const datasets::PairList& list, ImageSet& images,
                        std::shared_ptr<datasets::LandmarkTable>& table) {
  const bool align = c.options.align == "auto";
  std::string landmark_file = lookup_named(c.options.landmarks, c.target.name, "eval.landmarks");
  if (align && !landmark_file.empty()) {
    table = std::make_shared<datasets::LandmarkTable>(datasets::LandmarkTable::read(landmark_file));
    for (const auto& image : list.images)
      if (!table->find(image)) fail("{}: no landmarks for image {} of target {}", landmark_file, image, c.target.name);
  }
  const bool aligned = table || (align && !list.landmarks.empty());
  images = {static_cast<int64_t>(list.images.size()),
            [&list, &table, aligned](int64_t i) {
              const fs::path path = list.root / list.images[i];
              if (!aligned) return read_image(path);
              if (table) return load_aligned(path, table->find(list.images[i]));
              datasets::FivePoints points = five_points(list.landmarks[i]);
              return load_aligned(path, &points);
            },
            c.target.path.string()};
  at::Tensor features = c.source.features(c.target.name, images);
  const size_t n = list.pairs.size();
  std::vector<int64_t> first(n), second(n);
  std::vector<bool> genuine(n);
  std::vector<int> fold(n);
  for (size_t i = 0; i < n; ++i) {
    first[i] = list.pairs[i].first;
    second[i] = list.pairs[i].second;
    genuine[i] = list.pairs[i].genuine;
    fold[i] = list.pairs[i].fold;
  }
  if (list.layout == "rfw") {
    // RFW: 10 folds within each race, per-race accuracy and the fairness view.
    std::vector<std::string> races;
    std::vector<int> group(n);
    for (size_t i = 0; i < n; ++i) {
      auto it = std::find(races.begin(), races.end(), list.pairs[i].group);
      if (it == races.end()) it = races.insert(races.end(), list.pairs[i].group);
      group[i] = static_cast<int>(it - races.begin());
    }
    std::vector<float> scores = pair_cosines(features, first, second);
    Spread spread = c.options.group_spread == "sample" ? Spread::sample : Spread::population;
    FairnessOptions fairness = fairness_options(c.options);
    GroupValues gv = group_values(scores, genuine, group, races, c.conventions, fairness, spread);
    MetricValues values;
    double mean = find_value(gv.values, "mean_accuracy");
    if (std::isfinite(mean)) values.push_back({"accuracy", mean, ""});
    RocCurve roc = roc_curve(std::span<const float>(scores), genuine);
    values.push_back({"eer", equal_error_rate(roc).eer, ""});
    values.push_back({"auc", roc_auc(std::span<const float>(scores), genuine), ""});
    for (auto& v : roc_values(roc, {1e-1, 1e-2, 1e-3})) values.push_back(std::move(v));
    values.insert(values.end(), gv.values.begin(), gv.values.end());
    nlohmann::json conventions = c.base_conventions(aligned);
    conventions.update(to_json(c.conventions));
    conventions["fairness"] = to_json(fairness, spread);
    std::string per_race;
    for (const auto& race : races)
      for (const auto& v : gv.values)
        if (v.metric == "accuracy" && v.group == race) per_race += fmt::format("  {} {:.2f}%", race, 100 * v.value);
    c.result.lines.push_back(fmt::format("{:<12} {:<12} pairs {:<7} mean {:.2f}%  STD {:.2f}  SER {:.3f}{}  FDR {:.4f}",
                                         c.target.name, "rfw", n, 100 * mean, 100 * find_value(gv.values, "group_std"),
                                         find_value(gv.values, "ser"), per_race, find_value(gv.values, "fdr")));
    c.add("rfw", conventions, std::move(values), gv.notes);
    return;
  }
  auto image_index = [&list] {
    std::unordered_map<std::string, int64_t> index;
    for (size_t i = 0; i < list.images.size(); ++i) index.emplace(list.images[i], static_cast<int64_t>(i));
    return index;
  };
  verify_pairs(c, features, first, second, genuine, fold, image_index, aligned);
}

void evaluate_ijb(Context& c, ImageSet& images, std::shared_ptr<datasets::IjbMeta>& meta_holder) {
  meta_holder = std::make_shared<datasets::IjbMeta>(datasets::read_ijb_meta(c.target.path));
  const datasets::IjbMeta& meta = *meta_holder;
  const bool align = c.options.align == "auto";
  images = {static_cast<int64_t>(meta.images.size()),
            [&meta, align](int64_t i) {
              if (!align) return read_image(meta.image_path(i));
              datasets::FivePoints points = five_points(meta.images[i].landmarks);
              return load_aligned(meta.image_path(i), &points);
            },
            c.target.path.string()};
  at::Tensor features = c.source.features(c.target.name, images);
  TemplateOptions t{.normalize_images = c.options.ijb_normalize, .detector_weight = c.options.ijb_detector_weight};
  TemplateFeatures templates = aggregate_templates(features, meta.images, t);
  nlohmann::json conventions = c.base_conventions(align);
  conventions["N"] = t.normalize_images;
  conventions["D"] = t.detector_weight;
  const EmbedderOptions* embedder = c.source.embedder();
  if (embedder) conventions["F"] = embedder->flip != FlipFusion::none;
  conventions["template"] = "L2(sum over media of mean over the media's images)";

  std::vector<float> scores = score_pairs(templates, meta.pairs);
  std::vector<bool> genuine(meta.pairs.size());
  for (size_t i = 0; i < genuine.size(); ++i) genuine[i] = meta.pairs[i].genuine;
  RocCurve roc = roc_curve(std::span<const float>(scores), genuine);
  MetricValues values = roc_values(roc, {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1});
  values.push_back({"eer", equal_error_rate(roc).eer, ""});
  values.push_back({"auc", roc_auc(std::span<const float>(scores), genuine), ""});
  std::string tars;
  for (const auto& v : values)
    if (v.metric.starts_with("tar@far=")) tars += fmt::format("  {} {:.2f}%", v.metric.substr(4), 100 * v.value);
  c.result.lines.push_back(fmt::format("{:<12} {:<12} pairs {:<7} {}  AUC {:.4f}", c.target.name, "ijb 1:1",
                                       scores.size(), tars, find_value(values, "auc")));
  c.add("ijb_1to1", conventions, std::move(values), {});

  if (meta.galleries.empty()) return;
  IdentificationOptions id_options;
  id_options.threads = cores();
  std::vector<GalleryIdentification> galleries;
  for (const auto& gallery : meta.galleries) {
    at::Tensor matrix = score_matrix(templates, meta.probes->template_ids, gallery.template_ids).cpu().contiguous();
    galleries.push_back(evaluate_identification(
        std::span<const float>(matrix.data_ptr<float>(), static_cast<size_t>(matrix.numel())),
        meta.probes->subject_ids, gallery.subject_ids, id_options));
  }
  IdentificationSummary summary = average_identification(galleries);
  MetricValues id_values;
  std::vector<std::string> notes;
  auto put = [&](const std::string& metric, double value, const std::string& group) {
    if (std::isfinite(value)) id_values.push_back({metric, value, group});
    else notes.push_back(fmt::format("{}{} undefined", metric, group.empty() ? "" : " (" + group + ")"));
  };
  for (const auto& p : summary.open_set) put("tpir@fpir=" + far_label(p.target_fpir), p.tpir, "");
  for (const auto& p : summary.cmc) put(fmt::format("rank{}", p.rank), p.rate, "");
  for (size_t g = 0; g < galleries.size(); ++g) {
    const std::string& name = meta.galleries[g].name;
    for (const auto& p : galleries[g].open_set) {
      put("tpir@fpir=" + far_label(p.target_fpir), p.tpir, name);
      put("threshold@fpir=" + far_label(p.target_fpir), p.threshold, name);
    }
    for (const auto& p : galleries[g].cmc) put(fmt::format("rank{}", p.rank), p.rate, name);
  }
  if (!summary.undefined.empty()) notes.push_back(summary.undefined);
  nlohmann::json id_conventions = c.base_conventions(align);
  id_conventions["N"] = conventions["N"];
  id_conventions["D"] = conventions["D"];
  if (embedder) id_conventions["F"] = conventions["F"];
  id_conventions["open_set"] = "NIST: per gallery, threshold from non-mated probes at FPIR, mate at rank 1 above it";
  id_conventions["galleries"] = nlohmann::json::array();
  for (const auto& gallery : meta.galleries) id_conventions["galleries"].push_back(gallery.name);
  std::string line = fmt::format("{:<12} {:<12} probes {:<6}", c.target.name, "ijb 1:N", meta.probes->template_ids.size());
  for (const auto& v : id_values)
    if (v.group.empty()) line += fmt::format("  {} {:.2f}%", v.metric, 100 * v.value);
  c.result.lines.push_back(line);
  c.add("ijb_1toN", id_conventions, std::move(id_values), notes);
}

// FRUITS: wall time per image of load (decode + align) and embedding at batch 1.
void measure_latency(Context& c, const ImageSet& images) {
  backbones::Backbone* model = c.source.model();
  const EmbedderOptions* embedder = c.source.embedder();
  if (!model || !embedder) fail("eval.latency: FRUITS latency needs a model; precomputed features have none");
  EmbedderOptions one = *embedder;
  one.batch_size = 1;
  const int64_t timed = std::min<int64_t>(c.options.latency_images, images.count);
  const int64_t warmup = std::min<int64_t>(2, images.count);
  const int previous = torch::get_num_threads();
  MetricValues values;
  nlohmann::json conventions = c.base_conventions(c.options.align == "auto");
  std::string line = fmt::format("{:<12} {:<12} images {:<6}", c.target.name, "fruits", timed);
  for (int threads : {1, cores()}) {
    set_compute_threads(threads);
    std::vector<double> ms;
    for (int64_t i = 0; i < warmup + timed; ++i) {
      auto start = std::chrono::steady_clock::now();
      cv::Mat image = images.load(i % images.count);
      embed_images(*model, 1, [&](int64_t) { return image; }, one, images.source);
      double elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      if (i >= warmup) ms.push_back(elapsed);
    }
    std::sort(ms.begin(), ms.end());
    const double median = ms.size() % 2 ? ms[ms.size() / 2] : (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]) / 2;
    const double p90 = ms[std::min(ms.size() - 1, static_cast<size_t>(std::ceil(0.9 * ms.size())) - 1)];
    const std::string group = threads == 1 ? "1 thread" : "all threads";
    values.push_back({"latency_ms", median, group});
    values.push_back({"latency_p90_ms", p90, group});
    for (int budget : {100, 500, 1000}) values.push_back({fmt::format("meets_{}ms", budget), median <= budget ? 1.0 : 0.0, group});
    line += fmt::format("  {} ({}): {:.1f} ms", group, threads, median);
    if (cores() == 1) break;
  }
  set_compute_threads(previous);
  conventions["batch"] = 1;
  conventions["warmup_images"] = warmup;
  conventions["timed_images"] = timed;
  conventions["all_threads"] = cores();
  conventions["statistic"] = "median (and p90) per image of decode + align + embed, flip as configured";
  conventions["budget_rule"] = "median <= budget";
  c.result.lines.push_back(line);
  c.add("fruits", conventions, std::move(values), {});
}

}  // namespace

TargetResult evaluate_target(const Target& target, FeatureSource& source, const EvalOptions& options) {
  Context c{target, source, options, verification_conventions(options), {}};
  c.result.target = target;
  ImageSet images;
  // Owners of what the image loaders refer to, kept until latency has been measured.
  std::shared_ptr<datasets::PairList> list;
  std::shared_ptr<datasets::LandmarkTable> table;
  std::shared_ptr<datasets::IjbMeta> meta;
  std::shared_ptr<datasets::VerificationPack> pack;
  switch (target.protocol) {
    case Protocol::verification_bin: {
      pack = std::make_shared<datasets::VerificationPack>(datasets::read_verification_bin(target.path));
      evaluate_bin(c, *pack, images);
      break;
    }
    case Protocol::lfw:
      list = std::make_shared<datasets::PairList>(datasets::read_lfw_pairs(target.path));
      evaluate_pair_list(c, *list, images, table);
      break;
    case Protocol::calfw:
      list = std::make_shared<datasets::PairList>(datasets::read_calfw_pairs(target.path));
      evaluate_pair_list(c, *list, images, table);
      break;
    case Protocol::rfw:
      list = std::make_shared<datasets::PairList>(datasets::read_rfw(target.path, {.landmarks = options.align == "auto"}));
      evaluate_pair_list(c, *list, images, table);
      break;
    case Protocol::ijb:
      evaluate_ijb(c, images, meta);
      break;
  }
  if (options.latency) measure_latency(c, images);
  return std::move(c.result);
}

}  // namespace ff::eval
