// OpenCV imgcodecs behind one seam; in a build without imgcodecs each call fails with one line saying why.
#include "datasets/image_codec.h"

#include <cctype>
#include <string>

#include "src/util/error.h"

#ifdef FF_WITH_IMGCODECS
#include <opencv2/imgcodecs.hpp>
#endif

namespace ff::datasets {

#ifdef FF_WITH_IMGCODECS

bool have_image_codecs() { return true; }

cv::Mat decode_image(std::string_view bytes) {
  if (bytes.empty()) return {};
  cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
  return cv::imdecode(raw, cv::IMREAD_COLOR);
}

cv::Mat read_image(const std::filesystem::path& path) { return cv::imread(path.string(), cv::IMREAD_COLOR); }

bool encode_image(const std::string& extension, const cv::Mat& image, std::vector<uchar>& out, int jpeg_quality) {
  std::vector<int> params;
  if (extension == ".jpg" || extension == ".jpeg") params = {cv::IMWRITE_JPEG_QUALITY, jpeg_quality};
  try {
    return cv::imencode(extension.empty() ? std::string(".none") : extension, image, out, params);
  } catch (const cv::Exception&) {
    return false;  // no encoder for that extension
  }
}

bool write_image(const std::filesystem::path& path, const cv::Mat& image, int jpeg_quality) {
  std::string extension = path.extension().string();
  for (auto& c : extension) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<int> params;
  if (extension == ".jpg" || extension == ".jpeg") params = {cv::IMWRITE_JPEG_QUALITY, jpeg_quality};
  try {
    return cv::imwrite(path.string(), image, params);
  } catch (const cv::Exception&) {
    return false;
  }
}

#else

namespace {
[[noreturn]] void no_codecs(const char* what) {
  fail("cannot {}: this FaceForge build has no image codecs (configured with FF_WITH_IMGCODECS=OFF, e.g. the "
       "device bundle); only in-memory tensors and rendered images work",
       what);
}
}  // namespace

bool have_image_codecs() { return false; }
cv::Mat decode_image(std::string_view) { no_codecs("decode an image"); }
cv::Mat read_image(const std::filesystem::path& path) { no_codecs(("read image " + path.string()).c_str()); }
bool encode_image(const std::string&, const cv::Mat&, std::vector<uchar>&, int) { no_codecs("encode an image"); }
bool write_image(const std::filesystem::path& path, const cv::Mat&, int) {
  no_codecs(("write image " + path.string()).c_str());
}

#endif

}  // namespace ff::datasets
