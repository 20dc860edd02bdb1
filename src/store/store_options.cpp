// Binds StoreOptions to the `results.*` configuration keys.
#include "src/store/store_options.h"

#include "src/config/schema.h"

namespace ff::store {

void bind_schema(config::Schema& s, StoreOptions& o) {
  s.add("results.url", o.url,
        "results store: sqlite:///relative.db or sqlite:////absolute.db; empty means sqlite:///<output>/results.db");
}

}  // namespace ff::store
