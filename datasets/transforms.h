// Image -> network input: 8-bit BGR 112x112 to float RGB CHW in [-1, 1] ((x/255 - 0.5) / 0.5),
// optionally mirrored. Shared by the training loader and the evaluation embedder.
#pragma once

namespace cv {
class Mat;
}

namespace ff::datasets {

constexpr int kImageSize = 112;

// Writes 3 * 112 * 112 floats to `chw`. Images of another size are resized (bilinear) first.
void bgr_to_input(const cv::Mat& bgr, float* chw, bool flip);

}  // namespace ff::datasets
