// Scans an identity-per-folder tree once; decodes with OpenCV on demand.
#include "datasets/image_folder.h"

#include <algorithm>

#include <fmt/format.h>

#include "datasets/image_codec.h"
#include "src/util/atomic_file.h"
#include "src/util/error.h"

namespace ff::datasets {

namespace fs = std::filesystem;

namespace {
bool is_image(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp";
}
}  // namespace

ImageFolderSource::ImageFolderSource(const fs::path& root) : root_(root) {
  if (root.empty()) fail("image folder path is empty: name a folder with one sub-folder per identity");
  if (!fs::is_directory(root)) fail("image folder not found: {}", root.string());
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(root))
    if (entry.is_directory()) dirs.push_back(entry.path());
  std::sort(dirs.begin(), dirs.end());
  if (dirs.empty()) fail("image folder {} has no identity sub-folders", root.string());
  for (const auto& dir : dirs) {
    std::vector<fs::path> images;
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.is_regular_file()) {
        if (is_image(entry.path()))
          images.push_back(entry.path());
        else
          ++ignored_files_;
      }
    if (images.empty()) fail("identity folder {} contains no images (.jpg, .jpeg, .png, .bmp)", dir.string());
    std::sort(images.begin(), images.end());
    auto label = static_cast<int64_t>(identities_.size());
    identities_.push_back(dir.filename().string());
    for (auto& p : images) {
      paths_.push_back(std::move(p));
      labels_.push_back(label);
    }
  }
}

void ImageFolderSource::load(int64_t index, cv::Mat& bgr) const {
  bgr = read_image(paths_.at(index));
  if (bgr.empty()) fail("cannot decode image {} (record {} of {})", paths_[index].string(), index, root_.string());
}

std::string ImageFolderSource::record_name(int64_t index) const {
  return paths_.at(static_cast<size_t>(index)).lexically_relative(root_).generic_string();
}

bool ImageFolderSource::read_encoded(int64_t index, std::string& bytes) const {
  bytes = read_file(paths_.at(static_cast<size_t>(index)));
  return true;
}

std::string ImageFolderSource::describe() const {
  return fmt::format("folder {}: {} identities, {} images{}", root_.string(), identities_.size(), paths_.size(),
                     ignored_files_ ? fmt::format(" ({} non-image files ignored)", ignored_files_) : "");
}

}  // namespace ff::datasets
