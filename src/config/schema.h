// The typed configuration schema: every key, its type, default, bounds and meaning, bound directly
// to a field of an options struct. Modules register their own keys (see e.g. datasets/data_options.h);
// loading YAML or --set overrides writes through the schema with full error context.
#pragma once
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "src/config/value.h"

namespace ff::config {

// Numeric bounds; each side may be open or closed.
struct Bounds {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = false;
  bool hi_open = false;
  static Bounds any() { return {}; }
  static Bounds at_least(double lo) { return {lo, std::numeric_limits<double>::infinity(), false, false}; }
  static Bounds greater_than(double lo) { return {lo, std::numeric_limits<double>::infinity(), true, false}; }
  static Bounds closed(double lo, double hi) { return {lo, hi, false, false}; }
  static Bounds half_open(double lo, double hi) { return {lo, hi, false, true}; }
  bool contains(double v) const;
  std::string text() const;  // "[0, 1.5708)", ">= 1"
};

struct Entry {
  std::string key;            // dotted path, e.g. "optim.lr"
  std::string type;           // int | float | bool | string | list of strings
  std::string doc;            // one line: what it means
  std::string default_text;   // rendered when the schema was built
  std::vector<std::string> choices;  // for enumerated strings
  std::function<void(const Value&)> assign;  // parses, validates, stores; throws ff::Error
  std::function<nlohmann::json()> current;   // the current value
};

class Schema {
 public:
  Schema& add(std::string key, int& field, std::string doc, Bounds bounds = Bounds::any());
  Schema& add(std::string key, double& field, std::string doc, Bounds bounds = Bounds::any());
  Schema& add(std::string key, bool& field, std::string doc);
  Schema& add(std::string key, std::string& field, std::string doc, std::vector<std::string> choices = {});
  Schema& add(std::string key, std::vector<std::string>& field, std::string doc);

  // Writes one value, or a mapping under a section name ("optim" = {lr: 0.1}); unknown keys throw
  // with the closest known key suggested.
  void set(const std::string& key, const Value& value);
  // Walks a mapping (the whole document) and sets every leaf; nested maps form dotted keys.
  void set_tree(const Value& root, const std::string& prefix = "");

  const Entry* find(const std::string& key) const;
  bool is_section(const std::string& key) const;  // some key starts with "<key>."
  const std::vector<Entry>& entries() const { return entries_; }
  std::vector<std::string> keys() const;

  nlohmann::json to_json() const;   // nested object of current values
  std::string to_yaml() const;      // the resolved configuration, loadable again
  std::string to_markdown() const;  // key | type | default | meaning table for docs/config.md

 private:
  Entry& push(std::string key, std::string type, std::string doc);
  [[noreturn]] void unknown_key(const std::string& key, const Origin& origin) const;
  std::vector<Entry> entries_;
};

// Reads a YAML file into the schema. Errors name the file, line and key.
void load_yaml_file(const std::string& path, Schema& schema);
// Same for YAML text (tests, embedded configs); `source_name` is used in errors.
void load_yaml_text(const std::string& text, const std::string& source_name, Schema& schema);
// Applies "key=value" (value parsed as YAML, so lists work: "eval.targets=[a.bin, b.bin]").
void apply_override(const std::string& assignment, Schema& schema);

}  // namespace ff::config
