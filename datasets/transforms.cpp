// BGR uint8 -> normalised float planes (RGB or BGR order), with the optional horizontal flip folded into the copy.
#include "datasets/transforms.h"

#include <opencv2/imgproc.hpp>

#include "src/util/error.h"

namespace ff::datasets {

void bgr_to_input(const cv::Mat& image, float* chw, bool flip, const InputNormalization& norm) {
  cv::Mat bgr = image;
  if (bgr.type() != CV_8UC3) fail("expected an 8-bit 3-channel image, got OpenCV type {}", bgr.type());
  if (bgr.rows != kImageSize || bgr.cols != kImageSize) {
    cv::resize(image, bgr, cv::Size(kImageSize, kImageSize), 0, 0, cv::INTER_LINEAR);
  }
  const int plane = kImageSize * kImageSize;
  if (!(norm.std > 0)) fail("input normalisation std must be > 0, got {}", norm.std);
  const float scale = 1.0f / (255.0f * norm.std), shift = norm.mean / norm.std;
  // Plane offsets of the stored B, G, R bytes.
  const int to_b = norm.bgr ? 0 : 2 * plane, to_g = plane, to_r = norm.bgr ? 2 * plane : 0;
  for (int y = 0; y < kImageSize; ++y) {
    const uint8_t* row = bgr.ptr<uint8_t>(y);
    for (int x = 0; x < kImageSize; ++x) {
      const uint8_t* px = row + 3 * (flip ? kImageSize - 1 - x : x);
      int o = y * kImageSize + x;
      chw[to_r + o] = px[2] * scale - shift;
      chw[to_g + o] = px[1] * scale - shift;
      chw[to_b + o] = px[0] * scale - shift;
    }
  }
}

}  // namespace ff::datasets
