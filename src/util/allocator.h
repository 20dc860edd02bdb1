// Process-wide allocator tuning for LibTorch on CPU.
#pragma once

namespace ff {

// Keeps freed large blocks in the heap instead of returning them to the kernel. glibc serves
// blocks above its mmap threshold with fresh mmap()s, and trims the heap's free top, so every
// large activation tensor would cost page faults again; measured on mbf at batch 64: eval 28 -> 72
// img/s, training 16.5 -> 20 img/s. Call once at start-up, before the first tensor is allocated.
void tune_allocator();

// Transparent huge pages for the heap: under the tunable glibc.malloc.hugetlb=1 (glibc >= 2.35)
// malloc advises its memory MADV_HUGEPAGE, which the kernel's THP "madvise" mode (Debian's default)
// backs with 2 MiB pages: ~100x fewer page faults and fewer TLB misses on 100-200 MB activations
// (r18 training at batch 64 on 2 cores: 13.5 -> 15.3 images/s). glibc reads tunables only when a
// program starts, so this adds the tunable to GLIBC_TUNABLES and re-executes the program once (same
// PID and arguments). Returns without doing anything when the tunable is already set, when
// FF_HUGE_PAGES=0, when the kernel's THP mode is "never", or when the re-execution fails.
void use_huge_pages(char** argv);

// Whether this process runs with huge pages (the tunable set and THP not "never"), for reports.
bool huge_pages_in_use();

}  // namespace ff
