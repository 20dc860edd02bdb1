// Restricted pickle VM: interprets opcodes into plain values and recognises a few whitelisted
// constructor patterns by their shape; it has no way to import, look up or call anything.
#include "src/util/pickle.h"

#include <charconv>
#include <cstring>
#include <limits>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "src/util/error.h"

namespace ff::pickle {
namespace {

// Opcode bytes as CPython's Lib/pickle.py defines them; prefixed because names like NONE or INT
// are too likely to collide with macros from the torch precompiled header.
enum Op : unsigned char {
  kMark = '(', kStop = '.', kPop = '0', kPopMark = '1', kDup = '2', kFloat = 'F', kInt = 'I',
  kBinInt = 'J', kBinInt1 = 'K', kLong = 'L', kBinInt2 = 'M', kNone = 'N', kPersId = 'P',
  kBinPersId = 'Q', kReduce = 'R', kString = 'S', kBinString = 'T', kShortBinString = 'U',
  kUnicode = 'V', kBinUnicode = 'X', kAppend = 'a', kBuild = 'b', kGlobal = 'c', kDict = 'd',
  kEmptyDict = '}', kAppends = 'e', kGet = 'g', kBinGet = 'h', kInst = 'i', kLongBinGet = 'j',
  kList = 'l', kEmptyList = ']', kObj = 'o', kPut = 'p', kBinPut = 'q', kLongBinPut = 'r',
  kSetItem = 's', kTuple = 't', kEmptyTuple = ')', kSetItems = 'u', kBinFloat = 'G',
  kBinBytes = 'B', kShortBinBytes = 'C',
  kProto = 0x80, kNewObj = 0x81, kExt1 = 0x82, kExt2 = 0x83, kExt4 = 0x84, kTuple1 = 0x85,
  kTuple2 = 0x86, kTuple3 = 0x87, kNewTrue = 0x88, kNewFalse = 0x89, kLong1 = 0x8a, kLong4 = 0x8b,
  kShortBinUnicode = 0x8c, kBinUnicode8 = 0x8d, kBinBytes8 = 0x8e, kEmptySet = 0x8f,
  kAddItems = 0x90, kFrozenSet = 0x91, kNewObjEx = 0x92, kStackGlobal = 0x93, kMemoize = 0x94,
  kFrame = 0x95, kByteArray8 = 0x96, kNextBuffer = 0x97, kReadonlyBuffer = 0x98,
};

const char* opcode_name(unsigned char op) {
  switch (op) {
    case kMark: return "MARK";
    case kStop: return "STOP";
    case kPop: return "POP";
    case kPopMark: return "POP_MARK";
    case kDup: return "DUP";
    case kFloat: return "FLOAT";
    case kInt: return "INT";
    case kBinInt: return "BININT";
    case kBinInt1: return "BININT1";
    case kLong: return "LONG";
    case kBinInt2: return "BININT2";
    case kNone: return "NONE";
    case kPersId: return "PERSID";
    case kBinPersId: return "BINPERSID";
    case kReduce: return "REDUCE";
    case kString: return "STRING";
    case kBinString: return "BINSTRING";
    case kShortBinString: return "SHORT_BINSTRING";
    case kUnicode: return "UNICODE";
    case kBinUnicode: return "BINUNICODE";
    case kAppend: return "APPEND";
    case kBuild: return "BUILD";
    case kGlobal: return "GLOBAL";
    case kDict: return "DICT";
    case kEmptyDict: return "EMPTY_DICT";
    case kAppends: return "APPENDS";
    case kGet: return "GET";
    case kBinGet: return "BINGET";
    case kInst: return "INST";
    case kLongBinGet: return "LONG_BINGET";
    case kList: return "LIST";
    case kEmptyList: return "EMPTY_LIST";
    case kObj: return "OBJ";
    case kPut: return "PUT";
    case kBinPut: return "BINPUT";
    case kLongBinPut: return "LONG_BINPUT";
    case kSetItem: return "SETITEM";
    case kTuple: return "TUPLE";
    case kEmptyTuple: return "EMPTY_TUPLE";
    case kSetItems: return "SETITEMS";
    case kBinFloat: return "BINFLOAT";
    case kBinBytes: return "BINBYTES";
    case kShortBinBytes: return "SHORT_BINBYTES";
    case kProto: return "PROTO";
    case kNewObj: return "NEWOBJ";
    case kExt1: return "EXT1";
    case kExt2: return "EXT2";
    case kExt4: return "EXT4";
    case kTuple1: return "TUPLE1";
    case kTuple2: return "TUPLE2";
    case kTuple3: return "TUPLE3";
    case kNewTrue: return "NEWTRUE";
    case kNewFalse: return "NEWFALSE";
    case kLong1: return "LONG1";
    case kLong4: return "LONG4";
    case kShortBinUnicode: return "SHORT_BINUNICODE";
    case kBinUnicode8: return "BINUNICODE8";
    case kBinBytes8: return "BINBYTES8";
    case kEmptySet: return "EMPTY_SET";
    case kAddItems: return "ADDITEMS";
    case kFrozenSet: return "FROZENSET";
    case kNewObjEx: return "NEWOBJ_EX";
    case kStackGlobal: return "STACK_GLOBAL";
    case kMemoize: return "MEMOIZE";
    case kFrame: return "FRAME";
    case kByteArray8: return "BYTEARRAY8";
    case kNextBuffer: return "NEXT_BUFFER";
    case kReadonlyBuffer: return "READONLY_BUFFER";
    default: return "unknown opcode";
  }
}

// Names a pickle may mention. Each is recognised only together with the argument shape its
// Python writer produces (see Machine::reduce, Machine::build and Machine::storage_persistent_id);
// nothing is ever resolved. numpy 2 moved numpy.core to numpy._core, so both spellings are listed.
enum class Callable {
  CodecsEncode, EmptyBytes, Reconstruct, Ndarray, NumpyDtype, Scalar, FromBuffer,
  OrderedDict, StorageType, RebuildTensorV2, RebuildParameter, RebuildParameterWithState,
};

struct Allowed {
  const char* qualified_name;
  Callable callable;
  Vocabulary vocabulary;
};

constexpr Allowed kAllowed[] = {
    {"_codecs.encode", Callable::CodecsEncode, Vocabulary::NumpyBool},
    {"__builtin__.bytes", Callable::EmptyBytes, Vocabulary::NumpyBool},
    {"builtins.bytes", Callable::EmptyBytes, Vocabulary::NumpyBool},
    {"numpy.core.multiarray._reconstruct", Callable::Reconstruct, Vocabulary::NumpyBool},
    {"numpy._core.multiarray._reconstruct", Callable::Reconstruct, Vocabulary::NumpyBool},
    {"numpy.ndarray", Callable::Ndarray, Vocabulary::NumpyBool},
    {"numpy.dtype", Callable::NumpyDtype, Vocabulary::NumpyBool},
    {"numpy.core.multiarray.scalar", Callable::Scalar, Vocabulary::NumpyBool},
    {"numpy._core.multiarray.scalar", Callable::Scalar, Vocabulary::NumpyBool},
    {"numpy.core.numeric._frombuffer", Callable::FromBuffer, Vocabulary::NumpyBool},
    {"numpy._core.numeric._frombuffer", Callable::FromBuffer, Vocabulary::NumpyBool},
    {"collections.OrderedDict", Callable::OrderedDict, Vocabulary::TorchWeights},
    {"torch._utils._rebuild_tensor_v2", Callable::RebuildTensorV2, Vocabulary::TorchWeights},
    {"torch._utils._rebuild_parameter", Callable::RebuildParameter, Vocabulary::TorchWeights},
    {"torch._utils._rebuild_parameter_with_state", Callable::RebuildParameterWithState,
     Vocabulary::TorchWeights},
};

// torch.save names a storage's element type by its legacy typed-storage class. The first entry
// per dtype is the one the writer emits; UntypedStorage (raw bytes) is only read.
struct StorageType {
  const char* qualified_name;
  Dtype dtype;
};

constexpr StorageType kStorageTypes[] = {
    {"torch.FloatStorage", Dtype::Float32},   {"torch.DoubleStorage", Dtype::Float64},
    {"torch.HalfStorage", Dtype::Float16},    {"torch.BFloat16Storage", Dtype::BFloat16},
    {"torch.LongStorage", Dtype::Int64},      {"torch.IntStorage", Dtype::Int32},
    {"torch.ShortStorage", Dtype::Int16},     {"torch.CharStorage", Dtype::Int8},
    {"torch.ByteStorage", Dtype::UInt8},      {"torch.BoolStorage", Dtype::Bool},
    {"torch.UntypedStorage", Dtype::UInt8},
};

std::optional<Dtype> storage_dtype(std::string_view qualified_name) {
  for (const StorageType& type : kStorageTypes) {
    if (qualified_name == type.qualified_name) return type.dtype;
  }
  return std::nullopt;
}

// The class name without "torch.", as GLOBAL's second line wants it.
std::string_view storage_type_name(Dtype dtype) {
  for (const StorageType& type : kStorageTypes) {
    if (type.dtype == dtype) return std::string_view(type.qualified_name).substr(6);
  }
  fail("pickle: dtype #{} has no torch storage type", static_cast<int>(dtype));
}

std::optional<Callable> find_allowed(std::string_view qualified_name, Vocabulary vocabulary) {
  for (const Allowed& allowed : kAllowed) {
    if (allowed.vocabulary == vocabulary && qualified_name == allowed.qualified_name) return allowed.callable;
  }
  if (vocabulary == Vocabulary::TorchWeights && storage_dtype(qualified_name)) return Callable::StorageType;
  return std::nullopt;
}

// Value::data of a Dict made by collections.OrderedDict(), the one Dict that accepts BUILD state.
constexpr const char* kOrderedDict = "collections.OrderedDict";

// Quotes text from the file for an error message without letting binary garbage through.
std::string printable(std::string_view text, std::size_t max_chars = 60) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < max_chars; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (text.size() > max_chars) out += "...";
  return out;
}

bool is_byte_string(const Value& v) { return v.kind == Kind::Bytes || v.kind == Kind::ByteStr; }
bool is_string(const Value& v) { return is_byte_string(v) || v.kind == Kind::Text; }

std::string join_ints(const std::vector<std::int64_t>& values) {
  return fmt::format("[{}]", fmt::join(values, ", "));
}

// The key becomes part of an archive entry name (`<archive>/data/<key>`); torch writes decimal
// counters, so anything that could step out of the data folder is refused.
std::optional<std::string> storage_problem(const StorageRef& storage) {
  const std::string& key = storage.key;
  if (key.empty() || key.front() == '.') {
    return fmt::format("expected a storage key such as '0', found '{}'", printable(key));
  }
  for (char c : key) {
    bool plain = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                 c == '-' || c == '.';
    if (!plain) {
      return fmt::format("expected a storage key of letters, digits, '_', '-' and '.', found '{}'", printable(key));
    }
  }
  if (storage.numel < 0) return fmt::format("expected a non-negative storage size, found {}", storage.numel);
  return std::nullopt;
}

// Follows ATen's storage-size rule: a non-empty view needs offset + 1 + sum((size - 1) * stride)
// elements, an empty one none. Checked arithmetic, since every number comes from the file.
std::optional<std::string> view_problem(const TensorRef& t) {
  if (t.sizes.size() != t.strides.size()) {
    return fmt::format("expected as many strides as sizes, found sizes {} and strides {}", join_ints(t.sizes),
                       join_ints(t.strides));
  }
  if (t.offset < 0) return fmt::format("expected a non-negative storage offset, found {}", t.offset);
  bool empty = false;
  for (std::size_t i = 0; i < t.sizes.size(); ++i) {
    if (t.sizes[i] < 0 || t.strides[i] < 0) {
      return fmt::format("expected non-negative sizes and strides, found sizes {} and strides {}",
                         join_ints(t.sizes), join_ints(t.strides));
    }
    empty = empty || t.sizes[i] == 0;
  }
  if (empty) return std::nullopt;
  std::int64_t extent = t.offset;  // index of the last element
  bool overflow = false;
  for (std::size_t i = 0; i < t.sizes.size(); ++i) {
    std::int64_t step = 0;
    overflow = overflow || __builtin_mul_overflow(t.sizes[i] - 1, t.strides[i], &step) ||
               __builtin_add_overflow(extent, step, &extent);
  }
  if (overflow || extent >= t.storage.numel) {
    return fmt::format("expected the view (offset {}, sizes {}, strides {}) to lie within storage '{}' of {} "
                       "elements, found it reaching element {}",
                       t.offset, join_ints(t.sizes), join_ints(t.strides), printable(t.storage.key),
                       t.storage.numel, overflow ? std::string("beyond 2^63") : std::to_string(extent));
  }
  return std::nullopt;
}

class Machine {
 public:
  Machine(std::string_view in, const std::string& source, Vocabulary vocabulary)
      : in_(in), source_(source), vocabulary_(vocabulary) {}

