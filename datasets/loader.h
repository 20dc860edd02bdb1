// Batches for training: worker threads decode and augment into preallocated (pinned, when CUDA is
// present) tensors, a bounded prefetch window, an epoch order from a sampler (or a shuffle derived
// from (seed, epoch)), drop_last. Batches come out in a deterministic order whatever the thread
// timing; an unreadable image is replaced by another of its source, counted, and reported.
#pragma once
#include <atomic>
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

#include "datasets/augment.h"
#include "datasets/data_options.h"
#include "datasets/source.h"

namespace ff::datasets {

struct Batch {
  at::Tensor images;   // [B, 3, 112, 112] float32
  at::Tensor labels;   // [B] int64
  at::Tensor origins;  // [B] int64: the source (Source::origin) of each image
  int64_t index = 0;   // batch index within the epoch
  // The batch on `device`; from pinned memory the copies are asynchronous (non_blocking).
  Batch to(const at::Device& device) const;
};

// The sample order of one epoch (e.g. the mixer's or the PK sampler's); a tail shorter than a batch
// is dropped.
using EpochOrder = std::function<std::vector<int64_t>(int64_t epoch)>;

class Loader {
 public:
  // Without `order`, each epoch is a shuffle of all samples derived from (seed, epoch). `rank`
  // enters the augmentation seed, so ranks augment differently and each reproducibly.
  Loader(const Source& source, int batch_size, const DataOptions& options, uint64_t seed, EpochOrder order = {},
         int rank = 0);
  ~Loader();  // stops and joins the workers, also mid-epoch
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  int64_t batches_per_epoch() const;  // of the current epoch (before the first: of epoch 0)
  // Starts epoch `epoch` at batch `first_batch` (discarding any unfinished epoch).
  void start_epoch(int64_t epoch, int64_t first_batch = 0);
  // The next batch of the current epoch, or nullopt at its end. Rethrows a worker's error.
  std::optional<Batch> next();

  // Unreadable images met so far (each replaced by another image of the same source), and the
  // first few messages naming source and record.
  int64_t bad_images() const { return bad_images_.load(); }
  std::vector<std::string> bad_image_messages() const;

 private:
  struct Slot {
    at::Tensor images, labels, origins;
  };
  std::vector<int64_t> shuffled(int64_t epoch) const;
  void worker_loop();
  void stop_workers();
  Slot take_slot();  // a preallocated slot no batch still uses (a new one if all are in use)
  void fill(const std::vector<int64_t>& order, int64_t epoch, int64_t batch_index, Batch& batch);
  void load_or_replace(const std::vector<int64_t>& order, int64_t position, int64_t epoch, cv::Mat& bgr,
                       int64_t& record);

  const Source& source_;
  int batch_size_;
  DataOptions options_;
  uint64_t seed_;
  int rank_;
  Augmenter augmenter_;
  bool pinned_;
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
  std::vector<Slot> pool_;

  std::atomic<int64_t> bad_images_{0};
  std::vector<std::string> bad_messages_;  // guarded by mutex_

  mutable std::mutex mutex_;
  std::condition_variable cv_work_;
  std::condition_variable cv_ready_;
  std::vector<std::thread> workers_;
};

}  // namespace ff::datasets
