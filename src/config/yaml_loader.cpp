// The only translation unit that touches yaml-cpp: YAML text -> config::Value trees with line numbers.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "src/config/schema.h"
#include "src/util/error.h"
#include "src/util/strings.h"

namespace ff::config {

namespace {

Value convert(const YAML::Node& node, const std::string& source) {
  Value v;
  v.origin = {source, node.Mark().line >= 0 ? node.Mark().line + 1 : 0};
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      v.kind = Value::Kind::Null;
      break;
    case YAML::NodeType::Scalar:
      v.kind = Value::Kind::Scalar;
      v.scalar = node.Scalar();
      v.quoted = node.Tag() == "!";  // yaml-cpp tags quoted scalars with "!"
      break;
    case YAML::NodeType::Sequence:
      v.kind = Value::Kind::Sequence;
      for (const auto& item : node) v.items.push_back(convert(item, source));
      break;
    case YAML::NodeType::Map:
      v.kind = Value::Kind::Map;
      for (const auto& kv : node) {
        std::string name = kv.first.Scalar();
        for (const auto& [seen, unused] : v.fields)
          if (seen == name)
            fail("{}:{}: duplicate key '{}'", source, kv.first.Mark().line + 1, name);
        Value child = convert(kv.second, source);
        if (child.origin.line == 0) child.origin.line = kv.first.Mark().line + 1;
        v.fields.emplace_back(name, std::move(child));
      }
      break;
  }
  return v;
}

Value parse(const std::string& text, const std::string& source) {
  try {
    return convert(YAML::Load(text), source);
  } catch (const YAML::Exception& e) {
    fail("{}:{}: YAML syntax error: {}", source, e.mark.line + 1, e.msg);
  }
}

}  // namespace

void load_yaml_text(const std::string& text, const std::string& source_name, Schema& schema) {
  schema.set_tree(parse(text, source_name));
}

void load_yaml_file(const std::string& path, Schema& schema) {
  if (!std::filesystem::exists(path)) fail("config file not found: {}", path);
  std::ifstream in(path);
  if (!in) fail("cannot open config file {}: {}", path, std::strerror(errno));
  std::stringstream buffer;
  buffer << in.rdbuf();
  load_yaml_text(buffer.str(), path, schema);
}

void apply_override(const std::string& assignment, Schema& schema) {
  auto eq = assignment.find('=');
  std::string origin = "--set " + assignment;
  if (eq == std::string::npos || eq == 0) fail("{}: expected key=value", origin);
  std::string key = trim(assignment.substr(0, eq));
  Value value = parse(assignment.substr(eq + 1), origin);
  // Parsed values carry line 1 of the override text; an override has no lines.
  std::function<void(Value&)> relabel = [&](Value& v) {
    v.origin = {origin, 0};
    for (auto& item : v.items) relabel(item);
    for (auto& [name, child] : v.fields) relabel(child);
  };
  relabel(value);
  schema.set(key, value);
}

}  // namespace ff::config
