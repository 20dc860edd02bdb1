// glibc malloc settings for large, short-lived tensors.
#include "src/util/allocator.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace ff {

void tune_allocator() {
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, -1);  // never: a training step frees and reallocates gigabytes each time
}

namespace {

constexpr const char* kTunable = "glibc.malloc.hugetlb=1";

// The kernel's THP mode allows madvised huge pages ("always" or "madvise").
bool kernel_allows_huge_pages() {
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  return std::getline(thp, modes) && modes.find("[never]") == std::string::npos;
}

}  // namespace

bool huge_pages_in_use() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  return tunables && std::strstr(tunables, kTunable) && kernel_allows_huge_pages();
}

void use_huge_pages(char** argv) {
  if (const char* opt = std::getenv("FF_HUGE_PAGES"); opt && std::strcmp(opt, "0") == 0) return;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables && std::strstr(tunables, "glibc.malloc.hugetlb")) return;  // set (by us, or by the user)
  if (!kernel_allows_huge_pages()) return;
  const std::string value = tunables && *tunables ? std::string(tunables) + ":" + kTunable : std::string(kTunable);
  ::setenv("GLIBC_TUNABLES", value.c_str(), 1);
  ::execv("/proc/self/exe", argv);
  // Still here: exec failed; carry on with ordinary pages (children inherit the tunable).
}

}  // namespace ff
