// The embedded generator as a Source: renders image k of identity i on demand (no disk).
#include <fmt/format.h>
#include <opencv2/core.hpp>

#include "datasets/synthetic_source.h"

namespace ff::datasets {

namespace {
class SyntheticSource : public Source {
 public:
  explicit SyntheticSource(const SyntheticOptions& options) : options_(options) {}
  int64_t size() const override { return int64_t{options_.identities} * options_.images_per_identity; }
  int64_t num_classes() const override { return options_.identities; }
  int64_t label(int64_t index) const override { return index / options_.images_per_identity; }
  void load(int64_t index, cv::Mat& bgr) const override {
    render_synthetic(options_, static_cast<int>(index / options_.images_per_identity),
                     static_cast<int>(index % options_.images_per_identity), bgr);
  }
  std::string describe() const override {
    return fmt::format("synthetic (seed {}): {} identities x {} images", options_.seed, options_.identities,
                       options_.images_per_identity);
  }

 private:
  SyntheticOptions options_;
};
}  // namespace

std::unique_ptr<Source> make_synthetic_source(const SyntheticOptions& options) {
  return std::make_unique<SyntheticSource>(options);
}

}  // namespace ff::datasets