  Document run() {
    for (;;) {
      op_start_ = pos_;
      if (pos_ >= in_.size()) {
        fail("{}: byte {}: the pickle ends without a STOP opcode; expected more data (truncated file?)",
             source_, pos_);
      }
      op_ = static_cast<unsigned char>(in_[pos_++]);
      if (step()) break;
    }
    return std::move(doc_);
  }

 private:
  [[noreturn]] void error(const std::string& what) const {
    if (opcode_name(op_) == std::string_view("unknown opcode")) {
      fail("{}: byte {}: unknown opcode 0x{:02x}: {}", source_, op_start_, op_, what);
    }
    fail("{}: byte {}: {}: {}", source_, op_start_, opcode_name(op_), what);
  }

  std::string_view take(std::uint64_t n, const char* what) {
    std::uint64_t left = in_.size() - pos_;
    if (n > left) {
      error(fmt::format("truncated: expected {} bytes of {} at byte {}, found only {} before the end of the "
                        "file ({} bytes)", n, what, pos_, left, in_.size()));
    }
    std::string_view out = in_.substr(pos_, n);
    pos_ += n;
    return out;
  }

  std::uint64_t little_endian(int width, const char* what) {
    std::string_view raw = take(width, what);
    std::uint64_t value = 0;
    for (int i = width - 1; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(raw[i]);
    return value;
  }

  std::string_view line(const char* what) {
    std::size_t end = in_.find('\n', pos_);
    if (end == std::string_view::npos) {
      error(fmt::format("truncated: expected a newline-terminated {} at byte {}, found the end of the file",
                        what, pos_));
    }
    std::string_view out = in_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return out;
  }

  Id make(Kind kind) {
    Value value;
    value.kind = kind;
    value.offset = op_start_;
    value.opcode = opcode_name(op_);
    doc_.values.push_back(std::move(value));
    return doc_.values.size() - 1;
  }
  // References die when make() grows the arena: re-fetch after every make().
  Value& at(Id id) { return doc_.values[id]; }

  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }

