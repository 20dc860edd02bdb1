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
  std::string type;           // int | float | bool | string | list of strings | list of mappings
  std::string doc;            // one line: what it means
  std::string default_text;   // rendered when the schema was built
  std::vector<std::string> choices;  // for enumerated strings
  std::function<void(const Value&)> assign;  // parses, validates, stores; throws ff::Error
  std::function<nlohmann::json()> current;   // the current value
  // For a list of mappings ("data.sources"): the element's keys, documented as "data.sources[].format",
  // and a writer for one field of one element ("data.sources[1].root" from a --set override).
  std::vector<Entry> element_entries;
  std::function<void(size_t index, const std::string& field_key, const Value&)> assign_item;
  std::function<std::vector<std::string>()> items_yaml;  // each element as YAML, keys in schema order
};

// "FILE:3: key: expected <expected>, got <what the value is>" as an ff::Error.
[[noreturn]] void type_error(const std::string& key, const Value& value, const std::string& expected);

class Schema {
 public:
  // `prefix` is prepended to every key registered (with a dot); element schemas of a list use
  // "data.sources[2]" so their errors name the element.
  explicit Schema(std::string prefix = "") : prefix_(std::move(prefix)) {}

  Schema& add(std::string key, int& field, std::string doc, Bounds bounds = Bounds::any());
  Schema& add(std::string key, double& field, std::string doc, Bounds bounds = Bounds::any());
  Schema& add(std::string key, bool& field, std::string doc);
  Schema& add(std::string key, std::string& field, std::string doc, std::vector<std::string> choices = {});
  Schema& add(std::string key, std::vector<std::string>& field, std::string doc);
  // A list of numbers, each checked against `bounds` ([8, 16, 20]; [] or null clears it).
  Schema& add(std::string key, std::vector<double>& field, std::string doc, Bounds bounds = Bounds::any());
  // A list of mappings, each element an options struct whose keys `bind(schema, element)` registers
  // (relative names: "format", "share"). YAML gives the whole list; "--set key[i].field=v" edits one.
  template <class T>
  Schema& add_list(std::string key, std::vector<T>& field, std::string doc, std::function<void(Schema&, T&)> bind);

  // Writes one value, or a mapping under a section name ("optim" = {lr: 0.1}); unknown keys throw
  // with the closest known key suggested.
  void set(const std::string& key, const Value& value);
  // Walks a mapping (the whole document) and sets every leaf; nested maps form dotted keys.
  void set_tree(const Value& root, const std::string& prefix = "");

  const Entry* find(const std::string& key) const;
  bool is_section(const std::string& key) const;  // some key starts with "<key>."
  const std::vector<Entry>& entries() const { return entries_; }
  std::vector<std::string> keys() const;  // list elements' keys appear as "data.sources[].format"

  nlohmann::json to_json() const;   // nested object of current values (keys relative to the prefix)
  std::string to_yaml() const;      // the resolved configuration, loadable again (keys relative to the prefix)
  std::string to_markdown() const;  // key | type | default | meaning table for docs/config.md

 private:
  Entry& push(std::string key, std::string type, std::string doc);
  [[noreturn]] void unknown_key(const std::string& key, const Origin& origin) const;
  bool set_list_item(const std::string& key, const Value& value);  // "name[i].field"; false if no list matches
  std::string prefix_;
  std::vector<Entry> entries_;
};

template <class T>
Schema& Schema::add_list(std::string key, std::vector<T>& field, std::string doc,
                         std::function<void(Schema&, T&)> bind) {
  Entry& e = push(std::move(key), "list of mappings", std::move(doc));
  const std::string k = e.key;
  {
    T example{};
    Schema element(k + "[]");
    bind(element, example);
    for (Entry child : element.entries_) {
      child.assign = nullptr;  // they point at `example`
      child.current = nullptr;
      e.element_entries.push_back(std::move(child));
    }
  }
  e.default_text = field.empty() ? "[]" : std::to_string(field.size()) + " entries";
  e.assign = [k, &field, bind](const Value& v) {
    if (v.kind == Value::Kind::Null) {
      field.clear();
      return;
    }
    if (v.kind != Value::Kind::Sequence) type_error(k, v, "a list of mappings (one per entry)");
    std::vector<T> parsed(v.items.size());
    for (size_t i = 0; i < v.items.size(); ++i) {
      std::string name = k + "[" + std::to_string(i) + "]";
      if (v.items[i].kind != Value::Kind::Map) type_error(name, v.items[i], "a mapping of keys");
      Schema element(name);
      bind(element, parsed[i]);
      element.set_tree(v.items[i], name);
    }
    field = std::move(parsed);
  };
  e.assign_item = [k, &field, bind](size_t index, const std::string& field_key, const Value& v) {
    std::string name = k + "[" + std::to_string(index) + "]";
    if (index >= field.size())
      type_error(name, v, "an index below the list's length " + std::to_string(field.size()));
    Schema element(name);
    bind(element, field[index]);
    element.set(name + "." + field_key, v);
  };
  e.items_yaml = [k, &field, bind] {
    std::vector<std::string> items;
    for (auto& item : field) {
      Schema element(k + "[]");
      bind(element, item);
      items.push_back(element.to_yaml());
    }
    return items;
  };
  e.current = [k, &field, bind] {
    nlohmann::json items = nlohmann::json::array();
    for (auto& item : field) {
      Schema element(k + "[]");
      bind(element, item);
      items.push_back(element.to_json());
    }
    return items;
  };
  return *this;
}

// Reads a YAML file into the schema. Errors name the file, line and key.
void load_yaml_file(const std::string& path, Schema& schema);
// Same for YAML text (tests, embedded configs); `source_name` is used in errors.
void load_yaml_text(const std::string& text, const std::string& source_name, Schema& schema);
// Applies "key=value" (value parsed as YAML, so lists work: "eval.targets=[a.bin, b.bin]").
void apply_override(const std::string& assignment, Schema& schema);

}  // namespace ff::config
