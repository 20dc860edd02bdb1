// Whole-file line reading and field parsing shared by the benchmark list readers.
#include "datasets/text_lines.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "src/util/error.h"

namespace ff::datasets {

namespace fs = std::filesystem;

std::string read_whole_file(const fs::path& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) fail("cannot open {}: {}", path.string(), std::strerror(errno));
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) fail("cannot read the size of {}: {}", path.string(), ec.message());
  std::string text(size, '\0');
  if (size > 0 && std::fread(text.data(), 1, size, file.get()) != size) {
    fail("cannot read {}: expected {} bytes, got fewer ({})", path.string(), size, std::strerror(errno));
  }
  return text;
}

std::string quoted(std::string_view text) {
  constexpr size_t kMax = 100;
  if (text.size() <= kMax) return fmt::format("'{}'", text);
  return fmt::format("'{}...'", text.substr(0, kMax));
}

TextFile::TextFile(const fs::path& path) : name_(path.string()), text_(read_whole_file(path)) {}

bool TextFile::next(std::string_view& line) {
  while (pos_ < text_.size()) {
    size_t end = text_.find('\n', pos_);
    if (end == std::string::npos) end = text_.size();
    std::string_view candidate(text_.data() + pos_, end - pos_);
    pos_ = end + 1;
    ++line_;
    if (!candidate.empty() && candidate.back() == '\r') candidate.remove_suffix(1);
    if (candidate.find_first_not_of(" \t") == std::string_view::npos) continue;
    line = candidate;
    return true;
  }
  return false;
}

size_t TextFile::count_lines() const {
  return static_cast<size_t>(std::count(text_.begin(), text_.end(), '\n')) + 1;
}

size_t split_fields(std::string_view line, std::string_view* fields, size_t max) {
  size_t count = 0;
  size_t i = 0;
  while (true) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i == line.size()) return count;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (count < max) fields[count] = line.substr(start, i - start);
    ++count;
  }
}

int64_t parse_integer(const TextFile& file, std::string_view field, const char* what) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (ec != std::errc() || end != field.data() + field.size()) {
    fail("{}:{}: expected an integer {}, found '{}'", file.name(), file.line(), what, field);
  }
  return value;
}

float parse_real(const TextFile& file, std::string_view field, const char* what) {
  float value = 0.0f;
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (ec != std::errc() || end != field.data() + field.size() || !std::isfinite(value)) {
    fail("{}:{}: expected a finite number for {}, found '{}'", file.name(), file.line(), what, field);
  }
  return value;
}

}  // namespace ff::datasets
