// Reads and writes NumPy .npy feature matrices; the header is parsed as a Python literal, as np.load
// does, so hand-written and Python 2 era files read the same way they do in NumPy.
#include "src/util/npy.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "src/util/atomic_file.h"
#include "src/util/error.h"

namespace ff {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMagic = "\x93NUMPY";

// Bytes from a file quoted for a one-line message: printable ASCII as is, the rest as \xNN, cut at
// `limit` characters so a binary file or a huge header cannot flood the terminal.
std::string printable(std::string_view bytes, std::size_t limit = 160) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (out.size() >= limit) return out + fmt::format("... ({} bytes in all)", bytes.size());
    auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '\\') out += "\\\\";
    else if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
    else out += fmt::format("\\x{:02x}", c);
  }
  return out;
}

// The subset of Python literals a .npy header can hold. A dict keeps its keys and values
// alternating in `items` so that duplicates stay visible.
struct Literal {
  enum class Kind { Str, Int, Bool, None, Tuple, List, Dict };
  Kind kind = Kind::None;
  std::string text;          // Str
  std::int64_t integer = 0;  // Int
  bool boolean = false;      // Bool
  std::vector<Literal> items;
};

// Python's repr of a literal, for quoting shapes and values in messages the way the user wrote them.
std::string repr(const Literal& v) {
  switch (v.kind) {
    case Literal::Kind::Str: return "'" + printable(v.text) + "'";
    case Literal::Kind::Int: return std::to_string(v.integer);
    case Literal::Kind::Bool: return v.boolean ? "True" : "False";
    case Literal::Kind::None: return "None";
    case Literal::Kind::Tuple:
    case Literal::Kind::List: {
      bool tuple = v.kind == Literal::Kind::Tuple;
      std::string out = tuple ? "(" : "[";
      for (std::size_t i = 0; i < v.items.size(); ++i) out += (i ? ", " : "") + repr(v.items[i]);
      if (tuple && v.items.size() == 1) out += ",";
      return out + (tuple ? ")" : "]");
    }
    case Literal::Kind::Dict: {
      std::string out = "{";
      for (std::size_t i = 0; i + 1 < v.items.size(); i += 2) {
        out += (i ? ", " : "") + repr(v.items[i]) + ": " + repr(v.items[i + 1]);
      }
      return out + "}";
    }
  }
  return "?";
}

std::string kind_name(const Literal& v) {
  switch (v.kind) {
    case Literal::Kind::Str: return "a string";
    case Literal::Kind::Int: return "an integer";
    case Literal::Kind::Bool: return "a bool";
    case Literal::Kind::None: return "None";
    case Literal::Kind::Tuple: return "a tuple";
    case Literal::Kind::List: return "a list";
    case Literal::Kind::Dict: return "a dict";
  }
  return "?";
}

