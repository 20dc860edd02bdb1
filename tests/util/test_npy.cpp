// Checks src/util/npy.cpp against NumPy itself: fixtures are written by Debian's /usr/bin/python3 at
// test time, and NumPy loads what the C++ writer wrote.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "src/util/atomic_file.h"
#include "src/util/error.h"
#include "src/util/npy.h"
#include "support.h"

namespace {
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

// The Python side. Matrix values come from one formula both languages evaluate exactly the same way
// (an integer pattern divided in double precision, then rounded once to the stored type), so neither
// side needs the other's reader to know what the file should hold.
constexpr const char* kHelperScript = R"PY(
import os, struct, sys
import numpy as np

def formula(rows, cols, divisor):
    i = np.arange(rows, dtype=np.int64).reshape(-1, 1)
    j = np.arange(cols, dtype=np.int64).reshape(1, -1)
    return ((i * 37 + j * 11) % 97 - 48) / float(divisor)

# float16 cells covering every class of value: subnormals (smallest, largest, negative), the
# largest finite half, infinities, NaN and negative zero. The rest is formula(.., 8), exact in half.
SPECIALS16 = {(0, 0): 2.0 ** -24, (0, 1): -(2.0 ** -20), (1, 0): 65504.0, (1, 1): float('inf'),
              (2, 0): float('-inf'), (2, 1): float('nan'), (3, 0): -0.0, (3, 1): 1023 * 2.0 ** -24}

def halves(rows, cols):
    values = formula(rows, cols, 8)
    for (i, j), v in SPECIALS16.items():
        values[i, j] = v
    return values.astype(np.float16)

def raw_file(path, header_text, data, version=(1, 0)):
    header = header_text.encode('latin1')
    length = struct.pack('<H' if version[0] == 1 else '<I', len(header))
    with open(path, 'wb') as f:
        f.write(b'\x93NUMPY' + bytes(version) + length + header + data)

def padded(text, align):
    # Spaces, then the newline, so the data starts at a multiple of `align` (v1.0 preamble is 10 bytes).
    return text + ' ' * ((align - (10 + len(text) + 1) % align) % align) + '\n'

def must_fail_in_numpy(path):
    try:
        np.load(path)
    except Exception:
        return
    sys.exit('numpy loaded %s, but the fixture is meant to be broken' % path)

def header_of(path):
    with open(path, 'rb') as f:
        version = np.lib.format.read_magic(f)
        shape, fortran, dtype = np.lib.format._read_array_header(f, version)
        return version, shape, fortran, dtype.str, f.tell()

command, folder = sys.argv[1], sys.argv[2]
p = lambda name: os.path.join(folder, name)
if command == 'fixtures':
    base = formula(7, 5, 7).astype(np.float32)
    np.save(p('c_f4.npy'), base)
    np.save(p('big_f4.npy'), base.astype('>f4'))
    np.save(p('fortran_f4.npy'), np.asfortranarray(base))
    np.save(p('big_fortran_f4.npy'), np.asfortranarray(base.astype('>f4')))
    with open(p('v2_f4.npy'), 'wb') as f:
        np.lib.format.write_array(f, base, version=(2, 0))
    with open(p('v3_f4.npy'), 'wb') as f:
        np.lib.format.write_array(f, np.asfortranarray(base), version=(3, 0))
    np.save(p('one_row.npy'), formula(1, 5, 7).astype(np.float32))
    np.save(p('empty_rows.npy'), np.zeros((0, 5), np.float32))
    half = halves(7, 5)
    np.save(p('c_f2.npy'), half)
    np.save(p('big_f2.npy'), half.astype('>f2'))
    np.save(p('fortran_f2.npy'), np.asfortranarray(half))
    np.save(p('big_fortran_f2.npy'), np.asfortranarray(half.astype('>f2')))
    expected = {'c_f4': ((1, 0), False, '<f4'), 'big_f4': ((1, 0), False, '>f4'),
                'fortran_f4': ((1, 0), True, '<f4'), 'big_fortran_f4': ((1, 0), True, '>f4'),
                'v2_f4': ((2, 0), False, '<f4'), 'v3_f4': ((3, 0), True, '<f4'),
                'c_f2': ((1, 0), False, '<f2'), 'big_f2': ((1, 0), False, '>f2'),
                'fortran_f2': ((1, 0), True, '<f2'), 'big_fortran_f2': ((1, 0), True, '>f2')}
    for name, (version, fortran, descr) in expected.items():
        got = header_of(p(name + '.npy'))
        if got[0] != version or got[2] != fortran or got[3] != descr:
            sys.exit('fixture %s has header %r, expected %r' % (name, got, (version, fortran, descr)))
    print('ok')
elif command == 'all_halves':
    bits = np.arange(65536, dtype=np.uint32).astype('<u2').reshape(256, 256)
    np.save(p('all_halves.npy'), bits.view('<f2'))
    bits.view('<f2').astype('<f4').tofile(p('all_halves.f32'))
    print('ok')
elif command == 'handwritten':
    base = formula(7, 5, 7).astype('<f4')
    cases = {
        'reordered': (padded('{ "shape" : ( 7 , 5 , ) ,"fortran_order":False,  "descr":"<f4" ,}', 16), base, 'C'),
        'python2': (padded("{'descr': '<f4', 'fortran_order': False, 'shape': (7L, 5L), }", 16), base, 'C'),
        'pipe_mark': (padded("{'descr': '|f4', 'fortran_order': False, 'shape': (7, 5)}", 64), base, 'C'),
        'equals_mark': (padded("{'descr': '=f4', 'fortran_order': False, 'shape': (7, 5)}", 64), base, 'C'),
        'no_mark': (padded("{'descr': 'f4', 'fortran_order': False, 'shape': (7, 5)}", 64), base, 'C'),
        'unaligned': ("{'descr':'<f4','fortran_order':False,'shape':(7,5)}\n", base, 'C'),
        'fortran_column': (padded("{'descr': '<f4', 'fortran_order': True, 'shape': (7, 1), }", 64),
                           base[:, :1].copy(), 'F'),
        'fortran_row': (padded("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 5), }", 64),
                        base[:1, :].copy(), 'F'),
    }
    for name, (header, array, order) in cases.items():
        path = p(name + '.npy')
        raw_file(path, header, array.tobytes(order=order))
        loaded = np.load(path)
        if loaded.dtype != np.float32 or not np.array_equal(loaded, array):
            sys.exit('numpy reads %s differently: %r' % (name, loaded))
    if (10 + len(cases['unaligned'][0])) % 4 == 0:
        sys.exit('the unaligned fixture is aligned')
    print('ok')
elif command == 'bad':
    np.save(p('f8.npy'), formula(3, 4, 7))
    np.save(p('i8.npy'), np.arange(12, dtype='<i8').reshape(3, 4))
    np.save(p('vector.npy'), np.arange(5, dtype=np.float32))
    np.save(p('cube.npy'), np.zeros((2, 3, 4), np.float32))
    np.save(p('record.npy'), np.zeros(3, dtype=[('a', '<f4'), ('b', '<f4')]))
    np.save(p('truncated.npy'), formula(4, 3, 7).astype(np.float32))
    with open(p('truncated.npy'), 'r+b') as f:
        f.truncate(os.path.getsize(p('truncated.npy')) - 5)
    must_fail_in_numpy(p('truncated.npy'))
    with open(p('two_arrays.npy'), 'wb') as f:
        np.save(f, np.ones((2, 3), np.float32))
        np.save(f, np.arange(2))
    with open(p('text.npy'), 'wb') as f:
        f.write(b'hello, not numpy\n')
    must_fail_in_numpy(p('text.npy'))
    with open(p('archive.npy'), 'wb') as f:
        np.savez(f, features=np.ones((2, 3), np.float32))
    open(p('empty.npy'), 'wb').close()
    header = padded("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", 64)
    raw_file(p('version4.npy'), header, bytes(48), version=(4, 0))
    must_fail_in_numpy(p('version4.npy'))
    raw_file(p('garbage_header.npy'), padded("{'descr': '<f4', 'fortran_order': False 'shape': (3, 4)}", 64), bytes(48))
    must_fail_in_numpy(p('garbage_header.npy'))
    with open(p('short_header.npy'), 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', 200) + b"{'descr': '<f4', ")
    must_fail_in_numpy(p('short_header.npy'))
    print('ok')
elif command == 'verify':
    for shape in sys.argv[3:]:
        rows, cols = map(int, shape.split('x'))
        path = p('written-%s.npy' % shape)
        version, header_shape, fortran, descr, data_start = header_of(path)
        if (version, header_shape, fortran, descr) != ((1, 0), (rows, cols), False, '<f4'):
            sys.exit('%s: header is %r' % (shape, (version, header_shape, fortran, descr)))
        if data_start % 64 != 0:
            sys.exit('%s: data starts at byte %d, not a multiple of 64' % (shape, data_start))
        if os.path.getsize(path) != data_start + 4 * rows * cols:
            sys.exit('%s: file has %d bytes, expected %d' % (shape, os.path.getsize(path), data_start + 4 * rows * cols))
        loaded = np.load(path)
        expected = formula(rows, cols, 7).astype(np.float32)
        if rows >= 2 and cols >= 4:
            expected[0, :4] = [np.inf, -np.inf, np.nan, -0.0]
            expected[1, 0] = 2.0 ** -149
            expected[1, 1] = np.finfo(np.float32).max
        if loaded.dtype != np.float32 or loaded.shape != (rows, cols):
            sys.exit('%s: loaded %s %r' % (shape, loaded.dtype, loaded.shape))
        if not np.array_equal(loaded, expected, equal_nan=True) or \
                not np.array_equal(np.signbit(loaded), np.signbit(expected)):
            bad = np.argwhere(~((loaded == expected) | (np.isnan(loaded) & np.isnan(expected))))
            sys.exit('%s: values differ at %r' % (shape, bad[:5].tolist()))
        print('ok', shape, data_start)
else:
    sys.exit('unknown command ' + command)
)PY";

using ff::test::TempDir;

// Runs the helper script with `args`; the test fails unless Python exits 0.
std::string run_python(const TempDir& dir, const std::vector<std::string>& args) {
  REQUIRE(fs::exists(ff::test::python()));
  const ff::test::CommandResult result = ff::test::run_python_script(dir, kHelperScript, args);
  INFO("python " << args.at(0) << " said: " << result.output);
  REQUIRE(result.exit_code == 0);
  return result.output;
}

// The same formula as the script's formula(rows, cols, divisor), rounded once to float.
float formula(std::int64_t i, std::int64_t j, double divisor) {
  return static_cast<float>(static_cast<double>((i * 37 + j * 11) % 97 - 48) / divisor);
}

// The script's SPECIALS16 over formula(.., 8).
float half_fixture(std::int64_t i, std::int64_t j) {
  static const std::map<std::pair<std::int64_t, std::int64_t>, float> specials = {
      {{0, 0}, std::ldexp(1.0f, -24)},
      {{0, 1}, -std::ldexp(1.0f, -20)},
      {{1, 0}, 65504.0f},
      {{1, 1}, std::numeric_limits<float>::infinity()},
      {{2, 0}, -std::numeric_limits<float>::infinity()},
      {{2, 1}, std::numeric_limits<float>::quiet_NaN()},
      {{3, 0}, -0.0f},
      {{3, 1}, 1023 * std::ldexp(1.0f, -24)},
  };
  auto it = specials.find({i, j});
  return it != specials.end() ? it->second : formula(i, j, 8);
}

// Same bits, except that any NaN matches any NaN (NumPy and we may differ in the payload's quiet bit).
bool same_value(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b);
}

