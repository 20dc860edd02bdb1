// Generates IJB-C-sized random features, times FaceForge's evaluation stages on them and runs the
// NumPy reference on the same arrays (written to a temp folder as raw little-endian files).
#include "src/bench/eval_bench.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/functional/normalization.h>
#include <torch/types.h>

#include "datasets/ijb_meta.h"
#include "src/bench/python_reference.h"
#include "src/eval/identification.h"
#include "src/eval/ijb.h"
#include "src/eval/verification.h"
#include "src/eval/verification_metrics.h"
#include "src/util/error.h"
#include "src/util/splitmix.h"
#include "src/util/threads.h"

namespace ff::bench {

namespace fs = std::filesystem;
namespace F = torch::nn::functional;

namespace {

using clock = std::chrono::steady_clock;
double seconds_since(clock::time_point start) { return std::chrono::duration<double>(clock::now() - start).count(); }

constexpr double kIjbFars[] = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1};

// Raw little-endian arrays for the reference (np.fromfile); shapes go into meta.json.
template <typename T>
void write_raw(const fs::path& path, const T* data, int64_t count) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(count * sizeof(T)));
  if (!out) fail("bench eval: cannot write {}", path.string());
}
void write_tensor(const fs::path& path, const at::Tensor& t) {
  at::Tensor c = t.contiguous();
  write_raw(path, c.data_ptr<float>(), c.numel());
}

// Counter-based draws so the data depend only on the seed.
struct Draw {
  uint64_t state;
  uint64_t next() { return splitmix64(state++); }
  int64_t below(int64_t n) { return static_cast<int64_t>(next() % static_cast<uint64_t>(n)); }
};

at::Tensor unit_rows(const at::Tensor& x) { return F::normalize(x, F::NormalizeFuncOptions().dim(1)); }

}  // namespace