  Id top(const char* what) {
    if (stack_.size() <= floor()) {
      error(fmt::format("expected {} on the stack, found {}", what, marks_.empty() ? "an empty stack" : "a MARK"));
    }
    return stack_.back();
  }

  Id pop(const char* what) {
    Id id = top(what);
    stack_.pop_back();
    return id;
  }

  std::vector<Id> pop_mark() {
    if (marks_.empty()) error("expected a MARK on the stack, found none");
    std::size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<Id> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark);
    return items;
  }

  void push(Id id) { stack_.push_back(id); }

  void push_string(Kind kind, std::uint64_t length, const char* what) {
    std::string_view payload = take(length, what);  // checks the length before allocating anything
    Id id = make(kind);
    at(id).data.assign(payload.data(), payload.size());
    push(id);
  }

  void push_int(std::int64_t value) {
    Id id = make(Kind::Int);
    at(id).integer = value;
    push(id);
  }

  void push_bool(bool value) {
    Id id = make(Kind::Bool);
    at(id).boolean = value;
    push(id);
  }

  void push_sequence(Kind kind, std::vector<Id> items) {
    Id id = make(kind);
    at(id).items = std::move(items);
    push(id);
  }

  // LONG1 / LONG4 payloads are little-endian two's complement of any length. Python writes the fewest
  // bytes, so a longer payload is beyond int64 unless its extra bytes only repeat the sign.
  void push_long(std::uint64_t width) {
    std::string_view raw = take(width, "integer");
    if (raw.empty()) {
      push_int(0);
      return;
    }
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(raw[i]); };
    const bool negative = (byte(raw.size() - 1) & 0x80) != 0;
    const std::size_t low = raw.size() < 8 ? raw.size() : 8;
    bool fits = raw.size() <= 8 || ((byte(7) & 0x80) != 0) == negative;
    for (std::size_t i = low; i < raw.size(); ++i) fits = fits && byte(i) == (negative ? 0xff : 0x00);
    if (!fits) error(fmt::format("expected an integer that fits in 64 bits, found a {}-byte integer", width));
    std::uint64_t bits = negative ? ~std::uint64_t{0} : 0;  // sign-extends payloads shorter than 8 bytes
    for (std::size_t i = low; i-- > 0;) bits = (bits << 8) | byte(i);
    push_int(static_cast<std::int64_t>(bits));
  }

  std::uint64_t decimal(std::string_view text, const char* what) {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) {
      error(fmt::format("expected a decimal {}, found '{}'", what, printable(text)));
    }
    return value;
  }

  void memo_put(std::uint64_t index) { memo_[index] = top("a value to store in the memo"); }

  void memo_get(std::uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) error(fmt::format("expected memo entry {} to have been stored, found no such entry", index));
    push(it->second);
  }

  void push_global(std::string_view module, std::string_view name) {
    std::string qualified = fmt::format("{}.{}", module, name);
    if (!find_allowed(qualified, vocabulary_)) {
      const char* allowed = vocabulary_ == Vocabulary::NumpyBool
                                ? "a verification pack may only name _codecs.encode, bytes and numpy's bool-array "
                                  "constructors"
                                : "a torch weights file may only name collections.OrderedDict, torch storage types "
                                  "and torch._utils' tensor and parameter rebuilders";
      error(fmt::format("refused {}: {}; this reader never imports or calls anything", printable(qualified, 120),
                        allowed));
    }
    Id id = make(Kind::Global);
    at(id).data = std::move(qualified);
    push(id);
  }

  Value& list_on_top() {
    Id id = top("a list");
    if (at(id).kind != Kind::List) error(fmt::format("expected a list below the values, found {}", describe(at(id))));
    return at(id);
  }

  Value& dict_on_top() {
    Id id = top("a dict");
    if (at(id).kind != Kind::Dict) error(fmt::format("expected a dict below the items, found {}", describe(at(id))));
    return at(id);
  }

  // Python 3 writes bytes under protocol 2 as _codecs.encode(bytes.decode('latin1'), 'latin1'):
  // every code point is below 256, so UTF-8 decoding yields the original bytes one for one.
  std::string latin1_from_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
      auto c = static_cast<unsigned char>(text[i]);
      if (c < 0x80) {
        out += static_cast<char>(c);
        continue;
      }
      if ((c == 0xc2 || c == 0xc3) && i + 1 < text.size() &&
          (static_cast<unsigned char>(text[i + 1]) & 0xc0) == 0x80) {
        out += static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3f));
        ++i;
        continue;
      }
      error(fmt::format("expected latin1 text (code points below 256) as the argument of _codecs.encode, "
                        "found UTF-8 byte 0x{:02x} at text position {}", c, i));
    }
    return out;
  }

  std::string args_shape(const Value& args) {
    std::string out = "(";
    for (std::size_t i = 0; i < args.items.size(); ++i) {
      if (i) out += ", ";
      const Value& item = at(args.items[i]);
      out += item.kind == Kind::Text ? fmt::format("'{}'", printable(item.data, 20)) : kind_name(item.kind);
    }
    return out + ")";
  }

  // numpy stores an array's bytes plus a shape; only 1-D bool data of bytes 0/1 is accepted.
  void fill_bool_array(Id target, Id shape_id, Id data_id) {
    const Value& shape = at(shape_id);
    if (shape.kind != Kind::Tuple || shape.items.size() != 1 || at(shape.items[0]).kind != Kind::Int ||
        at(shape.items[0]).integer < 0) {
      error(fmt::format("expected a 1-D numpy shape (N,), found {}", describe(shape)));
    }
    auto count = static_cast<std::uint64_t>(at(shape.items[0]).integer);
    const Value& data = at(data_id);
    if (!is_byte_string(data)) {
      error(fmt::format("expected the numpy array's raw data as bytes, found {}", describe(data)));
    }
    if (data.data.size() != count) {
      error(fmt::format("expected {} bytes of bool data for shape ({},), found {}", count, count, data.data.size()));
    }
    std::vector<bool> bools(count);
    for (std::uint64_t i = 0; i < count; ++i) {
      auto byte = static_cast<unsigned char>(data.data[i]);
      if (byte > 1) error(fmt::format("expected bool array element {} to be 0 or 1, found {}", i, byte));
      bools[i] = byte == 1;
    }
    Value& out = at(target);
    out.kind = Kind::BoolArray;
    out.bools = std::move(bools);
  }

  [[noreturn]] void refuse_call(const std::string& name, Id args_id, const char* expected) {
    error(fmt::format("refused {}{}: expected arguments {}", name, args_shape(at(args_id)), expected));
  }

  Id reduce(Id callable_id, Id args_id) {
    const Value& callable = at(callable_id);
    if (callable.kind != Kind::Global) {
      error(fmt::format("refused: expected a whitelisted global to call, found {}", describe(callable)));
    }
    const Value& args = at(args_id);
    if (args.kind != Kind::Tuple) {
      error(fmt::format("expected an argument tuple for {}, found {}", callable.data, describe(args)));
    }
    const std::string name = callable.data;  // copies: make() below may move the arena
    const std::vector<Id> a = args.items;
    auto refuse = [&](const char* expected) { refuse_call(name, args_id, expected); };
    switch (*find_allowed(name, vocabulary_)) {
      case Callable::CodecsEncode: {
        if (a.size() != 2 || at(a[0]).kind != Kind::Text || at(a[1]).kind != Kind::Text ||
            (at(a[1]).data != "latin1" && at(a[1]).data != "latin-1")) {
          refuse("(str, 'latin1')");
        }
        std::string bytes = latin1_from_utf8(at(a[0]).data);
        Id out = make(Kind::Bytes);
        at(out).data = std::move(bytes);
        return out;
      }
      case Callable::EmptyBytes:
        if (!a.empty()) refuse("() (protocol 2 writes only empty bytes this way)");
        return make(Kind::Bytes);
      case Callable::Reconstruct:
        if (a.size() != 3 || at(a[0]).kind != Kind::Global || at(a[0]).data != "numpy.ndarray" ||
            at(a[1]).kind != Kind::Tuple || !is_string(at(a[2]))) {
          refuse("(numpy.ndarray, shape, typecode)");
        }
        return make(Kind::NumpyArrayWithoutData);
      case Callable::Ndarray:
        refuse_call(name, args_id, "none: numpy.ndarray may only be passed to _reconstruct");
      case Callable::NumpyDtype: {
        if (a.empty() || a.size() > 3 || !is_string(at(a[0]))) refuse("(typecode, align, copy)");
        const std::string& code = at(a[0]).data;
        if (code != "b1" && code != "?") {
          error(fmt::format("refused numpy dtype '{}': only bool arrays ('b1') are read from a pickle",
                            printable(code)));
        }
        Id out = make(Kind::NumpyDtype);
        at(out).data = "b1";
        return out;
      }
      case Callable::Scalar: {
        if (a.size() != 2 || at(a[0]).kind != Kind::NumpyDtype || !is_byte_string(at(a[1]))) {
          refuse("(numpy.dtype('b1'), bytes)");
        }
        const std::string& raw = at(a[1]).data;
        if (raw.size() != 1 || static_cast<unsigned char>(raw[0]) > 1) {
          error(fmt::format("expected one byte 0 or 1 for a numpy bool scalar, found {} bytes '{}'", raw.size(),
                            printable(raw)));
        }
        Id out = make(Kind::Bool);
        at(out).boolean = raw[0] == 1;
        return out;
      }
      case Callable::FromBuffer: {
        if (a.size() != 4 || at(a[0]).kind != Kind::Bytes || at(a[1]).kind != Kind::NumpyDtype ||
            at(a[3]).kind != Kind::Text) {
          refuse("(buffer, numpy.dtype('b1'), shape, order)");
        }
        Id out = make(Kind::NumpyArrayWithoutData);
        fill_bool_array(out, a[2], a[0]);
        return out;
      }
      case Callable::OrderedDict: {
        if (!a.empty()) refuse("() (protocol 2 adds the entries with SETITEMS)");
        Id out = make(Kind::Dict);
        at(out).data = kOrderedDict;
        return out;
      }
      case Callable::StorageType:
        refuse_call(name, args_id, "none: a storage type may only appear in a storage persistent id");
      case Callable::RebuildTensorV2: return rebuild_tensor(name, args_id);
      case Callable::RebuildParameter: return rebuild_parameter(name, args_id, false);
      case Callable::RebuildParameterWithState: return rebuild_parameter(name, args_id, true);
    }
    refuse_call(name, args_id, "of a known constructor");
  }

  std::vector<std::int64_t> int_tuple(Id tuple_id, const char* what) {
    std::vector<std::int64_t> out;
    for (Id item : at(tuple_id).items) {
      if (at(item).kind != Kind::Int) {
        error(fmt::format("expected {} as a tuple of ints, found {} in it", what, describe(at(item))));
      }
      out.push_back(at(item).integer);
    }
    return out;
  }

  // torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks
  // [, metadata]). The hooks (empty unless the saver registered some, and then refused as globals) and
  // metadata (a dict of tensor flags) say nothing about the stored numbers, so they are dropped.
  Id rebuild_tensor(const std::string& name, Id args_id) {
    const std::vector<Id> a = at(args_id).items;
    auto is = [&](std::size_t i, Kind kind) { return at(a[i]).kind == kind; };
    if ((a.size() != 6 && a.size() != 7) || !is(0, Kind::Storage) || !is(1, Kind::Int) || !is(2, Kind::Tuple) ||
        !is(3, Kind::Tuple) || !is(4, Kind::Bool) || !is(5, Kind::Dict) || (a.size() == 7 && !is(6, Kind::Dict))) {
      refuse_call(name, args_id,
                  "(storage, storage_offset: int, size: tuple, stride: tuple, requires_grad: bool, "
                  "backward_hooks: OrderedDict[, metadata: dict])");
    }
    TensorRef tensor;
    tensor.storage = at(a[0]).storage;
    tensor.offset = at(a[1]).integer;
    tensor.sizes = int_tuple(a[2], "the size");
    tensor.strides = int_tuple(a[3], "the stride");
    tensor.requires_grad = at(a[4]).boolean;
    if (auto problem = view_problem(tensor)) error(*problem);
    Id out = make(Kind::Tensor);
    at(out).tensor = std::move(tensor);
    return out;
  }

  // torch._utils._rebuild_parameter(tensor, requires_grad, backward_hooks) and
  // _rebuild_parameter_with_state(..., state): an nn.Parameter is its tensor plus Python attributes
  // (the state), which weights do not need.
  Id rebuild_parameter(const std::string& name, Id args_id, bool with_state) {
    const std::vector<Id> a = at(args_id).items;
    if (a.size() != (with_state ? 4u : 3u) || at(a[0]).kind != Kind::Tensor || at(a[1]).kind != Kind::Bool ||
        at(a[2]).kind != Kind::Dict) {
      refuse_call(name, args_id,
                  with_state ? "(tensor, requires_grad: bool, backward_hooks: OrderedDict, state)"
                             : "(tensor, requires_grad: bool, backward_hooks: OrderedDict)");
    }
    TensorRef tensor = at(a[0]).tensor;
    tensor.requires_grad = at(a[1]).boolean;
    Id out = make(Kind::Tensor);
    at(out).tensor = std::move(tensor);
    return out;
  }

  // torch.save's persistent id for a storage: ('storage', torch.<Type>Storage, key, location, numel).
  // Views of one storage name it again; each mention must then describe the same storage.
  Id storage_persistent_id(Id pid_id) {
    const Value& pid = at(pid_id);
    if (pid.kind != Kind::Tuple || pid.items.size() != 5 || at(pid.items[0]).kind != Kind::Text ||
        at(pid.items[0]).data != "storage") {
      error(fmt::format("expected a storage persistent id ('storage', storage type, key, location, numel), "
                        "found {}", describe(pid)));
    }
    const Value& type = at(pid.items[1]);
    const Value& key = at(pid.items[2]);
    const Value& location = at(pid.items[3]);
    const Value& numel = at(pid.items[4]);
    std::optional<Dtype> dtype = type.kind == Kind::Global ? storage_dtype(type.data) : std::nullopt;
    if (!dtype) {
      error(fmt::format("expected a torch storage type such as torch.FloatStorage, found {}", describe(type)));
    }
    if (key.kind != Kind::Text || location.kind != Kind::Text || numel.kind != Kind::Int) {
      error(fmt::format("expected the storage's key: str, location: str, numel: int, found {}; {}; {}",
                        describe(key), describe(location), describe(numel)));
    }
    StorageRef storage{*dtype, key.data, location.data, numel.integer};
    if (auto problem = storage_problem(storage)) error(*problem);
    auto [known, first_mention] = storages_.emplace(storage.key, storage);
    if (!first_mention && (known->second.dtype != storage.dtype || known->second.numel != storage.numel)) {
      error(fmt::format("expected storage '{}' to be {} elements of {} as first named, found {} elements of {}",
                        printable(storage.key), known->second.numel, dtype_name(known->second.dtype), storage.numel,
                        dtype_name(storage.dtype)));
    }
    Id out = make(Kind::Storage);
    at(out).storage = std::move(storage);
    return out;
  }

  void build(Id target_id, Id state_id) {
    const Value& target = at(target_id);
    const Value& state = at(state_id);
    if (target.kind == Kind::NumpyDtype) {
      // (version, byteorder, subarray, names, fields, elsize, alignment, flags): a bool dtype has no
      // fields, so checking the shape is enough.
      if (state.kind != Kind::Tuple || state.items.size() < 2 || at(state.items[0]).kind != Kind::Int ||
          !is_string(at(state.items[1]))) {
        error(fmt::format("expected numpy dtype state (version, byteorder, ...), found {}", describe(state)));
      }
      return;
    }
    if (target.kind == Kind::NumpyArrayWithoutData) {
      // (version, shape, dtype, is_fortran, data); numpy before 1.0 wrote it without the version.
      std::size_t first = state.items.size() == 5 ? 1 : 0;
      if (state.kind != Kind::Tuple || (state.items.size() != 5 && state.items.size() != 4) ||
          at(state.items[first + 1]).kind != Kind::NumpyDtype) {
        error(fmt::format("expected numpy array state (version, shape, dtype('b1'), is_fortran, data), found {}",
                          describe(state)));
      }
      fill_bool_array(target_id, state.items[first], state.items[first + 3]);
      return;
    }
    if (target.kind == Kind::Dict && target.data == kOrderedDict) {
      // An OrderedDict pickles its instance attributes (a state_dict's `_metadata`) as BUILD state;
      // they describe module versions, not weights.
      if (state.kind != Kind::Dict) {
        error(fmt::format("expected an OrderedDict's attribute dict as BUILD state, found {}", describe(state)));
      }
      return;
    }
    error(fmt::format("refused: BUILD would set the state of {}; only numpy dtypes and arrays and OrderedDicts "
                      "accept state", describe(target)));
  }

  // Runs one opcode; true at STOP.
  bool step() {
    switch (op_) {
      case kProto: {
        std::uint64_t version = little_endian(1, "protocol version");
        if (version > 5) error(fmt::format("expected pickle protocol 0-5, found {}", version));
        return false;
      }
      case kFrame: {
        // Frames only batch reads for the writer's benefit; the content is an ordinary opcode stream.
        std::uint64_t length = little_endian(8, "frame length");
        if (length > in_.size() - pos_) {
          error(fmt::format("truncated: the frame announces {} bytes, found only {} before the end of the file",
                            length, in_.size() - pos_));
        }
        return false;
      }
      case kStop: {
        if (!marks_.empty()) error(fmt::format("expected a complete value, found {} unclosed MARK(s)", marks_.size()));
        if (stack_.size() != 1) {
          error(fmt::format("expected exactly one value on the stack, found {}", stack_.size()));
        }
        if (pos_ != in_.size()) {
          error(fmt::format("expected the file to end after STOP, found {} more bytes", in_.size() - pos_));
        }
        doc_.root = stack_.back();
        return true;
      }
      case kMark: marks_.push_back(stack_.size()); return false;
      case kPop:
        // As CPython: POP on an empty (post-mark) stack discards the mark.
        if (stack_.size() > floor()) {
          stack_.pop_back();
        } else if (!marks_.empty()) {
          marks_.pop_back();
        } else {
          error("expected a value or MARK to discard, found an empty stack");
        }
        return false;
      case kPopMark: pop_mark(); return false;
      case kDup: push(top("a value to duplicate")); return false;

      case kNone: push(make(Kind::None)); return false;
      case kNewTrue: push_bool(true); return false;
      case kNewFalse: push_bool(false); return false;
      case kBinInt:
        push_int(static_cast<std::int32_t>(static_cast<std::uint32_t>(little_endian(4, "int32"))));
        return false;
      case kBinInt1: push_int(static_cast<std::int64_t>(little_endian(1, "uint8"))); return false;
      case kBinInt2: push_int(static_cast<std::int64_t>(little_endian(2, "uint16"))); return false;
      case kLong1: push_long(little_endian(1, "integer length")); return false;
      case kLong4: push_long(little_endian(4, "integer length")); return false;
      case kInt: {
        // Protocol 1 writes bools this way ("I01" / "I00"), so it is worth the few lines.
        std::string_view text = line("integer");
        if (text == "01" || text == "00") {
          push_bool(text == "01");
        } else {
          bool negative = !text.empty() && text[0] == '-';
          auto magnitude = decimal(negative ? text.substr(1) : text, "integer");
          if (magnitude > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            error(fmt::format("expected an integer that fits in 64 bits, found '{}'", printable(text)));
          }
          push_int(negative ? -static_cast<std::int64_t>(magnitude) : static_cast<std::int64_t>(magnitude));
        }
        return false;
      }
      case kBinFloat: {
        std::string_view raw = take(8, "big-endian float64");
        std::uint64_t bits = 0;
        for (char c : raw) bits = (bits << 8) | static_cast<unsigned char>(c);
        Id id = make(Kind::Float);
        std::memcpy(&at(id).real, &bits, sizeof bits);
        push(id);
        return false;
      }

      case kShortBinString: push_string(Kind::ByteStr, little_endian(1, "length"), "string"); return false;
      case kBinString: {
        auto length = static_cast<std::int32_t>(static_cast<std::uint32_t>(little_endian(4, "length")));
        if (length < 0) error(fmt::format("expected a non-negative string length, found {}", length));
        push_string(Kind::ByteStr, static_cast<std::uint64_t>(length), "string");
        return false;
      }
      case kShortBinBytes: push_string(Kind::Bytes, little_endian(1, "length"), "bytes"); return false;
      case kBinBytes: push_string(Kind::Bytes, little_endian(4, "length"), "bytes"); return false;
      case kBinBytes8: push_string(Kind::Bytes, little_endian(8, "length"), "bytes"); return false;
      case kByteArray8: push_string(Kind::Bytes, little_endian(8, "length"), "bytearray"); return false;
      case kShortBinUnicode: push_string(Kind::Text, little_endian(1, "length"), "UTF-8 text"); return false;
      case kBinUnicode: push_string(Kind::Text, little_endian(4, "length"), "UTF-8 text"); return false;
      case kBinUnicode8: push_string(Kind::Text, little_endian(8, "length"), "UTF-8 text"); return false;

      case kEmptyList: push(make(Kind::List)); return false;
      case kEmptyTuple: push(make(Kind::Tuple)); return false;
      case kEmptyDict: push(make(Kind::Dict)); return false;
      case kList: push_sequence(Kind::List, pop_mark()); return false;
      case kTuple: push_sequence(Kind::Tuple, pop_mark()); return false;
      case kTuple1:
      case kTuple2:
      case kTuple3: {
        std::size_t n = op_ - kTuple1 + 1;
        std::vector<Id> items(n);
        for (std::size_t i = n; i-- > 0;) items[i] = pop("a tuple element");
        push_sequence(Kind::Tuple, std::move(items));
        return false;
      }
      case kDict: {
        std::vector<Id> items = pop_mark();
        if (items.size() % 2) error(fmt::format("expected key/value pairs, found {} values", items.size()));
        push_sequence(Kind::Dict, std::move(items));
        return false;
      }
      case kAppend: {
        Id value = pop("a value to append");
        list_on_top().items.push_back(value);
        return false;
      }
      case kAppends: {
        std::vector<Id> values = pop_mark();
        Value& list = list_on_top();
        list.items.insert(list.items.end(), values.begin(), values.end());
        return false;
      }
      case kSetItem: {
        Id value = pop("a dict value");
        Id key = pop("a dict key");
        Value& dict = dict_on_top();
        dict.items.push_back(key);
        dict.items.push_back(value);
        return false;
      }
      case kSetItems: {
        std::vector<Id> items = pop_mark();
        if (items.size() % 2) error(fmt::format("expected key/value pairs, found {} values", items.size()));
        Value& dict = dict_on_top();
        dict.items.insert(dict.items.end(), items.begin(), items.end());
        return false;
      }

      case kBinPut: memo_put(little_endian(1, "memo index")); return false;
      case kLongBinPut: memo_put(little_endian(4, "memo index")); return false;
      case kMemoize: memo_put(memo_.size()); return false;
      case kPut: memo_put(decimal(line("memo index"), "memo index")); return false;
      case kBinGet: memo_get(little_endian(1, "memo index")); return false;
      case kLongBinGet: memo_get(little_endian(4, "memo index")); return false;
      case kGet: memo_get(decimal(line("memo index"), "memo index")); return false;

      case kGlobal: {
        std::string_view module = line("module name");
        std::string_view name = line("global name");
        push_global(module, name);
        return false;
      }
      case kStackGlobal: {
        Id name = pop("a global name");
        Id module = pop("a module name");
        if (at(module).kind != Kind::Text || at(name).kind != Kind::Text) {
          error(fmt::format("expected module and name as str, found {} and {}", describe(at(module)),
                            describe(at(name))));
        }
        push_global(at(module).data, at(name).data);
        return false;
      }
      case kReduce: {
        Id args = pop("an argument tuple");
        Id callable = pop("a callable");
        push(reduce(callable, args));
        return false;
      }
      case kBuild: {
        Id state = pop("a state");
        build(top("an object to build"), state);
        return false;
      }

      case kInst:
      case kObj:
      case kNewObj:
      case kNewObjEx:
        error("refused: this opcode instantiates a Python class; this data-only reader never constructs objects");
      case kPersId:
      case kBinPersId:
        if (vocabulary_ == Vocabulary::NumpyBool) {
          error("refused: persistent ids are resolved by the writer's own code, which this reader never runs");
        }
        if (op_ == kPersId) error("refused: torch.save writes storage persistent ids with BINPERSID, never PERSID");
        push(storage_persistent_id(pop("a persistent id")));
        return false;
      case kExt1:
      case kExt2:
      case kExt4:
        error("refused: extension-registry codes stand for arbitrary globals");
      case kNextBuffer:
      case kReadonlyBuffer:
        error("refused: out-of-band buffers are not stored in the file");
      case kEmptySet:
      case kAddItems:
      case kFrozenSet:
        error("expected lists, tuples, dicts and scalars, found a set; neither verification packs nor torch "
              "weights hold sets");
      case kFloat:
      case kLong:
      case kString:
      case kUnicode:
        error("expected a binary pickle (protocol 2-5), found a protocol-0 text opcode");
      default:
        error("expected a pickle opcode, found an unknown byte (not a pickle, or corrupted)");
    }
  }

  std::string_view in_;
  const std::string& source_;
  Vocabulary vocabulary_;
  std::size_t pos_ = 0;
  std::size_t op_start_ = 0;
  unsigned char op_ = 0;
  Document doc_;
  std::vector<Id> stack_;
  std::vector<std::size_t> marks_;  // stack heights at each open MARK, as CPython's metastack
  std::unordered_map<std::uint64_t, Id> memo_;
  std::unordered_map<std::string, StorageRef> storages_;  // by key, as first named
};

}  // namespace

