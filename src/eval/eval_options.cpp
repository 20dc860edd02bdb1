// Binds EvalOptions to the `eval.*` configuration keys.
#include "src/eval/eval_options.h"

#include "src/config/schema.h"

namespace ff::eval {

void bind_schema(config::Schema& s, EvalOptions& o) {
  using config::Bounds;
  s.add("eval.targets", o.targets, "verification packs (.bin) scored after training");
  s.add("eval.batch_size", o.batch_size, "images per embedding batch", Bounds::closed(1, 65536));
  s.add("eval.flip", o.flip, "add the mirrored image's embedding before normalising");
  s.add("eval.far", o.far, "false accept rate for the reported TAR@FAR", Bounds::half_open(0, 1));
}

}  // namespace ff::eval
