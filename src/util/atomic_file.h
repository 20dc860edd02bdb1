// Crash-safe writes: everything that matters is written to a temp file beside the target, then renamed.
#pragma once
#include <filesystem>
#include <functional>
#include <string>

namespace ff {

// Calls write(temp_path) to produce the file, flushes it to disk, then renames it onto `path`.
// A crash at any point leaves either the old file or the new one, never a partial file.
void write_atomically(const std::filesystem::path& path,
                      const std::function<void(const std::filesystem::path& temp_path)>& write);

// Convenience form for in-memory content.
void write_file_atomically(const std::filesystem::path& path, const std::string& content);

std::string read_file(const std::filesystem::path& path);

}  // namespace ff
