// NumPy .npy files of [N, D] float features: `faceforge eval --features` reads them from any
// framework, `--save-features` writes them. No torch here, so the CLI and tests can use it cheaply.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ff {

// A 2-D float matrix in C (row-major) order: element (i, j) is data[i * cols + j].
struct NpyMatrix {
  std::int64_t rows = 0, cols = 0;
  std::vector<float> data;
  std::string dtype;  // as stored in the file: "float32" or "float16" (float16 is widened exactly)
};

// Reads a 2-D float32 or float16 array saved by np.save (format versions 1.0, 2.0 and 3.0).
//   descr          '<f4' '>f4' '<f2' '>f2'; '=', '|' or no byte-order mark mean this machine's order,
//                  as np.load reads them
//   fortran_order  True is transposed into C order
//   header         parsed as the Python dict literal it is (keys in any order, either quote, spaces,
//                  trailing commas, Python 2's 10L integers); other keys are refused, as np.load does
//   data           may start at any offset (new files align it to 64 bytes, old ones to 16); it must
//                  hold exactly rows * cols items: a short file or bytes after the data are errors
// Zero rows or columns are allowed; the caller decides whether an empty matrix is acceptable.
// Throws ff::Error naming the file and what was expected vs found (bad magic, unsupported version,
// unparsable header, another dtype such as '<f8' (float64), not 2-D, truncated data).
//   NpyMatrix features = read_npy_matrix("ijbc_r100.npy");  // features.rows x features.cols
NpyMatrix read_npy_matrix(const std::filesystem::path& path);

// Writes data (rows x cols floats, C order) as a version 1.0 '<f4' C-order .npy file whose data
// starts at a multiple of 64 bytes, through a temp file and a rename (src/util/atomic_file.h).
// data may be null only when rows * cols == 0. np.load(path) returns a float32 [rows, cols] array.
void write_npy_matrix(const std::filesystem::path& path, const float* data, std::int64_t rows,
                      std::int64_t cols);

// IEEE 754 binary16 bits -> the float with exactly that value: subnormals become normal floats,
// ±0 and ±inf keep their sign, a NaN stays a NaN with the same sign and payload.
float half_to_float(std::uint16_t bits);

}  // namespace ff
