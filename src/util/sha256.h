// SHA-256 of a file, for provenance: a features file evaluated without a run is recorded by its digest.
#pragma once
#include <filesystem>
#include <string>

namespace ff {

// Lowercase hex digest of the file's bytes (the same as `sha256sum`), read in 1 MiB blocks.
// Throws ff::Error naming the file when it cannot be read.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace ff