// Recursive descent over the header text. Accepts what ast.literal_eval accepts for these kinds
// (any spacing, either quote, trailing commas) plus Python 2's `10L`, which np.load also accepts.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const fs::path& path) : text_(text), path_(path) {}

  Literal parse() {
    skip_space();
    Literal value = parse_value(0);
    skip_space();
    if (pos_ != text_.size()) error("the end of the header after the dict");
    return value;
  }

 private:
  [[noreturn]] void error(std::string_view expected) const {
    std::string found = pos_ < text_.size() ? "'" + printable(text_.substr(pos_, 12), 40) + "'" : "the end";
    std::string_view shown = text_;  // without the alignment padding, which only adds noise
    while (!shown.empty() && (shown.back() == ' ' || shown.back() == '\n')) shown.remove_suffix(1);
    fail("{}: cannot parse the .npy header at character {}: expected {}, found {} (header: {})", path_.string(),
         pos_, expected, found, printable(shown));
  }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\f' || text_[pos_] == '\v')) {
      ++pos_;
    }
  }

  bool at(char c) const { return pos_ < text_.size() && text_[pos_] == c; }

  Literal parse_value(int depth) {
    // A real header nests at most a few levels (a structured descr); the cap keeps a hostile
    // "((((..." from exhausting the stack.
    if (depth > 32) error("at most 32 levels of nesting");
    if (pos_ >= text_.size()) error("a value");
    char c = text_[pos_];
    if (c == '{') return parse_dict(depth);
    if (c == '(' || c == '[') return parse_sequence(depth);
    if (c == '\'' || c == '"') return parse_string();
    if (c == '-' || c == '+' || (c >= '0' && c <= '9')) return parse_int();
    return parse_name();
  }

  Literal parse_dict(int depth) {
    Literal dict;
    dict.kind = Literal::Kind::Dict;
    ++pos_;
    for (;;) {
      skip_space();
      if (at('}')) break;
      dict.items.push_back(parse_value(depth + 1));
      skip_space();
      if (!at(':')) error("':' after a dict key");
      ++pos_;
      skip_space();
      dict.items.push_back(parse_value(depth + 1));
      skip_space();
      if (at(',')) {
        ++pos_;
        continue;
      }
      if (!at('}')) error("',' or '}' in the dict");
      break;
    }
    ++pos_;
    return dict;
  }

  // "(a)" is just a, "(a,)" and "()" are tuples, as in Python.
  Literal parse_sequence(int depth) {
    const bool tuple = text_[pos_] == '(';
    const char close = tuple ? ')' : ']';
    Literal seq;
    seq.kind = tuple ? Literal::Kind::Tuple : Literal::Kind::List;
    ++pos_;
    bool saw_comma = false;
    for (;;) {
      skip_space();
      if (at(close)) break;
      seq.items.push_back(parse_value(depth + 1));
      skip_space();
      if (at(',')) {
        ++pos_;
        saw_comma = true;
        continue;
      }
      if (!at(close)) error(tuple ? "',' or ')' in the tuple" : "',' or ']' in the list");
      break;
    }
    ++pos_;
    if (tuple && seq.items.size() == 1 && !saw_comma) return std::move(seq.items[0]);
    return seq;
  }

  Literal parse_string() {
    Literal s;
    s.kind = Literal::Kind::Str;
    const char quote = text_[pos_++];
    for (;;) {
      if (pos_ >= text_.size() || text_[pos_] == '\n') error(fmt::format("a closing {} quote", quote));
      char c = text_[pos_++];
      if (c == quote) break;
      if (c == '\\') {
        // Only the escapes a dtype string could need; anything fancier is not a float descr anyway.
        if (pos_ >= text_.size()) error("a character after '\\'");
        c = text_[pos_++];
      }
      s.text += c;
    }
    return s;
  }

  Literal parse_int() {
    Literal n;
    n.kind = Literal::Kind::Int;
    bool negative = text_[pos_] == '-';
    if (text_[pos_] == '-' || text_[pos_] == '+') ++pos_;
    std::size_t start = pos_;
    std::uint64_t magnitude = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      magnitude = magnitude * 10 + static_cast<std::uint64_t>(text_[pos_] - '0');
      if (magnitude > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        pos_ = start;
        error("an integer below 2^63");
      }
      ++pos_;
    }
    if (pos_ == start) error("digits");
    if (at('L') || at('l')) ++pos_;  // Python 2's long suffix
    if (at('.') || at('e') || at('E') || at('j') || at('x') || at('_')) error("an integer");
    n.integer = negative ? -static_cast<std::int64_t>(magnitude) : static_cast<std::int64_t>(magnitude);
    return n;
  }

  Literal parse_name() {
    std::size_t start = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) {
      ++pos_;
    }
    std::string_view name = text_.substr(start, pos_ - start);
    Literal v;
    if (name == "True" || name == "False") {
      v.kind = Literal::Kind::Bool;
      v.boolean = name == "True";
    } else if (name == "None") {
      v.kind = Literal::Kind::None;
    } else {
      pos_ = start;
      error("a string, integer, tuple, True, False or None");
    }
    return v;
  }

  std::string_view text_;
  const fs::path& path_;
  std::size_t pos_ = 0;
};

