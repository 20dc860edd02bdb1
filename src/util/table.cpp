// Column widths and alignment for text tables; CSV quoting.
#include "src/util/table.h"

#include <algorithm>
#include <cstdlib>

#include "src/util/error.h"

namespace ff {

namespace {

// Code points, not bytes: "±" and "×" count once.
std::size_t display_width(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

bool numeric(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end && (*end == '\0' || (*end == '%' && end[1] == '\0'));
}

}  // namespace

std::string format_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) width[c] = display_width(header[c]);
  for (const auto& row : rows) {
    if (row.size() != header.size()) fail("table row has {} cells, the header {}", row.size(), header.size());
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], display_width(row[c]));
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells, bool is_header) {
    std::string text;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const std::string pad(width[c] - display_width(cells[c]), ' ');
      const bool right = !is_header && numeric(cells[c]);
      if (c > 0) text += "  ";
      text += right ? pad + cells[c] : (c + 1 == cells.size() ? cells[c] : cells[c] + pad);
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  };
  line(header, true);
  std::vector<std::string> rule;
  for (std::size_t c = 0; c < header.size(); ++c) rule.push_back(std::string(width[c], '-'));
  line(rule, true);
  for (const auto& row : rows) line(row, false);
  return out;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace ff
