// Process-wide allocator tuning for LibTorch on CPU.
#pragma once

namespace ff {

// Keeps freed large blocks in the heap instead of returning them to the kernel. glibc serves
// blocks above its mmap threshold with fresh mmap()s, so every large activation tensor costs
// page faults; measured on mbf at batch 64: eval 28 -> 72 img/s, training 16.5 -> 20 img/s.
// Call once at start-up, before the first tensor is allocated.
void tune_allocator();

}  // namespace ff
