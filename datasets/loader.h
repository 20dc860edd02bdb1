// Batches for training: worker threads decode and augment into preallocated tensors, a bounded
// prefetch window, a shuffle per epoch derived from (seed, epoch), drop_last. Batches come out in
// a deterministic order whatever the thread timing.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <ATen/core/Tensor.h>

#include "datasets/data_options.h"
#include "datasets/source.h"

namespace ff::datasets {

struct Batch {
  at::Tensor images;  // [B, 3, 112, 112] float32
  at::Tensor labels;  // [B] int64
  int64_t index = 0;  // batch index within the epoch
};

// The sample order of one epoch (e.g. the PK sampler's); a tail shorter than a batch is dropped.
using EpochOrder = std::function<std::vector<int64_t>(int64_t epoch)>;

class Loader {
 public:
  // Without `order`, each epoch is a shuffle of all samples derived from (seed, epoch).
  Loader(const Source& source, int batch_size, const DataOptions& options, uint64_t seed, EpochOrder order = {});
  ~Loader();  // stops and joins the workers, also mid-epoch
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  int64_t batches_per_epoch() const;  // of the current epoch (before the first: of epoch 0)
  // Starts epoch `epoch` at batch `first_batch` (discarding any unfinished epoch).
  void start_epoch(int64_t epoch, int64_t first_batch = 0);
  // The next batch of the current epoch, or nullopt at its end. Rethrows a worker's error.
  std::optional<Batch> next();

 private:
  std::vector<int64_t> shuffled(int64_t epoch) const;
  void worker_loop();
  void stop_workers();
  void fill(const std::vector<int64_t>& order, int64_t epoch, int64_t batch_index, Batch& batch);

  const Source& source_;
  int batch_size_;
  DataOptions options_;
  uint64_t seed_;
  EpochOrder order_of_epoch_;
  int64_t batches_ = 0;  // in the current order

  // This epoch's permutation; shared so a worker finishing a stale batch never reads a freed one.
  std::shared_ptr<const std::vector<int64_t>> order_;
  int64_t epoch_ = 0;
  int64_t next_to_claim_ = 0;   // next batch a worker will build
  int64_t next_to_return_ = 0;  // next batch next() hands out
  std::map<int64_t, Batch> ready_;
  std::string error_;
  bool stopping_ = false;
  uint64_t generation_ = 0;  // bumps on start_epoch so stale work is dropped

  std::mutex mutex_;
  std::condition_variable cv_work_;
  std::condition_variable cv_ready_;
  std::vector<std::thread> workers_;
};

}  // namespace ff::datasets
