// Schema registration, typed parsing with bounds, and rendering of the resolved configuration.
#include "src/config/schema.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>

#include <fmt/format.h>

#include "src/util/error.h"
#include "src/util/strings.h"

namespace ff::config {

namespace {

std::string number_text(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{}", v);
}

std::string shown(const Value& v) {
  switch (v.kind) {
    case Value::Kind::Null: return "nothing";
    case Value::Kind::Sequence: return "a list";
    case Value::Kind::Map: return "a mapping";
    case Value::Kind::Scalar: break;
  }
  return "'" + v.scalar + "'";
}

void check_bounds(const std::string& key, const Value& v, double x, const Bounds& b) {
  if (!b.contains(x)) fail("{}: {}: value out of range: expected {}, got {}", v.origin.text(), key, b.text(), v.scalar);
}

}  // namespace

void type_error(const std::string& key, const Value& v, const std::string& expected) {
  fail("{}: {}: expected {}, got {}", v.origin.text(), key, expected, shown(v));
}

bool Bounds::contains(double v) const {
  if (std::isnan(v)) return false;
  bool lo_ok = lo_open ? v > lo : v >= lo;
  bool hi_ok = hi_open ? v < hi : v <= hi;
  return lo_ok && hi_ok;
}

std::string Bounds::text() const {
  bool lo_inf = std::isinf(lo), hi_inf = std::isinf(hi);
  if (lo_inf && hi_inf) return "any number";
  if (hi_inf) return fmt::format("{} {}", lo_open ? ">" : ">=", number_text(lo));
  if (lo_inf) return fmt::format("{} {}", hi_open ? "<" : "<=", number_text(hi));
  return fmt::format("{}{}, {}{}", lo_open ? "(" : "[", number_text(lo), number_text(hi), hi_open ? ")" : "]");
}

Entry& Schema::push(std::string key, std::string type, std::string doc) {
  if (!prefix_.empty()) key = prefix_ + "." + key;
  if (find(key)) fail("internal: config key '{}' registered twice", key);
  Entry e;
  e.key = std::move(key);
  e.type = std::move(type);
  e.doc = std::move(doc);
  entries_.push_back(std::move(e));
  return entries_.back();
}

Schema& Schema::add(std::string key, int& field, std::string doc, Bounds bounds) {
  Entry& e = push(std::move(key), "int", std::move(doc));
  e.default_text = std::to_string(field);
  std::string k = e.key;
  e.assign = [k, &field, bounds](const Value& v) {
    if (v.kind != Value::Kind::Scalar || v.quoted) type_error(k, v, "an integer");
    long long parsed = 0;
    const char* begin = v.scalar.data();
    const char* end = begin + v.scalar.size();
    auto [ptr, ec] = std::from_chars(begin, end, parsed);
    if (ec != std::errc() || ptr != end) type_error(k, v, "an integer");
    check_bounds(k, v, static_cast<double>(parsed), bounds);
    if (parsed < std::numeric_limits<int>::min() || parsed > std::numeric_limits<int>::max())
      fail("{}: {}: value out of range for a 32-bit integer: {}", v.origin.text(), k, v.scalar);
    field = static_cast<int>(parsed);
  };
  e.current = [&field] { return nlohmann::json(field); };
  return *this;
}

Schema& Schema::add(std::string key, double& field, std::string doc, Bounds bounds) {
  Entry& e = push(std::move(key), "float", std::move(doc));
  e.default_text = number_text(field);
  std::string k = e.key;
  e.assign = [k, &field, bounds](const Value& v) {
    if (v.kind != Value::Kind::Scalar || v.quoted || v.scalar.empty()) type_error(k, v, "a number");
    char* end = nullptr;
    errno = 0;
    double parsed = std::strtod(v.scalar.c_str(), &end);
    if (end != v.scalar.c_str() + v.scalar.size() || errno == ERANGE || !std::isfinite(parsed))
      type_error(k, v, "a number");
    check_bounds(k, v, parsed, bounds);
    field = parsed;
  };
  e.current = [&field] { return nlohmann::json(field); };
  return *this;
}

Schema& Schema::add(std::string key, bool& field, std::string doc) {
  Entry& e = push(std::move(key), "bool", std::move(doc));
  e.default_text = field ? "true" : "false";
  std::string k = e.key;
  e.assign = [k, &field](const Value& v) {
    if (v.kind != Value::Kind::Scalar || v.quoted) type_error(k, v, "true or false");
    if (v.scalar == "true" || v.scalar == "True" || v.scalar == "yes" || v.scalar == "on") {
      field = true;
    } else if (v.scalar == "false" || v.scalar == "False" || v.scalar == "no" || v.scalar == "off") {
      field = false;
    } else {
      type_error(k, v, "true or false");
    }
  };
  e.current = [&field] { return nlohmann::json(field); };
  return *this;
}

Schema& Schema::add(std::string key, std::string& field, std::string doc, std::vector<std::string> choices) {
  Entry& e = push(std::move(key), "string", std::move(doc));
  e.default_text = field.empty() ? "\"\"" : field;
  e.choices = choices;
  std::string k = e.key;
  e.assign = [k, &field, choices](const Value& v) {
    if (v.kind != Value::Kind::Scalar) type_error(k, v, choices.empty() ? "a string" : "a name");
    if (!choices.empty() && std::find(choices.begin(), choices.end(), v.scalar) == choices.end()) {
      std::string hint = closest_match(v.scalar, choices);
      fail("{}: {}: expected one of {}, got '{}'{}", v.origin.text(), k, join(choices, ", "), v.scalar,
           hint.empty() ? "" : " (did you mean '" + hint + "'?)");
    }
    field = v.scalar;
  };
  e.current = [&field] { return nlohmann::json(field); };
  return *this;
}

Schema& Schema::add(std::string key, std::vector<std::string>& field, std::string doc) {
  Entry& e = push(std::move(key), "list of strings", std::move(doc));
  e.default_text = field.empty() ? "[]" : "[" + join(field, ", ") + "]";
  std::string k = e.key;
  e.assign = [k, &field](const Value& v) {
    if (v.kind == Value::Kind::Null) {
      field.clear();
      return;
    }
    if (v.kind != Value::Kind::Sequence) type_error(k, v, "a list of strings");
    std::vector<std::string> out;
    for (const auto& item : v.items) {
      if (item.kind != Value::Kind::Scalar) type_error(k, item, "a string as list item");
      out.push_back(item.scalar);
    }
    field = std::move(out);
  };
  e.current = [&field] { return nlohmann::json(field); };
  return *this;
}

Schema& Schema::add(std::string key, std::vector<double>& field, std::string doc, Bounds bounds) {
  Entry& e = push(std::move(key), "list of floats", std::move(doc));
  std::vector<std::string> texts;
  for (double v : field) texts.push_back(number_text(v));
  e.default_text = "[" + join(texts, ", ") + "]";
  std::string k = e.key;
  e.assign = [k, &field, bounds](const Value& v) {
    if (v.kind == Value::Kind::Null) {
      field.clear();
      return;
    }
    if (v.kind != Value::Kind::Sequence) type_error(k, v, "a list of numbers");
    std::vector<double> out;
    for (const auto& item : v.items) {
      if (item.kind != Value::Kind::Scalar || item.quoted || item.scalar.empty()) type_error(k, item, "a number as list item");
      char* end = nullptr;
      errno = 0;
      const double parsed = std::strtod(item.scalar.c_str(), &end);
      if (end != item.scalar.c_str() + item.scalar.size() || errno == ERANGE || !std::isfinite(parsed))
        type_error(k, item, "a number as list item");
      check_bounds(k, item, parsed, bounds);
      out.push_back(parsed);
    }
    field = std::move(out);
  };
  e.current = [&field] { return nlohmann::json(field); };
  return *this;
}

const Entry* Schema::find(const std::string& key) const {
  for (const auto& e : entries_)
    if (e.key == key) return &e;
  return nullptr;
}

bool Schema::is_section(const std::string& key) const {
  for (const auto& e : entries_)
    if (e.key.rfind(key + ".", 0) == 0) return true;
  return false;
}

std::vector<std::string> Schema::keys() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) {
    out.push_back(e.key);
    for (const auto& child : e.element_entries) out.push_back(child.key);
  }
  return out;
}

