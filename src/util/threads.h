// How many threads this process computes with: LibTorch's and the BLAS library's, kept equal.
#pragma once

namespace ff {

// Cores this machine reports (at least 1).
int cores();

// Sets LibTorch's intra-op threads and, when the BLAS that LibTorch loaded is OpenBLAS, its
// threads too. Debian's LibTorch calls BLAS through the generic libblas.so.3, so
// torch::set_num_threads leaves OpenBLAS at one thread per core; with two ranks on two cores
// those idle threads spin beside the other rank's and slowed the 1M-class sampled head from
// 2.1 s to 2.8 s per step.
void set_compute_threads(int threads);

}  // namespace ff
