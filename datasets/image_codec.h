// Image decoding and encoding: the one place that calls OpenCV's imgcodecs. A build configured
// with FF_WITH_IMGCODECS=OFF (the GPU machine's bundle, scripts/device/, which carries OpenCV's
// core and imgproc but not imgcodecs and its hundred codec libraries) links without it: these then
// fail with one line saying so, and everything that works on tensors (benchmarks, training on
// rendered images in memory) still runs.
#pragma once
#include <filesystem>
#include <string_view>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace ff::datasets {

// False in a build without imgcodecs.
bool have_image_codecs();

// Encoded bytes (JPEG, PNG, ... whatever OpenCV reads) to 3-channel BGR; empty when unreadable.
cv::Mat decode_image(std::string_view bytes);
// A file to 3-channel BGR; empty when missing or unreadable.
cv::Mat read_image(const std::filesystem::path& path);
// Encodes by extension (".jpg", ".png", ...; `jpeg_quality` applies to JPEG); false when OpenCV
// cannot encode to that extension.
bool encode_image(const std::string& extension, const cv::Mat& image, std::vector<uchar>& out, int jpeg_quality = 95);
// Writes by the path's extension; false on failure.
bool write_image(const std::filesystem::path& path, const cv::Mat& image, int jpeg_quality = 95);

}  // namespace ff::datasets
