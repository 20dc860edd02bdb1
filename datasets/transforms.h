// Image -> network input: 8-bit BGR 112x112 to float CHW planes, (x/255 - mean) / std, in RGB (or
// BGR) channel order, optionally mirrored. Shared by the training loader and the evaluation embedder.
#pragma once

namespace cv {
class Mat;
}

namespace ff::datasets {

constexpr int kImageSize = 112;

// Defaults are what FaceForge trains with and insightface's models expect: RGB, (x/255 - 0.5) / 0.5,
// i.e. [-1, 1]. AdaFace's released models expect BGR: colour order is a model setting.
struct InputNormalization {
  bool bgr = false;   // planes in B, G, R order instead of R, G, B
  float mean = 0.5f;  // per channel, on x / 255
  float std = 0.5f;   // > 0
};

// Writes 3 * 112 * 112 floats to `chw`. Images of another size are resized (bilinear) first.
void bgr_to_input(const cv::Mat& bgr, float* chw, bool flip, const InputNormalization& norm = {});

}  // namespace ff::datasets
