// BGR uint8 -> normalised RGB float planes, with the optional horizontal flip folded into the copy.
#include "datasets/transforms.h"

#include <opencv2/imgproc.hpp>

#include "src/util/error.h"

namespace ff::datasets {

void bgr_to_input(const cv::Mat& image, float* chw, bool flip) {
  cv::Mat bgr = image;
  if (bgr.type() != CV_8UC3) fail("expected an 8-bit 3-channel image, got OpenCV type {}", bgr.type());
  if (bgr.rows != kImageSize || bgr.cols != kImageSize) {
    cv::resize(image, bgr, cv::Size(kImageSize, kImageSize), 0, 0, cv::INTER_LINEAR);
  }
  const int plane = kImageSize * kImageSize;
  constexpr float kScale = 1.0f / 127.5f;
  for (int y = 0; y < kImageSize; ++y) {
    const uint8_t* row = bgr.ptr<uint8_t>(y);
    for (int x = 0; x < kImageSize; ++x) {
      const uint8_t* px = row + 3 * (flip ? kImageSize - 1 - x : x);
      int o = y * kImageSize + x;
      chw[o] = px[2] * kScale - 1.0f;              // R
      chw[plane + o] = px[1] * kScale - 1.0f;      // G
      chw[2 * plane + o] = px[0] * kScale - 1.0f;  // B
    }
  }
}

}  // namespace ff::datasets