void require_matrix(const ff::NpyMatrix& m, std::int64_t rows, std::int64_t cols, const std::string& dtype,
                    const std::function<float(std::int64_t, std::int64_t)>& expected) {
  REQUIRE(m.rows == rows);
  REQUIRE(m.cols == cols);
  REQUIRE(m.dtype == dtype);
  REQUIRE(m.data.size() == static_cast<std::size_t>(rows * cols));
  int mismatches = 0;
  std::string first;
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t j = 0; j < cols; ++j) {
      float got = m.data[static_cast<std::size_t>(i * cols + j)];
      if (!same_value(got, expected(i, j))) {
        if (mismatches++ == 0) first = fmt::format("({}, {}): read {}, expected {}", i, j, got, expected(i, j));
      }
    }
  }
  INFO("first mismatch at " << first);
  REQUIRE(mismatches == 0);
}

}  // namespace

TEST_CASE("npy float32 and float16 files saved by numpy read back value by value", "[util]") {
  TempDir dir("npy");
  run_python(dir, {"fixtures", dir.path().string()});
  auto f4 = [](std::int64_t i, std::int64_t j) { return formula(i, j, 7); };
  for (const std::string name : {"c_f4", "big_f4", "fortran_f4", "big_fortran_f4", "v2_f4", "v3_f4"}) {
    INFO("fixture " << name);
    require_matrix(ff::read_npy_matrix(dir / (name + ".npy")), 7, 5, "float32", f4);
  }
  for (const std::string name : {"c_f2", "big_f2", "fortran_f2", "big_fortran_f2"}) {
    INFO("fixture " << name);
    require_matrix(ff::read_npy_matrix(dir / (name + ".npy")), 7, 5, "float16", half_fixture);
  }
  require_matrix(ff::read_npy_matrix(dir / "one_row.npy"), 1, 5, "float32", f4);
  require_matrix(ff::read_npy_matrix(dir / "empty_rows.npy"), 0, 5, "float32", f4);
}

