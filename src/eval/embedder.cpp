// Decodes, normalises and embeds in batches; the flipped copy rides in the same batch tensor.
#include "src/eval/embedder.h"

#include <opencv2/imgcodecs.hpp>
#include <torch/nn/functional/normalization.h>
#include <torch/types.h>

#include "datasets/transforms.h"
#include "src/util/error.h"

namespace ff::eval {

at::Tensor embed_encoded(backbones::Backbone& backbone, const std::vector<std::string>& encoded,
                         const EmbedderOptions& options, const std::string& source) {
  using datasets::kImageSize;
  if (options.batch_size < 1) fail("embedding batch size must be >= 1, got {}", options.batch_size);
  torch::NoGradGuard no_grad;
  bool was_training = backbone.is_training();
  backbone.eval();
  const int64_t n = static_cast<int64_t>(encoded.size());
  const int copies = options.flip ? 2 : 1;
  std::vector<at::Tensor> chunks;
  const int64_t image_floats = 3 * kImageSize * kImageSize;
  for (int64_t start = 0; start < n; start += options.batch_size) {
    int64_t count = std::min<int64_t>(options.batch_size, n - start);
    at::Tensor input = torch::empty({count * copies, 3, kImageSize, kImageSize}, torch::kFloat);
    float* data = input.data_ptr<float>();
    for (int64_t i = 0; i < count; ++i) {
      const std::string& bytes = encoded[start + i];
      cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
      cv::Mat bgr = cv::imdecode(buffer, cv::IMREAD_COLOR);
      if (bgr.empty()) fail("{}: image {} cannot be decoded ({} bytes)", source, start + i, bytes.size());
      datasets::bgr_to_input(bgr, data + i * image_floats, false);
      if (options.flip) datasets::bgr_to_input(bgr, data + (count + i) * image_floats, true);
    }
    at::Tensor features = backbone.forward(input).to(torch::kFloat);
    if (options.flip) features = features.narrow(0, 0, count) + features.narrow(0, count, count);
    chunks.push_back(features);
  }
  if (was_training) backbone.train();
  at::Tensor all = torch::cat(chunks, 0);
  namespace F = torch::nn::functional;
  return F::normalize(all, F::NormalizeFuncOptions().dim(1));
}

}  // namespace ff::eval
