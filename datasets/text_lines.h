// Line-oriented text lists (IJB meta files, LFW/CALFW/RFW pair lists): a whole file in memory, its
// non-blank lines with their numbers, whitespace fields, and numbers parsed with file:line errors.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace ff::datasets {

// The file's bytes, read with one fread into a buffer sized from the file (a stringstream would
// hold IJB-C's 250 MB pair file twice). Throws ff::Error naming the file.
std::string read_whole_file(const std::filesystem::path& path);

// `'text'` for messages, cut at 100 characters: a binary file handed in by mistake has no newlines.
std::string quoted(std::string_view text);

// A file in memory yielding its non-blank lines (CR stripped) with 1-based line numbers.
class TextFile {
 public:
  explicit TextFile(const std::filesystem::path& path);
  bool next(std::string_view& line);
  const std::string& name() const { return name_; }
  int64_t line() const { return line_; }
  // An upper bound on the records, for reserving: one memchr-speed pass instead of regrowing vectors.
  size_t count_lines() const;

 private:
  std::string name_;
  std::string text_;
  size_t pos_ = 0;
  int64_t line_ = 0;
};

// Splits on runs of spaces and tabs into at most `max` views and returns the real field count, so
// a line with too many fields is reported with its count.
size_t split_fields(std::string_view line, std::string_view* fields, size_t max);

// `field` as a whole integer / finite float; otherwise ff::Error "FILE:LINE: expected an integer
// WHAT, found 'FIELD'" at the file's current line.
int64_t parse_integer(const TextFile& file, std::string_view field, const char* what);
float parse_real(const TextFile& file, std::string_view field, const char* what);

}  // namespace ff::datasets