Document load(std::string_view bytes, const std::string& source_name, Vocabulary vocabulary) {
  Document doc = Machine(bytes, source_name, vocabulary).run();
  doc.source = source_name;
  return doc;
}

std::string dtype_name(Dtype dtype) {
  switch (dtype) {
    case Dtype::Float32: return "float32";
    case Dtype::Float64: return "float64";
    case Dtype::Float16: return "float16";
    case Dtype::BFloat16: return "bfloat16";
    case Dtype::Int64: return "int64";
    case Dtype::Int32: return "int32";
    case Dtype::Int16: return "int16";
    case Dtype::Int8: return "int8";
    case Dtype::UInt8: return "uint8";
    case Dtype::Bool: return "bool";
  }
  return "dtype";
}

std::size_t element_size(Dtype dtype) {
  switch (dtype) {
    case Dtype::Float64:
    case Dtype::Int64: return 8;
    case Dtype::Float32:
    case Dtype::Int32: return 4;
    case Dtype::Float16:
    case Dtype::BFloat16:
    case Dtype::Int16: return 2;
    case Dtype::Int8:
    case Dtype::UInt8:
    case Dtype::Bool: return 1;
  }
  return 1;
}

namespace {

// Equal keys by Python's rules for the key types a pickle can spell directly (True == 1); other keys
// have no identity here and stay separate.
std::optional<std::string> key_identity(const Value& key) {
  switch (key.kind) {
    case Kind::Text: return "s" + key.data;
    case Kind::Bytes: return "b" + key.data;
    case Kind::Int: return "i" + std::to_string(key.integer);
    case Kind::Bool: return key.boolean ? "i1" : "i0";
    default: return std::nullopt;
  }
}

}  // namespace