bool Schema::set_list_item(const std::string& key, const Value& value) {
  // name[i].field_key
  size_t open = key.find('[');
  size_t close = key.find(']', open == std::string::npos ? 0 : open);
  if (open == std::string::npos || close == std::string::npos || close + 1 >= key.size() || key[close + 1] != '.')
    return false;
  std::string name = key.substr(0, open);
  const std::string index_text = key.substr(open + 1, close - open - 1);
  for (auto& e : entries_) {
    if (e.key != name || !e.assign_item) continue;
    size_t index = 0;
    auto [ptr, ec] = std::from_chars(index_text.data(), index_text.data() + index_text.size(), index);
    if (ec != std::errc() || ptr != index_text.data() + index_text.size())
      fail("{}: {}: expected a list index like {}[0].{}, got '{}'", value.origin.text(), key, name,
           key.substr(close + 2), index_text);
    e.assign_item(index, key.substr(close + 2), value);
    return true;
  }
  return false;
}

void Schema::unknown_key(const std::string& key, const Origin& origin) const {
  std::vector<std::string> all = keys();
  std::string hint = closest_match(key, all);
  if (hint.empty()) {
    // "lr" written at the top level: suggest the key with the same last component.
    std::string last = split(key, '.').back();
    for (const auto& candidate : all)
      if (split(candidate, '.').back() == last) {
        hint = candidate;
        break;
      }
  }
  if (size_t list = hint.find("[]."); list != std::string::npos)  // a list element's key, e.g. data.format
    fail("{}: unknown key '{}' (did you mean '{}' in an entry of the list '{}'?)", origin.text(), key,
         hint.substr(list + 3), hint.substr(0, list));
  fail("{}: unknown key '{}'{}", origin.text(), key, hint.empty() ? "" : " (did you mean '" + hint + "'?)");
}

