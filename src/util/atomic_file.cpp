// Temp-file-and-rename writes, with fsync so the rename never exposes unflushed data.
#include "src/util/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "src/util/error.h"

namespace ff {
namespace fs = std::filesystem;

namespace {
void sync_path(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;  // best effort: some filesystems refuse opening directories
  ::fsync(fd);
  ::close(fd);
}
}  // namespace

void write_atomically(const fs::path& path, const std::function<void(const fs::path&)>& write) {
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  fs::create_directories(dir);
  fs::path temp = dir / (path.filename().string() + ".tmp." + std::to_string(::getpid()));
  try {
    write(temp);
  } catch (...) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw;
  }
  if (!fs::exists(temp)) fail("writing {}: the writer produced no file at {}", path.string(), temp.string());
  sync_path(temp);
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) fail("cannot rename {} to {}: {}", temp.string(), path.string(), ec.message());
  sync_path(dir);
}

void write_file_atomically(const fs::path& path, const std::string& content) {
  write_atomically(path, [&](const fs::path& temp) {
    std::ofstream out(temp, std::ios::binary);
    if (!out) fail("cannot write {}: {}", temp.string(), std::strerror(errno));
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) fail("cannot write {}: {}", temp.string(), std::strerror(errno));
  });
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open {}: {}", path.string(), std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace ff
