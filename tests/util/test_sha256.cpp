// sha256_file against coreutils' sha256sum and the published digest of the empty input.
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <unistd.h>

#include "src/util/error.h"
#include "src/util/sha256.h"

namespace fs = std::filesystem;

namespace {
std::string sha256sum(const fs::path& file) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(("sha256sum '" + file.string() + "'").c_str(), "r"), &pclose);
  std::array<char, 65> hex{};
  REQUIRE(pipe);
  REQUIRE(std::fread(hex.data(), 1, 64, pipe.get()) == 64);
  return std::string(hex.data(), 64);
}
}  // namespace

TEST_CASE("sha256_file equals sha256sum over several 1 MiB blocks and the empty-file digest", "[util]") {
  const fs::path dir = fs::temp_directory_path() / ("ff_sha256_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path empty = dir / "empty", big = dir / "big.bin";
  std::ofstream(empty).close();
  {
    std::ofstream out(big, std::ios::binary);
    for (std::uint32_t i = 0; i < 2500000u; ++i) out.put(static_cast<char>((i * 7919u) >> 3));
  }
  CHECK(ff::sha256_file(empty) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(ff::sha256_file(big) == sha256sum(big));
  CHECK_THROWS_WITH(ff::sha256_file(dir / "missing"), Catch::Contains("cannot read") && Catch::Contains("missing"));
  fs::remove_all(dir);
}
