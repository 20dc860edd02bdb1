// Loads, normalises and embeds in batches; the mirrored copy rides in the same batch tensor.
#include "src/eval/embedder.h"

#include <torch/types.h>

#include "datasets/image_codec.h"
#include "src/eval/eval_options.h"
#include "src/util/error.h"

namespace ff::eval {

FlipFusion parse_flip_fusion(const std::string& text) {
  if (text == "none") return FlipFusion::none;
  if (text == "sum") return FlipFusion::sum;
  if (text == "concat") return FlipFusion::concat;
  fail("flip fusion must be none, sum or concat, got '{}'", text);
}

const char* to_string(FlipFusion flip) {
  switch (flip) {
    case FlipFusion::none: return "none";
    case FlipFusion::sum: return "sum";
    case FlipFusion::concat: return "concat";
  }
  return "?";
}

EmbedderOptions embedder_options(const EvalOptions& o) {
  EmbedderOptions e;
  e.batch_size = o.batch_size;
  e.flip = parse_flip_fusion(o.flip);
  e.input.bgr = o.colour == "bgr";
  e.input.mean = static_cast<float>(o.mean);
  e.input.std = static_cast<float>(o.std);
  return e;
}

at::Tensor embed_images(backbones::Backbone& backbone, int64_t count, const ImageLoader& load,
                        const EmbedderOptions& options, const std::string& source) {
  using datasets::kImageSize;
  if (options.batch_size < 1) fail("embedding batch size must be >= 1, got {}", options.batch_size);
  if (count < 1) fail("{}: no images to embed", source);
  torch::NoGradGuard no_grad;
  const bool was_training = backbone.is_training();
  backbone.eval();
  const at::Device device = backbones::device_of(backbone);  // images are prepared on the CPU, embedded there
  const bool flip = options.flip != FlipFusion::none;
  const int copies = flip ? 2 : 1;
  const int64_t image_floats = 3 * kImageSize * kImageSize;
  std::vector<at::Tensor> chunks;
  for (int64_t start = 0; start < count; start += options.batch_size) {
    const int64_t n = std::min<int64_t>(options.batch_size, count - start);
    at::Tensor input = torch::empty({n * copies, 3, kImageSize, kImageSize}, torch::kFloat);
    float* data = input.data_ptr<float>();
    for (int64_t i = 0; i < n; ++i) {
      cv::Mat bgr = load(start + i);
      if (bgr.empty()) fail("{}: image {} is empty", source, start + i);
      datasets::bgr_to_input(bgr, data + i * image_floats, false, options.input);
      if (flip) datasets::bgr_to_input(bgr, data + (n + i) * image_floats, true, options.input);
    }
    at::Tensor features = backbone.forward(input.to(device)).to(torch::kFloat);
    if (options.flip == FlipFusion::sum) features = features.narrow(0, 0, n) + features.narrow(0, n, n);
    if (options.flip == FlipFusion::concat) features = torch::cat({features.narrow(0, 0, n), features.narrow(0, n, n)}, 1);
    chunks.push_back(features.cpu());
  }
  if (was_training) backbone.train();
  return torch::cat(chunks, 0).contiguous();
}

at::Tensor embed_encoded(backbones::Backbone& backbone, const std::vector<std::string>& encoded,
                         const EmbedderOptions& options, const std::string& source) {
  auto load = [&](int64_t i) {
    const std::string& bytes = encoded[i];
    cv::Mat bgr = datasets::decode_image(bytes);
    if (bgr.empty()) fail("{}: image {} cannot be decoded ({} bytes)", source, i, bytes.size());
    return bgr;
  };
  return embed_images(backbone, static_cast<int64_t>(encoded.size()), load, options, source);
}

}  // namespace ff::eval
