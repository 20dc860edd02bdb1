// Progress reporting for long work: one refreshing line on a terminal, plain lines otherwise,
// and JSON lines for machines.
#pragma once
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace ff {

// Appends one JSON object per line to a file (flushed per line so a crash loses at most one line).
class JsonLines {
 public:
  JsonLines() = default;
  explicit JsonLines(const std::filesystem::path& path);
  void write(const nlohmann::json& record);
  bool is_open() const { return out_.is_open(); }

 private:
  std::ofstream out_;
};

// Prints `text` over the current line on a TTY (carriage return), or as its own line otherwise.
class ProgressLine {
 public:
  explicit ProgressLine(std::FILE* stream = stdout);
  void update(const std::string& text);
  void finish();  // ends the refreshing line so following output starts cleanly
  bool interactive() const { return interactive_; }

 private:
  std::FILE* stream_;
  bool interactive_;
  bool open_ = false;
};

// "1h02m", "3m07s", "12s": compact durations for ETA fields.
std::string format_duration(double seconds);

}  // namespace ff
