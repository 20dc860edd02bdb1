// Target specs and protocol detection from the files a benchmark ships with.
#include "src/eval/targets.h"

#include <algorithm>
#include <cctype>

#include "src/util/error.h"

namespace ff::eval {

namespace fs = std::filesystem;

const char* to_string(Protocol protocol) {
  switch (protocol) {
    case Protocol::verification_bin: return "bin";
    case Protocol::lfw: return "lfw";
    case Protocol::calfw: return "calfw";
    case Protocol::rfw: return "rfw";
    case Protocol::ijb: return "ijb";
  }
  return "?";
}

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string default_name(const fs::path& path, bool is_file) {
  fs::path p = path;
  if (p.filename().empty()) p = p.parent_path();  // "/data/IJBC/"
  return lower(is_file ? p.stem().string() : p.filename().string());
}

}  // namespace

Target parse_target(const std::string& spec) {
  Target target;
  std::string path = spec;
  if (auto eq = spec.find('='); eq != std::string::npos && eq > 0 && spec.substr(0, eq).find('/') == std::string::npos) {
    target.name = spec.substr(0, eq);
    path = spec.substr(eq + 1);
  }
  if (path.empty()) fail("eval target '{}': expected [name=]PATH, the path is empty", spec);
  target.path = path;
  std::error_code ec;
  if (!fs::exists(target.path, ec)) fail("eval target '{}': {} does not exist", spec, path);
  const bool is_file = fs::is_regular_file(target.path, ec);
  const std::string ext = lower(target.path.extension().string());
  if (is_file && ext == ".bin") {
    target.protocol = Protocol::verification_bin;
  } else if (is_file && ext == ".txt") {
    target.protocol = Protocol::calfw;
  } else if (!is_file && fs::is_regular_file(target.path / "pairs.txt", ec)) {
    target.protocol = Protocol::lfw;
  } else if (!is_file && fs::is_directory(target.path / "test" / "txts", ec)) {
    target.protocol = Protocol::rfw;
  } else if (!is_file && (fs::is_regular_file(target.path / "meta" / "ijbc_face_tid_mid.txt", ec) ||
                          fs::is_regular_file(target.path / "meta" / "ijbb_face_tid_mid.txt", ec))) {
    target.protocol = Protocol::ijb;
  } else {
    fail("eval target '{}': cannot tell the protocol of {}: expected a .bin pack, a CALFW/CPLFW .txt pair list, "
         "or a folder with pairs.txt (LFW), test/txts (RFW) or meta/ijb[bc]_face_tid_mid.txt (IJB)",
         spec, path);
  }
  if (target.name.empty()) target.name = default_name(target.path, is_file);
  return target;
}

std::string lookup_named(const std::vector<std::string>& entries, const std::string& name, const std::string& key) {
  for (const auto& entry : entries) {
    auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size())
      fail("{}: expected \"name=FILE\", got '{}'", key, entry);
    if (entry.compare(0, eq, name) == 0 && eq == name.size()) return entry.substr(eq + 1);
  }
  return {};
}

}  // namespace ff::eval