std::vector<DictItem> Document::dict_items(Id dict) const {
  const Value& value = (*this)[dict];
  if (value.kind != Kind::Dict) fail("{}: expected a dict, found {}", source, describe(value));
  std::vector<DictItem> out;
  std::unordered_map<std::string, std::size_t> position;  // identity -> index in out
  for (std::size_t i = 0; i + 1 < value.items.size(); i += 2) {
    DictItem item{value.items[i], value.items[i + 1]};
    if (std::optional<std::string> identity = key_identity((*this)[item.key])) {
      auto [known, inserted] = position.emplace(std::move(*identity), out.size());
      if (!inserted) {
        out[known->second].value = item.value;
        continue;
      }
    }
    out.push_back(item);
  }
  return out;
}

std::string kind_name(Kind kind) {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::Bytes: return "bytes";
    case Kind::ByteStr: return "Python 2 str";
    case Kind::Text: return "str";
    case Kind::List: return "list";
    case Kind::Tuple: return "tuple";
    case Kind::Dict: return "dict";
    case Kind::BoolArray: return "numpy bool array";
    case Kind::Global: return "global";
    case Kind::NumpyDtype: return "numpy dtype";
    case Kind::NumpyArrayWithoutData: return "numpy array";
    case Kind::Storage: return "torch storage";
    case Kind::Tensor: return "tensor";
  }
  return "value";
}

