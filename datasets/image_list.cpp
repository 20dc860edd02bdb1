// Parses a `path label` list once (line-numbered errors); decodes with OpenCV on demand.
#include "datasets/image_list.h"

#include <charconv>
#include <fstream>

#include <fmt/format.h>

#include "datasets/image_codec.h"
#include "src/util/atomic_file.h"
#include "src/util/error.h"

namespace ff::datasets {

namespace fs = std::filesystem;

ImageListSource::ImageListSource(const fs::path& list_file, const fs::path& root)
    : list_(list_file), root_(root.empty() ? list_file.parent_path() : root) {
  if (!fs::is_regular_file(list_file)) fail("list file not found: {}", list_file.string());
  if (!fs::is_directory(root_)) fail("{}: image root folder not found: {}", list_file.string(), root_.string());
  std::ifstream in(list_file);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;  // blank line or comment
    size_t end = line.find_last_not_of(" \t");
    size_t gap = line.find_last_of(" \t", end);
    if (gap == std::string::npos || gap < first)
      fail("{}:{}: expected `relative/path label`, got '{}'", list_file.string(), number, line);
    std::string path = line.substr(first, line.find_last_not_of(" \t", gap) - first + 1);
    std::string label_text = line.substr(gap + 1, end - gap);
    int64_t label = -1;
    auto [ptr, ec] = std::from_chars(label_text.data(), label_text.data() + label_text.size(), label);
    if (ec != std::errc() || ptr != label_text.data() + label_text.size())
      fail("{}:{}: label '{}' is not an integer (expected `relative/path label`)", list_file.string(), number,
           label_text);
    if (label < 0) fail("{}:{}: label out of range: {} (labels are 0, 1, 2, ...)", list_file.string(), number, label);
    paths_.push_back(std::move(path));
    labels_.push_back(label);
    lines_.push_back(number);
    num_classes_ = std::max(num_classes_, label + 1);
  }
  if (paths_.empty()) fail("list file {} lists no images", list_file.string());
}

void ImageListSource::load(int64_t index, cv::Mat& bgr) const {
  fs::path path = root_ / paths_.at(static_cast<size_t>(index));
  bgr = read_image(path);
  if (bgr.empty())
    fail("cannot decode image {} (listed at {}:{})", path.string(), list_.string(), lines_[static_cast<size_t>(index)]);
}

bool ImageListSource::read_encoded(int64_t index, std::string& bytes) const {
  bytes = read_file(root_ / paths_.at(static_cast<size_t>(index)));
  return true;
}

std::string ImageListSource::describe() const {
  return fmt::format("list {}: {} classes, {} images", list_.string(), num_classes_, paths_.size());
}

}  // namespace ff::datasets
