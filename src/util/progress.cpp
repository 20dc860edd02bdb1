// Progress line and JSON-lines writer.
#include "src/util/progress.h"

#include <unistd.h>

#include <cmath>

#include <fmt/format.h>

#include "src/util/error.h"

namespace ff {

JsonLines::JsonLines(const std::filesystem::path& path) : out_(path, std::ios::app) {
  if (!out_) fail("cannot open log file {}", path.string());
}

void JsonLines::write(const nlohmann::json& record) {
  if (!out_.is_open()) return;
  out_ << record.dump() << '\n';
  out_.flush();
}

ProgressLine::ProgressLine(std::FILE* stream) : stream_(stream), interactive_(::isatty(::fileno(stream)) != 0) {}

void ProgressLine::update(const std::string& text) {
  if (interactive_) {
    std::fprintf(stream_, "\r\033[K%s", text.c_str());
    open_ = true;
  } else {
    std::fprintf(stream_, "%s\n", text.c_str());
  }
  std::fflush(stream_);
}

void ProgressLine::finish() {
  if (interactive_ && open_) std::fprintf(stream_, "\n");
  open_ = false;
  std::fflush(stream_);
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  long s = std::lround(seconds);
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

}  // namespace ff