TEST_CASE("every float16 bit pattern widens exactly as numpy astype float32 does", "[util]") {
  TempDir dir("npy");
  run_python(dir, {"all_halves", dir.path().string()});
  ff::NpyMatrix m = ff::read_npy_matrix(dir / "all_halves.npy");
  REQUIRE(m.rows == 256);
  REQUIRE(m.cols == 256);
  REQUIRE(m.dtype == "float16");
  const std::string raw = ff::read_file(dir / "all_halves.f32");
  REQUIRE(raw.size() == 65536 * 4);
  int mismatches = 0, nans = 0, subnormals = 0;
  for (std::uint32_t bits = 0; bits < 65536; ++bits) {
    std::uint32_t want = 0;
    for (int b = 3; b >= 0; --b) want = want << 8 | static_cast<unsigned char>(raw[bits * 4 + b]);
    float expected = std::bit_cast<float>(want);
    nans += std::isnan(expected);
    subnormals += (bits & 0x7c00u) == 0 && (bits & 0x3ffu) != 0;
    if (!same_value(m.data[bits], expected) || !same_value(ff::half_to_float(static_cast<std::uint16_t>(bits)), expected)) {
      if (mismatches++ < 5) UNSCOPED_INFO("half 0x" << std::hex << bits << ": numpy gives 0x" << want);
    }
  }
  CHECK(mismatches == 0);
  CHECK(nans == 2 * 1023);
  CHECK(subnormals == 2 * 1023);
}

