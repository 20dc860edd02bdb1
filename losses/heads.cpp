// Margin-head registry and the `loss.*` configuration keys.
#include <map>

#include "losses/arcface.h"
#include "losses/cosface.h"
#include "losses/margin_head.h"
#include "src/config/schema.h"
#include "src/util/error.h"
#include "src/util/strings.h"

namespace ff::losses {

std::vector<std::string> margin_head_names() { return {"arcface", "cosface", "normface"}; }

std::shared_ptr<MarginHead> make_margin_head(const HeadOptions& o) {
  if (o.head == "arcface") {
    return std::make_shared<ArcFace>(ArcFaceOptions().scale(o.scale).margin(o.margin).easy_margin(o.easy_margin));
  }
  if (o.head == "cosface") return std::make_shared<CosFace>(CosFaceOptions().scale(o.scale).margin(o.margin));
  if (o.head == "normface") return std::make_shared<CosFace>(CosFaceOptions().scale(o.scale).margin(0.0));
  fail("unknown margin head '{}': known heads are {}", o.head, join(margin_head_names(), ", "));
}

void bind_schema(config::Schema& s, HeadOptions& o) {
  using config::Bounds;
  s.add("loss.head", o.head, "margin head", margin_head_names());
  s.add("loss.scale", o.scale, "logit scale s", Bounds::greater_than(0));
  s.add("loss.margin", o.margin,
        "margin m: angular, in radians (arcface) or on the cosine (cosface); normface ignores it",
        Bounds::half_open(0, M_PI / 2));
  s.add("loss.easy_margin", o.easy_margin, "arcface: keep cos θ when cos θ <= 0 instead of the linear fallback");
}

}  // namespace ff::losses
