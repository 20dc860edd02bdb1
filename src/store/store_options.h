// Results-store options (`results.*` keys).
#pragma once
#include <string>

namespace ff::config {
class Schema;
}

namespace ff::store {

struct StoreOptions {
  std::string db;  // SQLite file; empty = <output root>/results.db
};

void bind_schema(config::Schema& schema, StoreOptions& options);

}  // namespace ff::store
