// Binds StoreOptions to the `results.*` configuration keys.
#include "src/store/store_options.h"

#include "src/config/schema.h"

namespace ff::store {

void bind_schema(config::Schema& s, StoreOptions& o) {
  s.add("results.db", o.db, "results database file; empty means <output>/results.db");
}

}  // namespace ff::store