TEST_CASE("hand-written npy headers that np.load accepts read the same in C++", "[util]") {
  TempDir dir("npy");
  run_python(dir, {"handwritten", dir.path().string()});
  auto f4 = [](std::int64_t i, std::int64_t j) { return formula(i, j, 7); };
  for (const std::string name : {"reordered", "python2", "pipe_mark", "equals_mark", "no_mark", "unaligned"}) {
    INFO("fixture " << name);
    require_matrix(ff::read_npy_matrix(dir / (name + ".npy")), 7, 5, "float32", f4);
  }
  require_matrix(ff::read_npy_matrix(dir / "fortran_column.npy"), 7, 1, "float32", f4);
  require_matrix(ff::read_npy_matrix(dir / "fortran_row.npy"), 1, 5, "float32", f4);
}

TEST_CASE("npy files from write_npy_matrix load in numpy with the same values", "[util]") {
  TempDir dir("npy");
  // Shapes whose header text differs in length, so the padding to 64 bytes differs too.
  const std::vector<std::pair<std::int64_t, std::int64_t>> shapes = {{3, 4}, {1, 1}, {0, 512}, {1000, 128}, {12345, 3}};
  std::vector<std::string> args = {"verify", dir.path().string()};
  std::vector<std::vector<float>> written;
  for (const auto& [rows, cols] : shapes) {
    std::vector<float> values(static_cast<std::size_t>(rows * cols));
    for (std::int64_t i = 0; i < rows; ++i) {
      for (std::int64_t j = 0; j < cols; ++j) values[static_cast<std::size_t>(i * cols + j)] = formula(i, j, 7);
    }
    if (rows >= 2 && cols >= 4) {
      values[0] = std::numeric_limits<float>::infinity();
      values[1] = -std::numeric_limits<float>::infinity();
      values[2] = std::numeric_limits<float>::quiet_NaN();
      values[3] = -0.0f;
      values[static_cast<std::size_t>(cols)] = std::numeric_limits<float>::denorm_min();
      values[static_cast<std::size_t>(cols) + 1] = std::numeric_limits<float>::max();
    }
    const std::string shape = fmt::format("{}x{}", rows, cols);
    ff::write_npy_matrix(dir / ("written-" + shape + ".npy"), values.data(), rows, cols);
    args.push_back(shape);
    written.push_back(std::move(values));
  }
  // One interpreter for all shapes: starting Python with numpy costs more than the checks.
  std::string said = run_python(dir, args);
  for (std::size_t k = 0; k < shapes.size(); ++k) {
    const auto [rows, cols] = shapes[k];
    const std::string shape = fmt::format("{}x{}", rows, cols);
    INFO("shape " << shape);
    CHECK_THAT(said, Contains("ok " + shape + " "));
    const std::vector<float>& values = written[k];
    require_matrix(ff::read_npy_matrix(dir / ("written-" + shape + ".npy")), rows, cols, "float32",
                   [&](std::int64_t i, std::int64_t j) { return values[static_cast<std::size_t>(i * cols + j)]; });
  }
  std::size_t leftovers = 0;  // the atomic write renamed its temp files away
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    leftovers += entry.path().filename().string().find(".tmp.") != std::string::npos;
  }
  CHECK(leftovers == 0);
}

