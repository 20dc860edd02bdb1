// Model and file feature sources; the file source checks that its rows match the protocol's images.
#include "src/eval/feature_source.h"

#include <fmt/format.h>
#include <torch/types.h>

#include "src/util/error.h"
#include "src/util/npy.h"
#include "src/util/sha256.h"

namespace ff::eval {

namespace fs = std::filesystem;

ModelFeatures::ModelFeatures(backbones::Backbone& backbone, EmbedderOptions options, std::string checkpoint,
                             fs::path save_dir)
    : backbone_(backbone), options_(options), checkpoint_(std::move(checkpoint)), save_dir_(std::move(save_dir)) {}

at::Tensor ModelFeatures::features(const std::string& target, const ImageSet& images) {
  at::Tensor f = embed_images(backbone_, images.count, images.load, options_, images.source);
  if (!save_dir_.empty()) {
    fs::create_directories(save_dir_);
    write_npy_matrix(save_dir_ / (target + ".npy"), f.data_ptr<float>(), f.size(0), f.size(1));
  }
  return f;
}

nlohmann::json ModelFeatures::conventions() const {
  return {{"features", "model"},
          {"flip", to_string(options_.flip)},
          {"colour", options_.input.bgr ? "bgr" : "rgb"},
          {"input", fmt::format("(x/255 - {:g}) / {:g}", options_.input.mean, options_.input.std)}};
}

FileFeatures::FileFeatures(fs::path path) : path_(std::move(path)) {
  if (!fs::is_regular_file(path_)) fail("--features: {} is not a file", path_.string());
  sha256_ = sha256_file(path_);
}

at::Tensor FileFeatures::features(const std::string& target, const ImageSet& images) {
  NpyMatrix m = read_npy_matrix(path_);
  if (m.rows != images.count)
    fail("{}: {} rows, but target {} ({}) has {} images: rows must be the protocol's images in its order",
         path_.string(), m.rows, target, images.source, images.count);
  if (m.cols < 1) fail("{}: features have no columns", path_.string());
  at::Tensor t = torch::from_blob(m.data.data(), {m.rows, m.cols}, torch::kFloat).clone();
  if (!torch::isfinite(t).all().item<bool>()) fail("{}: features contain NaN or infinite values", path_.string());
  return t;
}

nlohmann::json FileFeatures::conventions() const {
  return {{"features", "file"}, {"features_file", path_.filename().string()}};
}

}  // namespace ff::eval
