// Loader threads: claim a batch index, build it without the lock, publish it in order.
#include "datasets/loader.h"

#include <algorithm>
#include <numeric>
#include <random>

#include <opencv2/core.hpp>
#include <torch/cuda.h>
#include <torch/types.h>

#include "datasets/transforms.h"
#include "src/util/error.h"
#include "src/util/splitmix.h"

namespace ff::datasets {

namespace {
// Decorrelates (seed, epoch, position) into independent streams.
uint64_t mix(uint64_t x) { return splitmix64(x); }
constexpr size_t kKeptMessages = 20;
}  // namespace

Batch Batch::to(const at::Device& device) const {
  if (device == images.device()) return *this;
  Batch out;
  out.images = images.to(device, /*non_blocking=*/true);
  out.labels = labels.to(device, /*non_blocking=*/true);
  out.origins = origins.to(device, /*non_blocking=*/true);
  out.index = index;
  return out;
}

Loader::Loader(const Source& source, int batch_size, const DataOptions& options, uint64_t seed, EpochOrder order,
               int rank)
    : source_(source),
      batch_size_(batch_size),
      options_(options),
      seed_(seed),
      rank_(rank),
      augmenter_(options.augment),
      pinned_(torch::cuda::is_available()) {
  if (batch_size < 1) fail("batch size must be >= 1, got {}", batch_size);
  if (source.size() < batch_size)
    fail("{} has {} images, fewer than one batch of {}", source.describe(), source.size(), batch_size);
  if (order) {
    order_of_epoch_ = std::move(order);
    batches_ = static_cast<int64_t>(order_of_epoch_(0).size()) / batch_size_;
  } else {
    order_of_epoch_ = [this](int64_t epoch) { return shuffled(epoch); };
    batches_ = source.size() / batch_size_;
  }
  if (batches_ < 1) fail("{}: an epoch holds no complete batch of {}", source.describe(), batch_size);
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { worker_loop(); });
}

Loader::~Loader() { stop_workers(); }

void Loader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_work_.notify_all();
  cv_ready_.notify_all();
  for (auto& t : workers_)
    if (t.joinable()) t.join();
  workers_.clear();
}

int64_t Loader::batches_per_epoch() const { return batches_; }

std::vector<std::string> Loader::bad_image_messages() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return bad_messages_;
}

std::vector<int64_t> Loader::shuffled(int64_t epoch) const {
  std::vector<int64_t> order(source_.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(mix(seed_ ^ mix(static_cast<uint64_t>(epoch) + 1)));
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

void Loader::start_epoch(int64_t epoch, int64_t first_batch) {
  std::vector<int64_t> order = order_of_epoch_(epoch);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    batches_ = static_cast<int64_t>(order.size()) / batch_size_;
    order_ = std::make_shared<const std::vector<int64_t>>(std::move(order));
    epoch_ = epoch;
    next_to_claim_ = first_batch;
    next_to_return_ = first_batch;
    ready_.clear();
    error_.clear();
    ++generation_;
  }
  cv_work_.notify_all();
}

Loader::Slot Loader::take_slot() {
  {
    // A slot is free once nothing handed out still refers to it: neither a copy of its tensors
    // (which share the TensorImpl) nor a view (which shares the storage).
    auto unused = [](const at::Tensor& t) { return t.use_count() == 1 && t.storage().use_count() == 1; };
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& slot : pool_) {
      if (unused(slot.images) && unused(slot.labels) && unused(slot.origins)) return slot;  // the copy makes it busy
    }
  }
  auto options = torch::TensorOptions().pinned_memory(pinned_);
  Slot slot{torch::empty({batch_size_, 3, kImageSize, kImageSize}, options.dtype(torch::kFloat)),
            torch::empty({batch_size_}, options.dtype(torch::kLong)),
            torch::empty({batch_size_}, options.dtype(torch::kLong))};
  std::lock_guard<std::mutex> lock(mutex_);
  // Enough slots for the prefetch window, the workers' batches in progress and the trainer's two.
  if (pool_.size() < static_cast<size_t>(options_.prefetch + options_.workers + 2)) pool_.push_back(slot);
  return slot;
}

