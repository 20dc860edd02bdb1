// glibc malloc settings for large, short-lived tensors.
#include "src/util/allocator.h"

#include <malloc.h>

namespace ff {

void tune_allocator() {
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

}  // namespace ff