// The NumPy name of a descr like '<f8', for telling the user what they saved.
std::string describe_descr(const std::string& descr) {
  std::string_view rest = descr;
  if (!rest.empty() && std::string_view("<>=|").find(rest[0]) != std::string_view::npos) rest.remove_prefix(1);
  std::string name;
  if (!rest.empty()) {
    std::string_view size_text = rest.substr(1);
    int size = 0;
    bool numeric = !size_text.empty() && size_text.size() <= 4;
    for (char c : size_text) {
      if (c < '0' || c > '9') numeric = false;
      else size = size * 10 + (c - '0');
    }
    switch (rest[0]) {
      case 'f': if (numeric) name = fmt::format("float{}", size * 8); break;
      case 'i': if (numeric) name = fmt::format("int{}", size * 8); break;
      case 'u': if (numeric) name = fmt::format("uint{}", size * 8); break;
      case 'c': if (numeric) name = fmt::format("complex{}", size * 8); break;
      case 'b': name = "bool"; break;
      case 'U': name = "str"; break;
      case 'S': case 'a': name = "bytes"; break;
      case 'O': name = "object"; break;
      case 'V': name = "void"; break;
      case 'M': name = "datetime64"; break;
      case 'm': name = "timedelta64"; break;
      default: break;
    }
  }
  std::string quoted = "'" + printable(descr, 40) + "'";
  return name.empty() ? quoted : fmt::format("{} ({})", quoted, name);
}

struct Header {
  int item_size = 4;  // 4: float32, 2: float16
  bool big_endian = false;
  bool fortran_order = false;
  std::int64_t rows = 0, cols = 0;
};

Header interpret_header(const Literal& dict, const fs::path& path) {
  const std::string file = path.string();
  if (dict.kind != Literal::Kind::Dict) {
    fail("{}: the .npy header is {}, expected a dict with 'descr', 'fortran_order' and 'shape'", file,
         kind_name(dict));
  }
  const Literal* descr = nullptr;
  const Literal* fortran = nullptr;
  const Literal* shape = nullptr;
  for (std::size_t i = 0; i + 1 < dict.items.size(); i += 2) {
    const Literal& key = dict.items[i];
    const Literal* value = &dict.items[i + 1];
    const Literal** slot = nullptr;
    if (key.kind == Literal::Kind::Str) {
      if (key.text == "descr") slot = &descr;
      else if (key.text == "fortran_order") slot = &fortran;
      else if (key.text == "shape") slot = &shape;
    }
    if (slot == nullptr) {
      fail("{}: the .npy header has the key {}; expected only 'descr', 'fortran_order' and 'shape' (header: {})",
           file, repr(key), repr(dict));
    }
    if (*slot != nullptr) fail("{}: the .npy header has the key {} twice (header: {})", file, repr(key), repr(dict));
    *slot = value;
  }
  if (!descr || !fortran || !shape) {
    fail("{}: the .npy header lacks {}; expected 'descr', 'fortran_order' and 'shape' (header: {})", file,
         !descr ? "'descr'" : !fortran ? "'fortran_order'" : "'shape'", repr(dict));
  }

  Header header;
  if (descr->kind == Literal::Kind::List) {
    fail("{}: the array has a structured dtype (fields {}); expected plain float32 or float16 features [N, D]",
         file, repr(*descr));
  }
  if (descr->kind != Literal::Kind::Str) fail("{}: 'descr' is {}, expected a dtype string such as '<f4'", file, repr(*descr));
  std::string_view code = descr->text;
  char order = '=';
  if (!code.empty() && std::string_view("<>=|").find(code[0]) != std::string_view::npos) {
    order = code[0];
    code.remove_prefix(1);
  }
  if (code == "f4") header.item_size = 4;
  else if (code == "f2") header.item_size = 2;
  else {
    fail("{}: dtype {} is not supported: expected float32 or float16 features; save them with "
         "np.save(path, arr.astype('float32'))", file, describe_descr(descr->text));
  }
  // '=', '|' and no mark mean "this machine's order", which is how np.load reads them too.
  header.big_endian = order == '>' || (order != '<' && std::endian::native == std::endian::big);

  if (fortran->kind != Literal::Kind::Bool) fail("{}: 'fortran_order' is {}, expected True or False", file, repr(*fortran));
  header.fortran_order = fortran->boolean;

  if (shape->kind != Literal::Kind::Tuple) fail("{}: 'shape' is {}, expected a tuple such as (N, D)", file, repr(*shape));
  for (const Literal& dim : shape->items) {
    if (dim.kind != Literal::Kind::Int || dim.integer < 0) {
      fail("{}: 'shape' is {}, expected non-negative integers", file, repr(*shape));
    }
  }
  if (shape->items.size() != 2) {
    fail("{}: features must be a 2-D array [N, D], found {}-D shape {}{}", file, shape->items.size(), repr(*shape),
         shape->items.size() == 1 ? "; save one feature per row, e.g. arr.reshape(1, -1) for a single feature" : "");
  }
  header.rows = shape->items[0].integer;
  header.cols = shape->items[1].integer;
  return header;
}

