// Evaluation options (`eval.*` keys): which verification packs to score and how to embed.
#pragma once
#include <string>
#include <vector>

namespace ff::config {
class Schema;
}

namespace ff::eval {

struct EvalOptions {
  std::vector<std::string> targets;  // insightface .bin packs; name = file stem (lfw.bin -> lfw)
  int batch_size = 64;
  bool flip = true;                  // embed original + mirrored and sum (insightface convention)
  double far = 1e-3;                 // FAR for the reported TAR@FAR
};

void bind_schema(config::Schema& schema, EvalOptions& options);

}  // namespace ff::eval