std::string describe(const Value& value) {
  std::string what;
  switch (value.kind) {
    case Kind::None: what = "None"; break;
    case Kind::Bool: what = value.boolean ? "bool True" : "bool False"; break;
    case Kind::Int: what = fmt::format("int {}", value.integer); break;
    case Kind::Float: what = fmt::format("float {}", value.real); break;
    case Kind::Bytes: what = fmt::format("bytes ({} bytes)", value.data.size()); break;
    case Kind::ByteStr: what = fmt::format("Python 2 str ({} bytes)", value.data.size()); break;
    case Kind::Text: what = fmt::format("str '{}' ({} bytes of UTF-8)", printable(value.data, 30), value.data.size()); break;
    case Kind::List: what = fmt::format("list of {} items", value.items.size()); break;
    case Kind::Tuple: what = fmt::format("tuple of {} items", value.items.size()); break;
    case Kind::Dict:
      what = fmt::format("{} of {} entries", value.data.empty() ? "dict" : value.data, value.items.size() / 2);
      break;
    case Kind::BoolArray: what = fmt::format("numpy bool array of {} items", value.bools.size()); break;
    case Kind::Global: what = fmt::format("reference to {}", value.data); break;
    case Kind::NumpyDtype: what = fmt::format("numpy dtype '{}'", value.data); break;
    case Kind::NumpyArrayWithoutData: what = "numpy array without its BUILD state"; break;
    case Kind::Storage:
      what = fmt::format("torch storage '{}' ({} elements of {}, {})", printable(value.storage.key, 30),
                         value.storage.numel, dtype_name(value.storage.dtype), printable(value.storage.location, 30));
      break;
    case Kind::Tensor:
      what = fmt::format("{} tensor of size {} in storage '{}'", dtype_name(value.tensor.storage.dtype),
                         join_ints(value.tensor.sizes), printable(value.tensor.storage.key, 30));
      break;
  }
  return fmt::format("{} made by {} at byte {}", what, value.opcode, value.offset);
}