std::uint32_t read_le(const std::string& bytes, std::size_t offset, int count) {
  std::uint32_t value = 0;
  for (int i = count - 1; i >= 0; --i) value = value << 8 | static_cast<unsigned char>(bytes[offset + i]);
  return value;
}

// Reads exactly `size` bytes; the caller has already checked the file is long enough, so a short
// read means the file changed or the disk failed.
void read_exact(std::ifstream& in, char* out, std::size_t size, const fs::path& path) {
  in.read(out, static_cast<std::streamsize>(size));
  if (static_cast<std::size_t>(in.gcount()) != size) {
    fail("{}: read {} of {} bytes (did the file change while it was read?)", path.string(), in.gcount(), size);
  }
}

}  // namespace

float half_to_float(std::uint16_t half) {
  const std::uint32_t sign = static_cast<std::uint32_t>(half & 0x8000u) << 16;
  const std::uint32_t exponent = (half >> 10) & 0x1fu;
  std::uint32_t mantissa = half & 0x3ffu;
  std::uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);  // inf, or NaN with its payload kept
  } else if (exponent != 0) {
    bits = sign | ((exponent + (127 - 15)) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {
    // A subnormal half is mantissa * 2^-24; in float it is normal, so the leading 1 becomes the
    // implicit bit and the exponent drops by the shift.
    const int shift = std::countl_zero(mantissa) - 21;  // moves the leading 1 to bit 10
    mantissa = (mantissa << shift) & 0x3ffu;
    bits = sign | (static_cast<std::uint32_t>(113 - shift) << 23) | (mantissa << 13);
  }
  return std::bit_cast<float>(bits);
}

NpyMatrix read_npy_matrix(const fs::path& path) {
  const std::string file = path.string();
  std::error_code ec;
  const std::uintmax_t file_size = fs::file_size(path, ec);
  if (ec) fail("cannot open {}: {}", file, ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open {}: {}", file, std::strerror(errno));

  std::string preamble(static_cast<std::size_t>(std::min<std::uintmax_t>(file_size, 12)), '\0');
  read_exact(in, preamble.data(), preamble.size(), path);
  if (preamble.size() < kMagic.size() || preamble.compare(0, kMagic.size(), kMagic) != 0) {
    bool zip = preamble.rfind("PK\x03\x04", 0) == 0;
    fail("{}: not a NumPy .npy file: expected the magic bytes \\x93NUMPY, found '{}'{}", file,
         printable(preamble.substr(0, 8)),
         zip ? " (a zip archive, perhaps np.savez: save one array with np.save instead)" : "");
  }
  if (preamble.size() < 10) fail("{}: the .npy preamble is truncated: the file has only {} bytes", file, file_size);
  const int major = static_cast<unsigned char>(preamble[6]);
  const int minor = static_cast<unsigned char>(preamble[7]);
  if ((major != 1 && major != 2 && major != 3) || minor != 0) {
    fail("{}: unsupported .npy format version {}.{}: expected 1.0, 2.0 or 3.0", file, major, minor);
  }
  // 1.0 stores the header length in 2 bytes, 2.0 and 3.0 in 4 (3.0 only adds UTF-8 headers,
  // which a float descr never needs).
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  const std::size_t header_start = 8 + length_bytes;
  if (preamble.size() < header_start) {
    fail("{}: the .npy preamble is truncated: the file has only {} bytes", file, file_size);
  }
  const std::uint64_t header_length = read_le(preamble, 8, static_cast<int>(length_bytes));
  const std::uint64_t data_start = header_start + header_length;
  if (data_start > file_size) {
    fail("{}: truncated .npy header: expected {} header bytes, found {}", file, header_length,
         file_size - header_start);
  }

  std::string header_text(static_cast<std::size_t>(header_length), '\0');
  in.seekg(static_cast<std::streamoff>(header_start));
  read_exact(in, header_text.data(), header_text.size(), path);
  const Header header = interpret_header(HeaderParser(header_text, path).parse(), path);

  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  if (header.cols != 0 && header.rows > max / header.cols / header.item_size) {
    fail("{}: shape ({}, {}) is too large to address", file, header.rows, header.cols);
  }
  const std::int64_t count = header.rows * header.cols;
  const std::uint64_t expected = static_cast<std::uint64_t>(count) * header.item_size;
  const std::uint64_t present = file_size - data_start;
  const char* type = header.item_size == 4 ? "float32" : "float16";
  if (present < expected) {
    fail("{}: truncated data: shape ({}, {}) of {} needs {} bytes after the header, found {}", file, header.rows,
         header.cols, type, expected, present);
  }
  if (present > expected) {
    // np.load would ignore these, but they usually mean a second array was np.save'd into the
    // same open file, and reading only the first would be a silent surprise.
    fail("{}: {} unexpected bytes after the data: shape ({}, {}) of {} needs {} bytes, found {} "
         "(was more than one array saved into this file?)", file, present - expected, header.rows, header.cols,
         type, expected, present);
  }

  const bool swap = header.big_endian != (std::endian::native == std::endian::big);
  std::vector<float> stored(static_cast<std::size_t>(count));
  if (header.item_size == 4) {
    read_exact(in, reinterpret_cast<char*>(stored.data()), expected, path);
    if (swap) {
      for (float& x : stored) x = std::bit_cast<float>(__builtin_bswap32(std::bit_cast<std::uint32_t>(x)));
    }
  } else {
    std::vector<std::uint16_t> halves(static_cast<std::size_t>(count));
    read_exact(in, reinterpret_cast<char*>(halves.data()), expected, path);
    for (std::size_t i = 0; i < halves.size(); ++i) {
      stored[i] = half_to_float(swap ? __builtin_bswap16(halves[i]) : halves[i]);
    }
  }

  NpyMatrix matrix;
  matrix.rows = header.rows;
  matrix.cols = header.cols;
  matrix.dtype = type;
  if (header.fortran_order && header.rows > 1 && header.cols > 1) {
    // Fortran order keeps column j contiguous: element (i, j) is stored at j * rows + i.
    matrix.data.resize(stored.size());
    const auto rows = static_cast<std::size_t>(header.rows), cols = static_cast<std::size_t>(header.cols);
    for (std::size_t j = 0; j < cols; ++j) {
      for (std::size_t i = 0; i < rows; ++i) matrix.data[i * cols + j] = stored[j * rows + i];
    }
  } else {
    matrix.data = std::move(stored);  // one row or one column is laid out the same in both orders
  }
  return matrix;
}

void write_npy_matrix(const fs::path& path, const float* data, std::int64_t rows, std::int64_t cols) {
  const std::string file = path.string();
  if (rows < 0 || cols < 0) fail("{}: cannot write a matrix of shape ({}, {}): expected non-negative sizes", file, rows, cols);
  if (cols != 0 && rows > std::numeric_limits<std::int64_t>::max() / cols / 4) {
    fail("{}: cannot write a matrix of shape ({}, {}): too large", file, rows, cols);
  }
  const std::int64_t count = rows * cols;
  if (count > 0 && data == nullptr) fail("{}: cannot write a matrix of shape ({}, {}): no data given", file, rows, cols);

  // Exactly the dict np.save writes, padded with spaces so the data starts at a multiple of 64 bytes
  // (memory-mapping readers want aligned data); the newline ends the header as NumPy's does.
  std::string header = fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}", rows, cols);
  const std::size_t unpadded = kMagic.size() + 4 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string preamble(kMagic);
  preamble += '\x01';
  preamble += '\x00';
  preamble += static_cast<char>(header.size() & 0xff);
  preamble += static_cast<char>(header.size() >> 8);

  write_atomically(path, [&](const fs::path& temp) {
    std::ofstream out(temp, std::ios::binary);
    if (!out) fail("cannot write {}: {}", temp.string(), std::strerror(errno));
    out.write(preamble.data(), static_cast<std::streamsize>(preamble.size()));
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    if constexpr (std::endian::native == std::endian::little) {
      if (count > 0) out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(count * 4));
    } else {
      for (std::int64_t i = 0; i < count; ++i) {
        const std::uint32_t bits = __builtin_bswap32(std::bit_cast<std::uint32_t>(data[i]));
        out.write(reinterpret_cast<const char*>(&bits), 4);
      }
    }
    out.close();
    if (!out) fail("cannot write {}: {}", temp.string(), std::strerror(errno));
  });
}

}  // namespace ff
