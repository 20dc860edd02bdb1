// A configuration value as read from YAML or a --set override, with where it came from.
#pragma once
#include <string>
#include <vector>

namespace ff::config {

// Where a value was written: "configs/demo.yaml:12" or "--set optim.lr=0.05".
struct Origin {
  std::string source;  // file path, or the override text
  int line = 0;        // 1-based; 0 when the source has no lines (overrides)
  std::string text() const { return line > 0 ? source + ":" + std::to_string(line) : source; }
};

struct Value {
  enum class Kind { Null, Scalar, Sequence, Map };
  Kind kind = Kind::Null;
  std::string scalar;        // for Scalar
  bool quoted = false;       // scalar was written in quotes (so it is a string, never a number)
  std::vector<Value> items;  // for Sequence
  std::vector<std::pair<std::string, Value>> fields;  // for Map, in file order
  Origin origin;
};

}  // namespace ff::config
