// Loss options (`loss.*` keys): which margin head and its scale and margins.
#pragma once
#include <string>

namespace ff::config {
class Schema;
}

namespace ff::losses {

struct HeadOptions {
  std::string head = "arcface";  // arcface | cosface | normface
  double scale = 64.0;       // s
  double margin = 0.5;       // m: angular (arcface, radians) or on the cosine (cosface)
  bool easy_margin = false;  // keep cos θ whenever cos θ <= 0 instead of the linear fallback
};

void bind_schema(config::Schema& schema, HeadOptions& options);

}  // namespace ff::losses
