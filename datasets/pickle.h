// A data-only Python pickle reader and a minimal protocol-4 writer, enough for insightface's
// verification packs. The reader interprets opcodes as data and never imports or calls anything.
#pragma once
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace ff::datasets::pickle {

// What a loaded value is.
//   Bytes      Python 3 bytes or bytearray (also `_codecs.encode(text, 'latin1')`, protocol 2's form)
//   ByteStr    Python 2 str (SHORT_BINSTRING / BINSTRING): raw bytes of unknown encoding
//   Text       Python 3 str / Python 2 unicode, kept as the UTF-8 the pickle stores
//   BoolArray  a 1-D numpy bool array (or a numpy bool scalar turns into Bool)
//   Global     a whitelisted name that GLOBAL / STACK_GLOBAL pushed, e.g. "numpy.dtype"
//   NumpyDtype the numpy bool dtype ('b1'), the only dtype accepted
//   NumpyArrayWithoutData  numpy's `_reconstruct` result before BUILD supplies shape and data
enum class Kind {
  None, Bool, Int, Float, Bytes, ByteStr, Text, List, Tuple, Dict,
  BoolArray, Global, NumpyDtype, NumpyArrayWithoutData,
};

// Values index each other through Ids into Document::values: the memo lets a list contain itself,
// so values cannot own their children.
using Id = std::size_t;

struct Value {
  Kind kind = Kind::None;
  std::uint64_t offset = 0;     // byte offset of the opcode that made the value, for error messages
  const char* opcode = "";      // that opcode's name, e.g. "SHORT_BINBYTES"
  bool boolean = false;         // Bool
  std::int64_t integer = 0;     // Int
  double real = 0;              // Float
  std::string data;             // Bytes, ByteStr, Text (UTF-8), Global ("module.name"), NumpyDtype ("b1")
  std::vector<Id> items;        // List, Tuple; Dict as key, value, key, value, ...
  std::vector<bool> bools;      // BoolArray
};

struct Document {
  std::vector<Value> values;
  Id root = 0;
  const Value& operator[](Id id) const { return values.at(id); }
  Value& operator[](Id id) { return values.at(id); }
  const Value& top() const { return values.at(root); }
};

// Parses a whole pickle (protocols 2-5; binary opcodes only). Accepts the data opcodes, the memo,
// FRAME, and exactly these constructors, recognised by name and argument shape, never called:
// `_codecs.encode(text, 'latin1')` and `bytes()` (how protocol 2 stores Python 3 bytes), and numpy's
// bool-array / bool-scalar patterns (`_reconstruct` + BUILD, `_frombuffer`, `scalar`, `dtype('b1')`).
// Every other GLOBAL, STACK_GLOBAL, REDUCE, BUILD, INST, OBJ, NEWOBJ, PERSID, EXT or out-of-band
// buffer is refused. Throws ff::Error "<source_name>: byte <offset>: <OPCODE>: <what was expected,
// what was found>"; truncation, open marks, a stack not holding exactly one value at STOP and bytes
// after STOP are errors too.
//   auto doc = pickle::load(bytes, "lfw.bin");  if (doc.top().kind == pickle::Kind::Tuple) ...
Document load(std::string_view bytes, const std::string& source_name);

// "bytes (12 bytes)", "list of 3 items", ... followed by " made by <OPCODE> at byte <offset>".
std::string describe(const Value& value);
std::string kind_name(Kind kind);

// Emits a protocol-4 pickle without FRAME opcodes (they are optional) and without memo entries
// (nothing is shared). The caller composes values in pickle's stack order:
//   Writer w(out); w.empty_list().mark().bytes(b1).bytes(b2).appends(); w.empty_list(); w.tuple2().stop();
class Writer {
 public:
  explicit Writer(std::ostream& out);  // writes PROTO 4
  Writer& bytes(std::string_view data);  // SHORT_BINBYTES / BINBYTES / BINBYTES8 by length
  Writer& boolean(bool value);           // NEWTRUE / NEWFALSE
  Writer& empty_list();
  Writer& mark();
  Writer& appends();                     // appends everything since the last mark to the list below it
  Writer& tuple2();
  void stop();                           // STOP and flush; the caller checks the stream's state

 private:
  void put(char opcode);
  void put_le(std::uint64_t value, int width);
  std::ostream& out_;
};

}  // namespace ff::datasets::pickle
