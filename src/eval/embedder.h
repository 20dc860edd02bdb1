// Images -> L2-normalised embeddings with a backbone: batching, optional flip fusion
// (f(x) + f(mirror(x)), then L2-normalise, as insightface's verification does).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "backbones/backbone.h"

namespace ff::eval {

struct EmbedderOptions {
  int batch_size = 64;
  bool flip = true;
};

// encoded: JPEG/PNG bytes per image. Returns [N, D] float32, rows L2-normalised.
// Puts the backbone in eval mode and runs without autograd. Errors name `source` and the image index.
at::Tensor embed_encoded(backbones::Backbone& backbone, const std::vector<std::string>& encoded,
                         const EmbedderOptions& options, const std::string& source);

}  // namespace ff::eval