nlohmann::json bench_eval(const EvalBenchOptions& o, const std::string& reference_python,
                          const std::string& reference_script) {
  if (!(o.image_noise >= 0) || o.templates < 8 || o.images < o.templates || o.pairs < 2 || o.genuine < 1 || o.genuine >= o.pairs ||
      o.gallery < 2 || o.probes < 2 || o.verification_pairs < 20 || o.verification_pairs % 20 != 0 || o.dim < 1 ||
      !(o.enrollment_share > 0 && o.enrollment_share < 0.5))
    fail("bench eval: need templates >= 8, images >= templates, 1 <= genuine < pairs, gallery and probes >= 2, "
         "verification pairs a positive multiple of 20, dim >= 1, 0 < enrollment share < 0.5");
  const int threads = o.threads > 0 ? o.threads : cores();
  set_compute_threads(threads);
  torch::NoGradGuard no_grad;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(o.seed);
  auto randn = [&](int64_t rows) { return at::randn({rows, o.dim}, generator, at::TensorOptions()); };
  Draw draw{splitmix64(o.seed ^ 0xe7a1bec4ULL)};

  // IJB-like data: subject of template t = t mod S with S = T / 4 (four templates per subject);
  // image i belongs to template i mod T and to one of its three media; image = subject centre +
  // image_noise x N(0, 1) per element.
  const int64_t T = o.templates, S = std::max<int64_t>(2, T / 4), E = std::max<int64_t>(1, int64_t(o.enrollment_share * T));
  std::vector<datasets::IjbImage> images(static_cast<size_t>(o.images));
  std::vector<int64_t> image_template(images.size()), image_media(images.size());
  std::vector<float> image_score(images.size());
  std::vector<int64_t> image_subject(images.size());
  for (int64_t i = 0; i < o.images; ++i) {
    auto& im = images[static_cast<size_t>(i)];
    im.template_id = image_template[i] = i % T;
    im.media_id = image_media[i] = (i / T) % 3;
    im.detector_score = image_score[i] = 0.5f + 0.5f * static_cast<float>(draw.below(1000)) / 1000.0f;
    image_subject[i] = (i % T) % S;
  }
  at::Tensor centres = randn(S);
  at::Tensor image_features =
      centres.index_select(0, at::from_blob(image_subject.data(), {o.images}, at::kLong)) + randn(o.images) * o.image_noise;
  // 1:1 pairs: enrollment template t1 < E to verification template t2 >= E; genuine pairs share the subject.
  std::vector<datasets::IjbPair> pairs(static_cast<size_t>(o.pairs));
  for (int64_t p = 0; p < o.pairs; ++p) {
    auto& pr = pairs[static_cast<size_t>(p)];
    pr.t1 = draw.below(E);
    pr.genuine = p < o.genuine;
    if (pr.genuine) {
      const int64_t others = (T - 1 - pr.t1 % S) / S;  // templates of the subject after t1's
      pr.t2 = pr.t1 % S + S * (1 + draw.below(std::max<int64_t>(1, others)));
      if (pr.t2 < E || pr.t2 >= T) pr.t2 = pr.t1;  // rare at small sizes: a template against itself
    } else {
      do pr.t2 = E + draw.below(T - E);
      while (pr.t2 % S == pr.t1 % S);
    }
  }
  // 1:N: gallery g holds subject g; a probe's subject is drawn from twice as many, so about half
  // the probes are non-mated; a mated probe is noise plus its gallery feature at 0.3 of the noise's
  // length (cosine ~0.3 to its mate, against ~1/sqrt(dim) to the others).
  at::Tensor gallery = unit_rows(randn(o.gallery));
  std::vector<int64_t> gallery_subject(static_cast<size_t>(o.gallery)), probe_subject(static_cast<size_t>(o.probes));
  for (int64_t g = 0; g < o.gallery; ++g) gallery_subject[g] = g;
  at::Tensor probes = randn(o.probes) * 0.8;
  for (int64_t p = 0; p < o.probes; ++p) {
    probe_subject[p] = draw.below(2 * o.gallery);
    if (probe_subject[p] < o.gallery) probes[p].add_(gallery[probe_subject[p]] * (0.3 * 0.8 * std::sqrt(double(o.dim))));
  }
  // A verification pack's features: pair i = rows 2i, 2i+1; each fold of V/10 pairs half genuine.
  const int64_t V = o.verification_pairs, fold = V / 10;
  at::Tensor verification = randn(2 * V);
  std::vector<int64_t> verification_label(static_cast<size_t>(V));
  for (int64_t i = 0; i < V; ++i) {
    verification_label[i] = (i % fold) < fold / 2;
    if (verification_label[i]) verification[2 * i + 1].copy_(verification[2 * i] + verification[2 * i + 1] * 0.9);
  }

  const fs::path dir = o.data_dir.empty() ? fs::temp_directory_path() / fmt::format("ff_bench_eval_{}", ::getpid())
                                          : fs::path(o.data_dir);
  fs::create_directories(dir);
  const bool remove_dir = o.data_dir.empty();

  nlohmann::json result = {{"threads", threads}, {"images", o.images}, {"templates", T}, {"pairs", o.pairs},
                           {"genuine", o.genuine}, {"gallery", o.gallery}, {"probes", o.probes},
                           {"verification_pairs", V}, {"dim", o.dim}};
  nlohmann::json times, metrics;
  // --- IJB 1:1: templates, pair scores, TAR@FAR.
  auto start = clock::now();
  eval::TemplateFeatures templates = eval::aggregate_templates(image_features, images);
  times["ijb_templates"] = seconds_since(start);
  start = clock::now();
  std::vector<float> scores = eval::score_pairs(templates, pairs);
  times["ijb_pair_scores"] = seconds_since(start);
  start = clock::now();
  std::vector<bool> genuine(pairs.size());
  for (size_t p = 0; p < pairs.size(); ++p) genuine[p] = pairs[p].genuine;
  eval::RocCurve roc = eval::roc_curve(std::span<const float>(scores), genuine);
  for (double far : kIjbFars) metrics[fmt::format("tar@far={:g}", far)] = eval::tar_at_far(roc, far).tar;
  times["ijb_tar_at_far"] = seconds_since(start);
  // --- IJB 1:N: probe x gallery matrix, open-set and CMC.
  start = clock::now();
  eval::TemplateFeatures search;
  search.features = at::cat({gallery, unit_rows(probes)});
  search.template_ids.resize(static_cast<size_t>(o.gallery + o.probes));
  for (size_t t = 0; t < search.template_ids.size(); ++t) search.template_ids[t] = static_cast<int64_t>(t);
  std::vector<int64_t> gallery_ids(search.template_ids.begin(), search.template_ids.begin() + o.gallery);
  std::vector<int64_t> probe_ids(search.template_ids.begin() + o.gallery, search.template_ids.end());
  at::Tensor matrix = eval::score_matrix(search, probe_ids, gallery_ids);
  eval::GalleryIdentification found = eval::evaluate_identification(
      std::span<const float>(matrix.data_ptr<float>(), static_cast<size_t>(matrix.numel())), probe_subject,
      gallery_subject, {.threads = threads});
  times["ijb_1n"] = seconds_since(start);
  for (const auto& p : found.open_set) metrics[fmt::format("tpir@fpir={:g}", p.target_fpir)] = p.tpir;
  for (const auto& c : found.cmc) metrics[fmt::format("rank{}", c.rank)] = c.rate;
  // --- A verification pack from features: cosines, 10-fold, ROC, EER, AUC.
  start = clock::now();
  at::Tensor unit = unit_rows(verification).view({V, 2, o.dim});
  at::Tensor cosine = (unit.select(1, 0) * unit.select(1, 1)).sum(1).contiguous();
  std::vector<float> pair_scores(cosine.data_ptr<float>(), cosine.data_ptr<float>() + V);
  std::vector<bool> same(verification_label.begin(), verification_label.end());
  eval::MetricValues values = eval::verification_values(pair_scores, same, {});
  times["verification"] = seconds_since(start);
  metrics["verification_accuracy"] = values.at(0).value;  // "accuracy", the 10-fold mean
  times["ijb_1to1_from_templates"] = times["ijb_pair_scores"].get<double>() + times["ijb_tar_at_far"].get<double>();
  result["seconds"] = times;
  result["metrics"] = metrics;

  if (!reference_python.empty()) {
    write_tensor(dir / "image_features.f32", image_features);
    write_raw(dir / "image_template.i64", image_template.data(), o.images);
    write_raw(dir / "image_media.i64", image_media.data(), o.images);
    std::vector<int64_t> flat(static_cast<size_t>(3 * o.pairs));
    for (int64_t p = 0; p < o.pairs; ++p) {
      flat[3 * p] = pairs[p].t1;
      flat[3 * p + 1] = pairs[p].t2;
      flat[3 * p + 2] = pairs[p].genuine;
    }
    write_raw(dir / "pairs.i64", flat.data(), 3 * o.pairs);
    write_tensor(dir / "gallery.f32", gallery);
    write_tensor(dir / "probes.f32", unit_rows(probes));
    write_raw(dir / "gallery_subject.i64", gallery_subject.data(), o.gallery);
    write_raw(dir / "probe_subject.i64", probe_subject.data(), o.probes);
    write_tensor(dir / "verification.f32", verification);
    write_raw(dir / "verification_label.i64", verification_label.data(), V);
    std::ofstream(dir / "meta.json") << result.dump() << "\n";
    nlohmann::json reference;
    try {
      reference = run_python_reference(reference_python, reference_script, {dir.string()});
    } catch (...) {
      if (remove_dir) fs::remove_all(dir);
      throw;
    }
    result["reference"] = reference;
    nlohmann::json ratio;
    for (const auto& [stage, seconds] : times.items())
      if (reference.contains("seconds") && reference["seconds"].contains(stage))
        ratio[stage] = reference["seconds"][stage].get<double>() / std::max(1e-9, seconds.get<double>());
    result["speedup_over_reference"] = ratio;
  }
  if (remove_dir) fs::remove_all(dir);
  return result;
}

}  // namespace ff::bench
