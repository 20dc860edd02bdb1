// Results-store options (`results.*` keys).
#pragma once
#include <string>

namespace ff::config {
class Schema;
}

namespace ff::store {

struct StoreOptions {
  // Where runs and evaluations are recorded: sqlite:///<relative path> or sqlite:////<absolute path>
  // (store_path_from_url); empty = sqlite:///<output root>/results.db. Only SQLite in this build.
  std::string url;
};

void bind_schema(config::Schema& schema, StoreOptions& options);

}  // namespace ff::store