void Loader::load_or_replace(const std::vector<int64_t>& order, int64_t position, int64_t epoch, cv::Mat& bgr,
                             int64_t& record) {
  record = order[static_cast<size_t>(position)];
  const int origin = source_.origin(record);
  for (uint64_t attempt = 0;; ++attempt) {
    try {
      source_.load(record, bgr);
      return;
    } catch (const std::exception& e) {
      int64_t bad = ++bad_images_;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (bad_messages_.size() < kKeptMessages) bad_messages_.push_back(e.what());
      }
      if (bad > options_.max_bad_images)
        fail("{} unreadable images, more than data.max_bad_images = {}; the last: {}", bad, options_.max_bad_images,
             e.what());
    }
    // The replacement: a record of the same source from this epoch's order, chosen reproducibly.
    const uint64_t draw = mix(seed_ ^ mix((static_cast<uint64_t>(epoch) << 40) ^ static_cast<uint64_t>(position)) ^
                              mix(attempt + 0x5bd1e995));
    const size_t start = static_cast<size_t>(draw % order.size());
    for (size_t j = 0; j < order.size(); ++j) {
      int64_t candidate = order[(start + j) % order.size()];
      if (candidate != record && source_.origin(candidate) == origin) {
        record = candidate;
        break;
      }
    }
  }
}

void Loader::fill(const std::vector<int64_t>& order, int64_t epoch, int64_t batch_index, Batch& batch) {
  Slot slot = take_slot();
  batch.index = batch_index;
  batch.images = slot.images;
  batch.labels = slot.labels;
  batch.origins = slot.origins;
  float* images = batch.images.data_ptr<float>();
  int64_t* labels = batch.labels.data_ptr<int64_t>();
  int64_t* origins = batch.origins.data_ptr<int64_t>();
  cv::Mat bgr;
  for (int i = 0; i < batch_size_; ++i) {
    int64_t position = batch_index * batch_size_ + i;
    int64_t record = 0;
    load_or_replace(order, position, epoch, bgr, record);
    const uint64_t sample_seed =
        mix(seed_ ^ mix((static_cast<uint64_t>(epoch) << 40) ^ static_cast<uint64_t>(position)) ^
            mix(static_cast<uint64_t>(rank_) + 1));
    bool flip = augmenter_.apply(bgr, sample_seed);
    bgr_to_input(bgr, images + static_cast<int64_t>(i) * 3 * kImageSize * kImageSize, flip);
    labels[i] = source_.label(record);
    origins[i] = source_.origin(record);
  }
}

void Loader::worker_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    cv_work_.wait(lock, [&] {
      return stopping_ || (order_ && error_.empty() && next_to_claim_ < batches_per_epoch() &&
                           next_to_claim_ < next_to_return_ + options_.prefetch);
    });
    if (stopping_) return;
    int64_t index = next_to_claim_++;
    uint64_t generation = generation_;
    auto order = order_;
    int64_t epoch = epoch_;
    lock.unlock();
    Batch batch;
    std::string error;
    try {
      fill(*order, epoch, index, batch);
    } catch (const std::exception& e) {
      error = e.what();
    }
    lock.lock();
    if (generation != generation_) continue;  // the epoch was restarted meanwhile
    if (!error.empty()) {
      if (error_.empty()) error_ = error;
    } else {
      ready_.emplace(index, std::move(batch));
    }
    cv_ready_.notify_all();
  }
}

std::optional<Batch> Loader::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!order_) fail("Loader::next() called before start_epoch()");
  if (next_to_return_ >= batches_per_epoch()) return std::nullopt;
  cv_ready_.wait(lock, [&] { return stopping_ || !error_.empty() || ready_.count(next_to_return_) > 0; });
  if (!error_.empty()) fail("data loading failed: {}", error_);
  if (stopping_) return std::nullopt;
  Batch batch = std::move(ready_.at(next_to_return_));
  ready_.erase(next_to_return_);
  ++next_to_return_;
  lock.unlock();
  cv_work_.notify_all();
  return batch;
}

}  // namespace ff::datasets
