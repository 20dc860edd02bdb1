// A Source decorator that aligns each decoded image with its landmarks before augmentation.
#include "datasets/aligned_source.h"

#include <fmt/format.h>
#include <opencv2/core.hpp>

#include "datasets/alignment.h"
#include "src/util/error.h"

namespace ff::datasets {

namespace {

class AlignedSource : public Source {
 public:
  AlignedSource(std::unique_ptr<Source> inner, const std::filesystem::path& file, const std::string& format)
      : inner_(std::move(inner)), file_(file.string()) {
    LandmarkTable table = LandmarkTable::read(file, format);
    points_.reserve(static_cast<size_t>(inner_->size()));
    for (int64_t i = 0; i < inner_->size(); ++i) {
      const FivePoints* p = table.find(inner_->record_name(i));
      if (!p) fail("{} has no landmarks for {} ({})", file_, inner_->record_name(i), inner_->describe());
      points_.push_back(*p);
    }
  }
  int64_t size() const override { return inner_->size(); }
  int64_t num_classes() const override { return inner_->num_classes(); }
  int64_t label(int64_t index) const override { return inner_->label(index); }
  void load(int64_t index, cv::Mat& bgr) const override {
    cv::Mat raw;
    inner_->load(index, raw);
    try {
      align_face(raw, points_[static_cast<size_t>(index)], bgr);
    } catch (const Error& e) {
      fail("{} (landmarks from {}): {}", inner_->record_name(index), file_, e.what());
    }
  }
  std::string describe() const override { return inner_->describe() + ", aligned with " + file_; }
  std::string record_name(int64_t index) const override { return inner_->record_name(index); }
  // The stored bytes are the unaligned image: callers that want pixels must decode through load().
  bool read_encoded(int64_t, std::string&) const override { return false; }

 private:
  std::unique_ptr<Source> inner_;
  std::string file_;
  std::vector<FivePoints> points_;
};

}  // namespace

std::unique_ptr<Source> make_aligned_source(std::unique_ptr<Source> source, const std::filesystem::path& landmarks_file,
                                            const std::string& format) {
  return std::make_unique<AlignedSource>(std::move(source), landmarks_file, format);
}

}  // namespace ff::datasets
