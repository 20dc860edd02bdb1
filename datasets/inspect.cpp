// Label statistics in one pass; decoding split over threads by interleaved record index.
#include "datasets/inspect.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <opencv2/core.hpp>

namespace ff::datasets {

InspectReport inspect_source(const Source& source, bool decode, int threads,
                             const std::function<void(int64_t, int64_t)>& progress) {
  InspectReport r;
  r.description = source.describe();
  r.images = source.size();
  std::map<int64_t, int64_t> per_label;
  for (int64_t i = 0; i < source.size(); ++i) ++per_label[source.label(i)];
  r.identities = static_cast<int64_t>(per_label.size());
  if (!per_label.empty()) {
    r.min_label = per_label.begin()->first;
    r.max_label = per_label.rbegin()->first;
    std::vector<int64_t> counts;
    for (const auto& [label, n] : per_label) counts.push_back(n);
    std::sort(counts.begin(), counts.end());
    r.images_per_identity_min = counts.front();
    r.images_per_identity_max = counts.back();
    size_t mid = counts.size() / 2;
    r.images_per_identity_median = counts.size() % 2 ? static_cast<double>(counts[mid])
                                                     : 0.5 * static_cast<double>(counts[mid - 1] + counts[mid]);
  }
  if (!decode) return r;
  r.decoded = true;
  std::atomic<int64_t> done{0}, unreadable{0};
  std::mutex mutex;
  constexpr size_t kKeptErrors = 10;
  auto work = [&](int t) {
    cv::Mat bgr;
    for (int64_t i = t; i < source.size(); i += threads) {
      try {
        source.load(i, bgr);
      } catch (const std::exception& e) {
        ++unreadable;
        std::lock_guard<std::mutex> lock(mutex);
        if (r.errors.size() < kKeptErrors) r.errors.push_back(e.what());
      }
      ++done;
    }
  };
  threads = std::max(1, threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(work, t);
  if (progress) {
    while (done.load() < source.size()) {
      progress(done.load(), source.size());
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  for (auto& t : pool) t.join();
  if (progress) progress(source.size(), source.size());
  r.unreadable = unreadable.load();
  std::sort(r.errors.begin(), r.errors.end());  // the threads' order is not reproducible
  return r;
}

}  // namespace ff::datasets
