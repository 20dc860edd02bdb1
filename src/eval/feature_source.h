// Where evaluation features come from: a model embedding the protocol's images, or a precomputed
// NumPy file from any framework. Protocols ask for "features of these images, in this order".
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "backbones/backbone.h"
#include "src/eval/embedder.h"

namespace ff::eval {

// A protocol's images in its official order (the row order of a features file).
struct ImageSet {
  int64_t count = 0;
  ImageLoader load;    // image i, aligned when the protocol has landmarks
  std::string source;  // the target's path, for messages
};

class FeatureSource {
 public:
  virtual ~FeatureSource() = default;
  // [images.count, D] float32 on the CPU, row i = image i, not L2-normalised.
  virtual at::Tensor features(const std::string& target, const ImageSet& images) = 0;
  // Which weights produced the numbers: the checkpoint path, or "features:sha256:<hex>".
  virtual std::string provenance() const = 0;
  // Settings behind the features, recorded with every evaluation (flip, colour, normalisation, source).
  virtual nlohmann::json conventions() const = 0;
  // The model, for FRUITS latency; nullptr for precomputed features.
  virtual backbones::Backbone* model() { return nullptr; }
  virtual const EmbedderOptions* embedder() const { return nullptr; }
};

// Embeds with a backbone. With a save folder, every target's features are also written to
// <save_dir>/<target>.npy (float32, protocol image order), readable back with FileFeatures.
class ModelFeatures : public FeatureSource {
 public:
  ModelFeatures(backbones::Backbone& backbone, EmbedderOptions options, std::string checkpoint,
                std::filesystem::path save_dir = {});
  at::Tensor features(const std::string& target, const ImageSet& images) override;
  std::string provenance() const override { return checkpoint_; }
  nlohmann::json conventions() const override;
  backbones::Backbone* model() override { return &backbone_; }
  const EmbedderOptions* embedder() const override { return &options_; }

 private:
  backbones::Backbone& backbone_;
  EmbedderOptions options_;
  std::string checkpoint_;
  std::filesystem::path save_dir_;
};

// Rows of a .npy file (float32 or float16). Its row count must equal the protocol's image count;
// a mismatch is an error naming the file, both counts and the target.
class FileFeatures : public FeatureSource {
 public:
  explicit FileFeatures(std::filesystem::path path);  // hashes the file (SHA-256) up front
  at::Tensor features(const std::string& target, const ImageSet& images) override;
  std::string provenance() const override { return "features:sha256:" + sha256_; }
  nlohmann::json conventions() const override;
  const std::string& sha256() const { return sha256_; }

 private:
  std::filesystem::path path_;
  std::string sha256_;
};

}  // namespace ff::eval
