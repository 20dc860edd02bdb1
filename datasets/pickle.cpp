// Restricted pickle VM: interprets opcodes into plain values and recognises a few whitelisted
// constructor patterns by their shape; it has no way to import, look up or call anything.
#include "datasets/pickle.h"

#include <charconv>
#include <cstring>
#include <limits>
#include <unordered_map>

#include <fmt/format.h>

#include "src/util/error.h"

namespace ff::datasets::pickle {
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
// Python writer produces (see Machine::reduce and Machine::build); nothing is ever resolved.
// numpy 2 moved numpy.core to numpy._core, so both spellings are listed.
enum class Callable { CodecsEncode, EmptyBytes, Reconstruct, Ndarray, Dtype, Scalar, FromBuffer };

struct Allowed {
  const char* qualified_name;
  Callable callable;
};

constexpr Allowed kAllowed[] = {
    {"_codecs.encode", Callable::CodecsEncode},
    {"__builtin__.bytes", Callable::EmptyBytes},
    {"builtins.bytes", Callable::EmptyBytes},
    {"numpy.core.multiarray._reconstruct", Callable::Reconstruct},
    {"numpy._core.multiarray._reconstruct", Callable::Reconstruct},
    {"numpy.ndarray", Callable::Ndarray},
    {"numpy.dtype", Callable::Dtype},
    {"numpy.core.multiarray.scalar", Callable::Scalar},
    {"numpy._core.multiarray.scalar", Callable::Scalar},
    {"numpy.core.numeric._frombuffer", Callable::FromBuffer},
    {"numpy._core.numeric._frombuffer", Callable::FromBuffer},
};

const Allowed* find_allowed(std::string_view qualified_name) {
  for (const Allowed& allowed : kAllowed) {
    if (qualified_name == allowed.qualified_name) return &allowed;
  }
  return nullptr;
}

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

class Machine {
 public:
  Machine(std::string_view in, const std::string& source) : in_(in), source_(source) {}

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

  // LONG1 / LONG4 payloads are little-endian two's complement of any length; 8 bytes suffice here.
  void push_long(std::uint64_t width) {
    if (width > 8) {
      take(width, "integer");  // a truncated file reports truncation first
      error(fmt::format("expected an integer of at most 8 bytes, found one of {} bytes", width));
    }
    std::uint64_t raw = width == 0 ? 0 : little_endian(static_cast<int>(width), "integer");
    std::int64_t value;
    if (width > 0 && width < 8 && (raw >> (8 * width - 1)) & 1) {
      value = static_cast<std::int64_t>(raw) - (std::int64_t{1} << (8 * width));
    } else {
      value = static_cast<std::int64_t>(raw);
    }
    push_int(value);
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
    if (find_allowed(qualified) == nullptr) {
      error(fmt::format("refused {}: a verification pack may only name _codecs.encode, bytes and numpy's "
                        "bool-array constructors; this reader never imports or calls anything",
                        printable(qualified, 120)));
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
    switch (find_allowed(name)->callable) {
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
      case Callable::Dtype: {
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
    }
    refuse_call(name, args_id, "of a known constructor");
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
    error(fmt::format("refused: BUILD would set the state of {}; only numpy dtype and array state is accepted",
                      describe(target)));
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
        error("refused: persistent ids are resolved by the writer's own code, which this reader never runs");
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
        error("expected lists, tuples, bytes and bools, found a set; sets are not part of a verification pack");
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
  std::size_t pos_ = 0;
  std::size_t op_start_ = 0;
  unsigned char op_ = 0;
  Document doc_;
  std::vector<Id> stack_;
  std::vector<std::size_t> marks_;  // stack heights at each open MARK, as CPython's metastack
  std::unordered_map<std::uint64_t, Id> memo_;
};

}  // namespace

Document load(std::string_view bytes, const std::string& source_name) {
  return Machine(bytes, source_name).run();
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
    case Kind::Dict: what = fmt::format("dict of {} entries", value.items.size() / 2); break;
    case Kind::BoolArray: what = fmt::format("numpy bool array of {} items", value.bools.size()); break;
    case Kind::Global: what = fmt::format("reference to {}", value.data); break;
    case Kind::NumpyDtype: what = fmt::format("numpy dtype '{}'", value.data); break;
    case Kind::NumpyArrayWithoutData: what = "numpy array without its BUILD state"; break;
  }
  return fmt::format("{} made by {} at byte {}", what, value.opcode, value.offset);
}

Writer::Writer(std::ostream& out) : out_(out) {
  put(static_cast<char>(kProto));
  put(4);
}

void Writer::put(char opcode) { out_.put(opcode); }

void Writer::put_le(std::uint64_t value, int width) {
  for (int i = 0; i < width; ++i) out_.put(static_cast<char>((value >> (8 * i)) & 0xff));
}

Writer& Writer::bytes(std::string_view data) {
  if (data.size() < 256) {
    put(static_cast<char>(kShortBinBytes));
    put_le(data.size(), 1);
  } else if (data.size() <= 0xffffffffULL) {
    put(static_cast<char>(kBinBytes));
    put_le(data.size(), 4);
  } else {
    put(static_cast<char>(kBinBytes8));
    put_le(data.size(), 8);
  }
  out_.write(data.data(), static_cast<std::streamsize>(data.size()));
  return *this;
}

Writer& Writer::boolean(bool value) {
  put(static_cast<char>(value ? kNewTrue : kNewFalse));
  return *this;
}

Writer& Writer::empty_list() {
  put(static_cast<char>(kEmptyList));
  return *this;
}

Writer& Writer::mark() {
  put(static_cast<char>(kMark));
  return *this;
}

Writer& Writer::appends() {
  put(static_cast<char>(kAppends));
  return *this;
}

Writer& Writer::tuple2() {
  put(static_cast<char>(kTuple2));
  return *this;
}

void Writer::stop() {
  put(static_cast<char>(kStop));
  out_.flush();
}

}  // namespace ff::datasets::pickle
