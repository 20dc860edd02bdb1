// Image-folder source: root/<identity>/<image>.{jpg,jpeg,png,bmp}; identities sorted by name get
// labels 0..N-1, images sorted by name within each identity.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "datasets/source.h"

namespace ff::datasets {

class ImageFolderSource : public Source {
 public:
  explicit ImageFolderSource(const std::filesystem::path& root);
  int64_t size() const override { return static_cast<int64_t>(paths_.size()); }
  int64_t num_classes() const override { return static_cast<int64_t>(identities_.size()); }
  int64_t label(int64_t index) const override { return labels_[index]; }
  void load(int64_t index, cv::Mat& bgr) const override;
  std::string describe() const override;
  const std::vector<std::string>& identities() const { return identities_; }

 private:
  std::filesystem::path root_;
  std::vector<std::string> identities_;
  std::vector<std::filesystem::path> paths_;
  std::vector<int64_t> labels_;
};

}  // namespace ff::datasets