Writer::Writer(std::ostream& out, int protocol) : out_(out), protocol_(protocol) {
  if (protocol < 2 || protocol > 5) fail("pickle writer: expected protocol 2-5, found {}", protocol);
  put(kProto);
  put_le(static_cast<std::uint64_t>(protocol), 1);
}

void Writer::put(unsigned char opcode) { out_.put(static_cast<char>(opcode)); }

void Writer::put_le(std::uint64_t value, int width) {
  for (int i = 0; i < width; ++i) out_.put(static_cast<char>((value >> (8 * i)) & 0xff));
}

Writer& Writer::bytes(std::string_view data) {
  if (protocol_ < 3) fail("pickle writer: protocol {} has no bytes opcodes (they arrived in protocol 3)", protocol_);
  if (data.size() < 256) {
    put(kShortBinBytes);
    put_le(data.size(), 1);
  } else if (data.size() <= 0xffffffffULL) {
    put(kBinBytes);
    put_le(data.size(), 4);
  } else if (protocol_ >= 4) {
    put(kBinBytes8);
    put_le(data.size(), 8);
  } else {
    fail("pickle writer: {} bytes need BINBYTES8, which protocol {} lacks", data.size(), protocol_);
  }
  out_.write(data.data(), static_cast<std::streamsize>(data.size()));
  return *this;
}

