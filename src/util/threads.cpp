// LibTorch and BLAS thread counts.
#include "src/util/threads.h"

#include <dlfcn.h>

#include <algorithm>
#include <thread>

#include <ATen/Parallel.h>

namespace ff {

int cores() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

void set_compute_threads(int threads) {
  threads = std::max(1, threads);
  at::set_num_threads(threads);
  // Looked up at run time: which BLAS libblas.so.3 is depends on Debian's alternatives.
  using SetThreads = void (*)(int);
  if (auto set_blas = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set_blas(threads);
}

}  // namespace ff
