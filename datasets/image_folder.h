// Image-folder source: root/<identity>/<image>.{jpg,jpeg,png,bmp}; identities sorted by name get
// labels 0..N-1, images sorted by name within each identity. Files with other extensions are
// ignored and counted; an image file that does not decode is reported when loaded.
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
  std::string record_name(int64_t index) const override;  // "<identity>/<file>"
  bool read_encoded(int64_t index, std::string& bytes) const override;
  const std::vector<std::string>& identities() const { return identities_; }
  int64_t ignored_files() const { return ignored_files_; }  // files without an image extension

 private:
  std::filesystem::path root_;
  std::vector<std::string> identities_;
  std::vector<std::filesystem::path> paths_;
  std::vector<int64_t> labels_;
  int64_t ignored_files_ = 0;
};

}  // namespace ff::datasets