Writer& Writer::text(std::string_view utf8) {
  if (utf8.size() > 0xffffffffULL) fail("pickle writer: {} bytes of text exceed BINUNICODE's 4 GiB", utf8.size());
  put(kBinUnicode);
  put_le(utf8.size(), 4);
  out_.write(utf8.data(), static_cast<std::streamsize>(utf8.size()));
  return *this;
}

Writer& Writer::integer(std::int64_t value) {
  if (value >= 0 && value <= 0xff) {
    put(kBinInt1);
    put_le(static_cast<std::uint64_t>(value), 1);
  } else if (value >= 0 && value <= 0xffff) {
    put(kBinInt2);
    put_le(static_cast<std::uint64_t>(value), 2);
  } else if (value >= std::numeric_limits<std::int32_t>::min() && value <= std::numeric_limits<std::int32_t>::max()) {
    put(kBinInt);
    put_le(static_cast<std::uint32_t>(static_cast<std::int32_t>(value)), 4);
  } else {
    // Shortest little-endian two's complement: stop once the rest is the sign of the last byte.
    std::string payload;
    std::int64_t rest = value;
    for (;;) {
      auto low = static_cast<unsigned char>(rest & 0xff);
      payload += static_cast<char>(low);
      rest >>= 8;  // arithmetic shift (C++20)
      if ((rest == 0 && !(low & 0x80)) || (rest == -1 && (low & 0x80))) break;
    }
    put(kLong1);
    put_le(payload.size(), 1);
    out_.write(payload.data(), static_cast<std::streamsize>(payload.size()));
  }
  return *this;
}

Writer& Writer::boolean(bool value) {
  put(value ? kNewTrue : kNewFalse);
  return *this;
}

Writer& Writer::global(std::string_view module, std::string_view name) {
  // GLOBAL reads two lines, so a newline would split the name.
  if (module.empty() || name.empty() || module.find('\n') != std::string_view::npos ||
      name.find('\n') != std::string_view::npos) {
    fail("pickle writer: expected a module and a name without newlines, found '{}' and '{}'", printable(module),
         printable(name));
  }
  put(kGlobal);
  out_.write(module.data(), static_cast<std::streamsize>(module.size()));
  out_.put('\n');
  out_.write(name.data(), static_cast<std::streamsize>(name.size()));
  out_.put('\n');
  return *this;
}

Writer& Writer::empty_list() {
  put(kEmptyList);
  return *this;
}

Writer& Writer::empty_dict() {
  put(kEmptyDict);
  return *this;
}

Writer& Writer::empty_tuple() {
  put(kEmptyTuple);
  return *this;
}

Writer& Writer::mark() {
  put(kMark);
  return *this;
}

Writer& Writer::appends() {
  put(kAppends);
  return *this;
}

Writer& Writer::setitem() {
  put(kSetItem);
  return *this;
}

Writer& Writer::setitems() {
  put(kSetItems);
  return *this;
}

Writer& Writer::tuple() {
  put(kTuple);
  return *this;
}

Writer& Writer::tuple2() {
  put(kTuple2);
  return *this;
}

Writer& Writer::persistent_id() {
  put(kBinPersId);
  return *this;
}

Writer& Writer::reduce() {
  put(kReduce);
  return *this;
}

void Writer::int_tuple(const std::vector<std::int64_t>& values) {
  if (values.empty()) {
    empty_tuple();
    return;
  }
  mark();
  for (std::int64_t value : values) integer(value);
  tuple();
}

Writer& Writer::tensor(const TensorRef& t) {
  std::optional<std::string> problem = storage_problem(t.storage);
  if (!problem) problem = view_problem(t);
  if (problem) fail("pickle writer: cannot write a tensor of storage '{}': {}", printable(t.storage.key), *problem);

  global("torch._utils", "_rebuild_tensor_v2").mark();
  mark().text("storage").global("torch", storage_type_name(t.storage.dtype)).text(t.storage.key);
  text(t.storage.location).integer(t.storage.numel).tuple().persistent_id();
  integer(t.offset);
  int_tuple(t.sizes);
  int_tuple(t.strides);
  boolean(t.requires_grad);
  global("collections", "OrderedDict").empty_tuple().reduce();  // backward_hooks
  tuple().reduce();
  return *this;
}

void Writer::stop() {
  put(kStop);
  out_.flush();
}

}  // namespace ff::pickle
