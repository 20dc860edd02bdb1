// Backbone options (`model.*` keys).
#pragma once
#include <string>

namespace ff::config {
class Schema;
}

namespace ff::backbones {

struct BackboneOptions {
  std::string backbone = "mbf";  // registry name
  int embedding_size = 512;
  bool channels_last = true;  // NHWC memory format for convolutions (faster with oneDNN on CPU)
};

void bind_schema(config::Schema& schema, BackboneOptions& options);

}  // namespace ff::backbones
