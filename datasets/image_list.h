// List-file source: a text file of `relative/path label` lines (paths relative to a root folder).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "datasets/source.h"

namespace ff::datasets {

class ImageListSource : public Source {
 public:
  // `root` empty: the paths are relative to the list file's folder. Errors name the file and line.
  ImageListSource(const std::filesystem::path& list_file, const std::filesystem::path& root);
  int64_t size() const override { return static_cast<int64_t>(paths_.size()); }
  int64_t num_classes() const override { return num_classes_; }
  int64_t label(int64_t index) const override { return labels_[index]; }
  void load(int64_t index, cv::Mat& bgr) const override;
  std::string describe() const override;
  std::string record_name(int64_t index) const override { return paths_[index]; }
  bool read_encoded(int64_t index, std::string& bytes) const override;

 private:
  std::filesystem::path list_, root_;
  std::vector<std::string> paths_;  // as written in the list
  std::vector<int64_t> labels_;
  std::vector<int> lines_;  // where each entry was listed, for errors
  int64_t num_classes_ = 0;
};

}  // namespace ff::datasets
