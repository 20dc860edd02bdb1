// Images -> embeddings with a backbone: batching, flip fusion (none | sum | concat), colour order and
// input normalisation. Features come back as the backbone gives them (not L2-normalised): IJB's N
// switch decides that per protocol, and verification normalises before the cosine.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <opencv2/core/mat.hpp>

#include "backbones/backbone.h"
#include "datasets/transforms.h"

namespace ff::eval {

struct EvalOptions;

// sum: f(x) + f(mirror x) (insightface's verification and IJB F switch); concat: [f(x), f(mirror x)],
// 2D columns (some FaceX-Zoo and TFace scripts).
enum class FlipFusion { none, sum, concat };
FlipFusion parse_flip_fusion(const std::string& text);  // "none" | "sum" | "concat", else ff::Error
const char* to_string(FlipFusion flip);

struct EmbedderOptions {
  int batch_size = 64;
  FlipFusion flip = FlipFusion::sum;
  datasets::InputNormalization input;
};
EmbedderOptions embedder_options(const EvalOptions& options);

// Image i as 8-bit BGR, normally an aligned 112x112 crop (other sizes are resized bilinearly).
using ImageLoader = std::function<cv::Mat(int64_t i)>;

// Returns [count, D] float32 on the CPU (2D columns with concat), row i = image i. Puts the backbone
// in eval mode for the call and runs without autograd; the mirrored copies ride in the same batch.
// Errors from `load` propagate; an empty image is an error naming `source` and the index.
at::Tensor embed_images(backbones::Backbone& backbone, int64_t count, const ImageLoader& load,
                        const EmbedderOptions& options, const std::string& source);

// Decodes JPEG/PNG bytes (a .bin pack's images) and embeds them as above.
at::Tensor embed_encoded(backbones::Backbone& backbone, const std::vector<std::string>& encoded,
                         const EmbedderOptions& options, const std::string& source);

}  // namespace ff::eval