TEST_CASE("npy files that are not float32 or float16 matrices are refused naming dtype or shape", "[util]") {
  TempDir dir("npy");
  run_python(dir, {"bad", dir.path().string()});
  auto path = [&](const std::string& name) { return (dir / name).string(); };
  CHECK_THROWS_WITH(ff::read_npy_matrix(path("f8.npy")),
                    Contains(path("f8.npy")) && Contains("'<f8' (float64)") && Contains("astype('float32')"));
  CHECK_THROWS_WITH(ff::read_npy_matrix(path("i8.npy")), Contains("'<i8' (int64)") && Contains("float32 or float16"));
  CHECK_THROWS_WITH(ff::read_npy_matrix(path("vector.npy")),
                    Contains(path("vector.npy")) && Contains("[N, D]") && Contains("1-D shape (5,)"));
  CHECK_THROWS_WITH(ff::read_npy_matrix(path("cube.npy")), Contains("[N, D]") && Contains("3-D shape (2, 3, 4)"));
  CHECK_THROWS_WITH(ff::read_npy_matrix(path("record.npy")), Contains("structured dtype") && Contains("'a'"));
}

TEST_CASE("truncated, corrupt or foreign npy files are refused naming the file", "[util]") {
  TempDir dir("npy");
  run_python(dir, {"bad", dir.path().string()});
  auto path = [&](const std::string& name) { return (dir / name).string(); };
  // 4 x 3 float32 is 48 bytes; the fixture lost its last 5.
  CHECK_THROWS_WITH(ff::read_npy_matrix(path("truncated.npy")),
                    Contains(path("truncated.npy")) && Contains("truncated") && Contains("needs 48 bytes") &&
                        Contains("found 43"));
  CHECK_THROWS_WITH(ff::read_npy_matrix(path("two_arrays.npy")),
                    Contains(path("two_arrays.npy")) && Contains("unexpected bytes after the data"));
  CHECK_THROWS_WITH(ff::read_npy_matrix(path("text.npy")),
                    Contains(path("text.npy")) && Contains("magic") && Contains("found 'hello, n'"));
  CHECK_THROWS_WITH(ff::read_npy_matrix(path("archive.npy")), Contains("magic") && Contains("np.savez"));
  CHECK_THROWS_WITH(ff::read_npy_matrix(path("empty.npy")), Contains(path("empty.npy")) && Contains("found ''"));
  CHECK_THROWS_WITH(ff::read_npy_matrix(path("version4.npy")),
                    Contains(path("version4.npy")) && Contains("version 4.0"));
  CHECK_THROWS_WITH(ff::read_npy_matrix(path("garbage_header.npy")),
                    Contains(path("garbage_header.npy")) && Contains("cannot parse the .npy header at character") &&
                        Contains("found ''shape'"));
  CHECK_THROWS_WITH(ff::read_npy_matrix(path("short_header.npy")),
                    Contains("truncated .npy header") && Contains("expected 200 header bytes, found 17"));
  CHECK_THROWS_WITH(ff::read_npy_matrix(path("missing.npy")), Contains("cannot open " + path("missing.npy")));
}

TEST_CASE("write_npy_matrix refuses negative shapes and missing data without creating a file", "[util]") {
  TempDir dir("npy");
  const fs::path file = dir / "refused.npy";
  const float one = 1.0f;
  CHECK_THROWS_WITH(ff::write_npy_matrix(file, &one, -1, 1), Contains(file.string()) && Contains("(-1, 1)"));
  CHECK_THROWS_WITH(ff::write_npy_matrix(file, nullptr, 2, 3), Contains("no data"));
  CHECK_FALSE(fs::exists(file));
}