void Schema::set(const std::string& key, const Value& value) {
  for (auto& e : entries_) {
    if (e.key == key) {
      e.assign(value);
      return;
    }
  }
  if (set_list_item(key, value)) return;
  if (!is_section(key)) unknown_key(key, value.origin);
  if (value.kind != Value::Kind::Map)
    fail("{}: {}: expected a mapping of keys ({}.*), got {}", value.origin.text(), key, key, shown(value));
  set_tree(value, key);
}

void Schema::set_tree(const Value& root, const std::string& prefix) {
  if (root.kind == Value::Kind::Null && prefix.empty()) return;  // empty document
  if (root.kind != Value::Kind::Map) {
    if (prefix.empty()) fail("{}: expected a mapping of configuration keys at the top level", root.origin.text());
    set(prefix, root);
    return;
  }
  for (const auto& [name, child] : root.fields) set(prefix.empty() ? name : prefix + "." + name, child);
}

nlohmann::json Schema::to_json() const {
  nlohmann::json root = nlohmann::json::object();
  for (const auto& e : entries_) {
    nlohmann::json* node = &root;
    auto parts = split(prefix_.empty() ? e.key : e.key.substr(prefix_.size() + 1), '.');
    for (size_t i = 0; i + 1 < parts.size(); ++i) node = &(*node)[parts[i]];
    (*node)[parts.back()] = e.current();
  }
  return root;
}

std::string Schema::to_yaml() const {
  // JSON scalars are valid YAML scalars; sections follow registration order; a list of mappings
  // becomes a block sequence, each element's keys in its own schema's order.
  std::string out;
  std::vector<std::string> open;  // current section path
  for (const auto& e : entries_) {
    auto parts = split(prefix_.empty() ? e.key : e.key.substr(prefix_.size() + 1), '.');
    size_t common = 0;
    while (common < open.size() && common + 1 < parts.size() && open[common] == parts[common]) ++common;
    open.resize(common);
    for (size_t i = common; i + 1 < parts.size(); ++i) {
      out += std::string(2 * i, ' ') + parts[i] + ":\n";
      open.push_back(parts[i]);
    }
    const std::string indent(2 * (parts.size() - 1), ' ');
    std::vector<std::string> items = e.items_yaml ? e.items_yaml() : std::vector<std::string>{};
    if (!e.items_yaml || items.empty()) {
      out += indent + parts.back() + ": " + e.current().dump() + "\n";
      continue;
    }
    out += indent + parts.back() + ":\n";
    for (const auto& item : items) {
      bool first = true;
      for (const auto& line : split(item, '\n')) {
        if (line.empty()) continue;
        out += indent + (first ? "  - " : "    ") + line + "\n";
        first = false;
      }
    }
  }
  return out;
}

std::string Schema::to_markdown() const {
  std::string out = "| key | type | default | meaning |\n|---|---|---|---|\n";
  for (const auto& e : entries_) {
    std::string type = e.type;
    if (!e.choices.empty()) type = join(e.choices, " \\| ");
    out += fmt::format("| `{}` | {} | `{}` | {} |\n", e.key, type, e.default_text, e.doc);
    for (const auto& child : e.element_entries) {
      std::string child_type = child.choices.empty() ? child.type : join(child.choices, " \\| ");
      out += fmt::format("| `{}` | {} | `{}` | {} |\n", child.key, child_type, child.default_text, child.doc);
    }
  }
  return out;
}

}  // namespace ff::config
