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
};

void bind_schema(config::Schema& schema, BackboneOptions& options);

}  // namespace ff::backbones
