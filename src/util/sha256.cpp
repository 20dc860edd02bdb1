// SHA-256 through OpenSSL's EVP interface (libcrypto): a maintained, audited implementation rather than our own.
#include "src/util/sha256.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "src/util/error.h"

namespace ff {

std::string sha256_file(const std::filesystem::path& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) fail("cannot read {}: {}", path.string(), std::strerror(errno));
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) fail("cannot start a SHA-256 digest");
  std::vector<unsigned char> block(1 << 20);
  while (std::size_t got = std::fread(block.data(), 1, block.size(), file.get())) {
    if (EVP_DigestUpdate(ctx.get(), block.data(), got) != 1) fail("SHA-256 of {} failed", path.string());
  }
  if (std::ferror(file.get())) fail("cannot read {}: {}", path.string(), std::strerror(errno));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest, &size) != 1) fail("SHA-256 of {} failed", path.string());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

}  // namespace ff
