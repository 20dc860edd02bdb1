// `faceforge data synth | pack | index | inspect | align`: dataset tools over the datasets/ library.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "datasets/alignment.h"
#include "datasets/data_options.h"
#include "datasets/inspect.h"
#include "datasets/recordio.h"
#include "datasets/recordio_source.h"
#include "datasets/synthetic.h"
#include "datasets/synthetic_protocols.h"
#include "src/cli/commands.h"
#include "src/util/error.h"
#include "src/util/progress.h"

namespace ff::cli {

namespace fs = std::filesystem;

int run_data_pack(const DataPackArgs& args) {
  auto source = datasets::open_source(datasets::source_at(args.source, args.format));
  std::printf("packing %s\n", source->describe().c_str());
  std::fflush(stdout);
  int64_t images = datasets::write_recordio_pack(*source, args.out, args.quality);
  std::printf("wrote %s/train.rec, train.idx, property: %lld images, %lld identities\n", args.out.c_str(),
              static_cast<long long>(images), static_cast<long long>(source->num_classes()));
  return 0;
}

int run_data_index(const DataIndexArgs& args) {
  fs::path rec = fs::is_directory(args.rec) ? fs::path(args.rec) / "train.rec" : fs::path(args.rec);
  using datasets::recordio::IndexKeys;
  IndexKeys keys = args.keys == "id" ? IndexKeys::record_id : args.keys == "sequence" ? IndexKeys::sequence
                                                                                       : IndexKeys::automatic;
  auto scanned = datasets::recordio::scan_index(rec, keys);
  fs::path idx = fs::path(rec).replace_extension(".idx");
  datasets::recordio::write_index(idx, scanned.entries);
  std::printf("wrote %s: %zu records (keys: %s), %lld stored in continuation parts\n", idx.c_str(),
              scanned.entries.size(), scanned.keys == IndexKeys::record_id ? "record ids" : "file order",
              static_cast<long long>(scanned.split_records));
  return 0;
}

int run_data_inspect(const DataInspectArgs& args) {
  auto source = datasets::open_source(datasets::source_at(args.path, args.format));
  ProgressLine progress;
  auto r = datasets::inspect_source(*source, args.decode, args.threads, [&](int64_t done, int64_t total) {
    if (!args.json) progress.update(fmt::format("decoding {}/{}", done, total));
  });
  progress.finish();
  if (args.json) {
    nlohmann::json j = {{"source", r.description},
                        {"images", r.images},
                        {"identities", r.identities},
                        {"label_min", r.min_label},
                        {"label_max", r.max_label},
                        {"images_per_identity", {{"min", r.images_per_identity_min},
                                                 {"median", r.images_per_identity_median},
                                                 {"max", r.images_per_identity_max}}}};
    if (r.decoded) {
      j["unreadable"] = r.unreadable;
      j["errors"] = r.errors;
    }
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("%s\nimages:              %lld\nidentities:          %lld\nimages per identity: min %lld, median %g, max %lld\n"
              "labels:              %lld..%lld\n",
              r.description.c_str(), static_cast<long long>(r.images), static_cast<long long>(r.identities),
              static_cast<long long>(r.images_per_identity_min), r.images_per_identity_median,
              static_cast<long long>(r.images_per_identity_max), static_cast<long long>(r.min_label),
              static_cast<long long>(r.max_label));
  if (r.decoded) {
    std::printf("unreadable:          %lld\n", static_cast<long long>(r.unreadable));
    for (const auto& e : r.errors) std::printf("  %s\n", e.c_str());
  } else {
    std::printf("unreadable:          not checked (--no-decode)\n");
  }
  return 0;
}

int run_data_align(const DataAlignArgs& args) {
  const datasets::AlignOptions& o = args.options;
  ProgressLine progress;
  auto r = datasets::align_files(o, [&](int64_t done, int64_t total) {
    if (done % 100 == 0 || done == total) progress.update(fmt::format("aligned {}/{}", done, total));
  });
  progress.finish();
  std::printf("aligned %lld images into %s (%lld skipped: score below %g)\n", static_cast<long long>(r.aligned),
              o.out.c_str(), static_cast<long long>(r.skipped_low_score), o.min_score);
  return 0;
}

namespace {

// The protocol trees see the dataset's options too: their identities are placed after the training
// and verification ones.
datasets::SyntheticOptions synthetic_options(const SynthArgs& args) {
  datasets::SyntheticOptions o;
  o.identities = args.identities;
  o.images_per_identity = args.images_per_identity;
  o.seed = args.seed;
  o.pair_identities = args.pair_identities;
  o.pairs = args.pairs;
  o.variation = args.variation;
  return o;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Progress at most every 100 images (the writers report from several threads' work at once).
datasets::SyntheticProgress progress_to(ProgressLine& line, const char* what) {
  return [&line, what, last = int64_t{-1000}](int64_t done, int64_t total) mutable {
    if (done - last < 100 && done != total) return;
    last = done;
    line.update(fmt::format("{}: {}/{} images", what, done, total));
  };
}

}  // namespace

int run_data_synth(const SynthArgs& args) {
  const datasets::SyntheticOptions o = synthetic_options(args);
  const fs::path out = args.out;
  // Refused before the training set is rendered, not minutes later.
  if (args.rfw) {
    datasets::validate_synthetic_rfw_options(o, args.rfw_options);
    datasets::check_synthetic_protocol_folder(out / "rfw");
  }
  if (args.ijb) {
    datasets::validate_synthetic_ijb_options(o, args.ijb_options);
    datasets::check_synthetic_protocol_folder(out / "ijb");
  }
  {
    auto start = std::chrono::steady_clock::now();
    int64_t images = datasets::write_synthetic_dataset(o, args.out);
    std::printf("wrote %lld training images of %d identities and %d held-out pairs (%d identities) to %s in %.1f s\n",
                static_cast<long long>(images), o.identities, o.pairs, o.pair_identities, args.out.c_str(),
                seconds_since(start));
  }
  if (args.rfw) {
    auto start = std::chrono::steady_clock::now();
    ProgressLine progress;
    auto r = datasets::write_synthetic_rfw(o, args.rfw_options, out / "rfw", progress_to(progress, "rfw"));
    progress.finish();
    std::printf("wrote %s: %lld loose images of %d held-out identities in 4 races, %lld pairs, in %.1f s\n",
                (out / "rfw").c_str(), static_cast<long long>(r.images), r.identities, static_cast<long long>(r.pairs),
                seconds_since(start));
  }
  if (args.ijb) {
    auto start = std::chrono::steady_clock::now();
    ProgressLine progress;
    auto r = datasets::write_synthetic_ijb(o, args.ijb_options, out / "ijb", progress_to(progress, "ijb"));
    progress.finish();
    std::printf("wrote %s: %lld loose crops, %d templates (%d media) of %d held-out subjects, %d genuine + %d "
                "impostor template pairs, in %.1f s\n",
                (out / "ijb").c_str(), static_cast<long long>(r.images), r.templates, r.media, r.subjects,
                r.genuine_pairs, r.impostor_pairs, seconds_since(start));
  }
  return 0;
}

}  // namespace ff::cli
