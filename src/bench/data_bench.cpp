// Times the Loader end to end: batches handed out per second once the prefetch window is full.
#include "src/bench/data_bench.h"

#include <chrono>

#include <torch/utils.h>

#include "datasets/data_options.h"
#include "datasets/loader.h"
#include "datasets/source.h"
#include "src/bench/python_reference.h"
#include "src/util/error.h"
#include "src/util/threads.h"

namespace ff::bench {

DataBenchResult bench_data(const DataBenchOptions& o) {
  if (o.images < o.batch) fail("bench data: --images {} is less than one batch of {}", o.images, o.batch);
  set_compute_threads(1);  // the workers decode; nothing else should compete for the cores
  auto source = datasets::open_source(datasets::source_at(o.source, o.format));
  datasets::DataOptions data;
  data.workers = o.threads;
  data.prefetch = 2 * o.threads + 2;
  data.augment = o.augment;
  data.max_bad_images = 0;
  datasets::Loader loader(*source, o.batch, data, o.seed);
  using clock = std::chrono::steady_clock;
  int64_t epoch = 0, warmup = o.warmup_batches, timed = 0;
  clock::time_point start = clock::now();
  loader.start_epoch(epoch);
  while (timed < o.images) {
    auto batch = loader.next();
    if (!batch) {
      loader.start_epoch(++epoch);
      continue;
    }
    if (warmup > 0) {
      if (--warmup == 0) start = clock::now();
      continue;
    }
    timed += batch->images.size(0);
  }
  DataBenchResult r;
  r.seconds = std::chrono::duration<double>(clock::now() - start).count();
  r.images = timed;
  r.images_per_second = static_cast<double>(timed) / r.seconds;
  r.source = source->describe();
  return r;
}

nlohmann::json run_data_reference(const std::string& python, const std::string& script, const DataBenchOptions& o) {
  return run_python_reference(python, script,
                              {"--rec", o.source, "--workers", std::to_string(o.threads), "--batch-size",
                               std::to_string(o.batch), "--images", std::to_string(o.images), "--warmup-batches",
                               std::to_string(o.warmup_batches), "--seed", std::to_string(o.seed)});
}

}  // namespace ff::bench
