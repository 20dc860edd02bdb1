// A data-only Python pickle reader and a minimal writer, enough for insightface's verification packs
// and the data.pkl record of torch.save archives. The reader interprets opcodes as data and never
// imports or calls anything.
#pragma once
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace ff::pickle {

// What a loaded value is.
//   Bytes      Python 3 bytes or bytearray (also `_codecs.encode(text, 'latin1')`, protocol 2's form)
//   ByteStr    Python 2 str (SHORT_BINSTRING / BINSTRING): raw bytes of unknown encoding
//   Text       Python 3 str / Python 2 unicode, kept as the UTF-8 the pickle stores
//   Dict       a dict or a collections.OrderedDict (Value::data tells which)
//   BoolArray  a 1-D numpy bool array (or a numpy bool scalar turns into Bool)
//   Global     a whitelisted name that GLOBAL / STACK_GLOBAL pushed, e.g. "numpy.dtype"
//   NumpyDtype the numpy bool dtype ('b1'), the only dtype accepted
//   NumpyArrayWithoutData  numpy's `_reconstruct` result before BUILD supplies shape and data
//   Storage    a torch storage named by a persistent id; its bytes live outside the pickle
//   Tensor     a view of a torch storage, as torch._utils._rebuild_tensor_v2 describes it
enum class Kind {
  None, Bool, Int, Float, Bytes, ByteStr, Text, List, Tuple, Dict,
  BoolArray, Global, NumpyDtype, NumpyArrayWithoutData, Storage, Tensor,
};

// Which constructors a pickle may name. The two are disjoint so that a verification pack cannot
// smuggle in torch globals and a weights file cannot use numpy's.
//   NumpyBool     `_codecs.encode`, `bytes` and numpy's bool-array / bool-scalar constructors
//   TorchWeights  what torch.save writes for a dict or state_dict of tensors: collections.OrderedDict,
//                 torch.<Type>Storage in persistent ids, torch._utils._rebuild_tensor_v2,
//                 _rebuild_parameter and _rebuild_parameter_with_state
enum class Vocabulary { NumpyBool, TorchWeights };

// Element types of torch storages.
enum class Dtype { Float32, Float64, Float16, BFloat16, Int64, Int32, Int16, Int8, UInt8, Bool };

std::string dtype_name(Dtype dtype);        // "float32", "bfloat16", ... as torch prints them
std::size_t element_size(Dtype dtype);      // bytes per element

// A storage that a torch.save archive keeps as the entry `<archive>/data/<key>`:
// numel elements of dtype (torch.UntypedStorage reads as uint8 bytes).
struct StorageRef {
  Dtype dtype = Dtype::Float32;
  std::string key;
  std::string location;     // where it was saved from, e.g. "cpu" or "cuda:0"; recorded, not interpreted
  std::int64_t numel = 0;   // in elements of dtype
};

// A strided view of a storage; every element storage[offset + sum(index[i] * strides[i])] lies
// within the storage (the reader checks this).
struct TensorRef {
  StorageRef storage;
  std::int64_t offset = 0;  // in elements
  std::vector<std::int64_t> sizes;
  std::vector<std::int64_t> strides;  // in elements
  bool requires_grad = false;
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
  std::string data;             // Bytes, ByteStr, Text (UTF-8), Global ("module.name"), NumpyDtype ("b1"),
                                // Dict ("collections.OrderedDict" when made by that class, else empty)
  std::vector<Id> items;        // List, Tuple; Dict as key, value, key, value, ... as written
  std::vector<bool> bools;      // BoolArray
  StorageRef storage;           // Storage
  TensorRef tensor;             // Tensor
};

struct DictItem {
  Id key;
  Id value;
};

struct Document {
  std::vector<Value> values;
  Id root = 0;
  std::string source;  // the name load() was given, for callers' error messages
  const Value& operator[](Id id) const { return values.at(id); }
  Value& operator[](Id id) { return values.at(id); }
  const Value& top() const { return values.at(root); }

  // A dict's entries in insertion order, as Python sees them: a str, bytes, int or bool key set
  // twice keeps its first position and its last value. Throws ff::Error when `dict` is not a Dict.
  std::vector<DictItem> dict_items(Id dict) const;
};

// Parses a whole pickle (protocols 2-5; binary opcodes only). Accepts the data opcodes, the memo,
// FRAME, and exactly the constructors of `vocabulary`, recognised by name and argument shape, never
// called:
//   NumpyBool: `_codecs.encode(text, 'latin1')` and `bytes()` (how protocol 2 stores Python 3 bytes),
//     and numpy's bool-array / bool-scalar patterns (`_reconstruct` + BUILD, `_frombuffer`, `scalar`,
//     `dtype('b1')`).
//   TorchWeights: `collections.OrderedDict()` (its BUILD state, e.g. a state_dict's `_metadata`, is
//     checked to be a dict and dropped), BINPERSID of ('storage', torch.<Type>Storage, key, location,
//     numel) -> Storage, `_rebuild_tensor_v2(storage, offset, sizes, strides, requires_grad,
//     OrderedDict()[, metadata])` -> Tensor, `_rebuild_parameter[_with_state](tensor, requires_grad,
//     hooks[, state])` -> that Tensor.
// Every other GLOBAL, STACK_GLOBAL, REDUCE, BUILD, INST, OBJ, NEWOBJ, PERSID, BINPERSID, EXT or
// out-of-band buffer is refused. Throws ff::Error "<source_name>: byte <offset>: <OPCODE>: <what was
// expected, what was found>"; truncation, open marks, a stack not holding exactly one value at STOP,
// bytes after STOP and integers beyond 64 bits are errors too.
//   auto doc = pickle::load(bytes, "lfw.bin");  if (doc.top().kind == pickle::Kind::Tuple) ...
Document load(std::string_view bytes, const std::string& source_name,
              Vocabulary vocabulary = Vocabulary::NumpyBool);

// "bytes (12 bytes)", "list of 3 items", ... followed by " made by <OPCODE> at byte <offset>".
std::string describe(const Value& value);
std::string kind_name(Kind kind);

// Emits a pickle without FRAME opcodes (they are optional) and without memo entries (nothing is
// shared). The caller composes values in pickle's stack order:
//   Writer w(out); w.empty_list().mark().bytes(b1).bytes(b2).appends(); w.empty_list(); w.tuple2().stop();
// torch.save's data.pkl for a dict of tensors, which torch.load accepts also with weights_only=True:
//   Writer w(out, 2); w.empty_dict().mark().text("a").tensor(a).text("b").tensor(b).setitems().stop();
// Everything but bytes() writes only opcodes torch 1.13's weights-only unpickler knows. Throws
// ff::Error for an unknown protocol and for values the chosen protocol cannot express.
class Writer {
 public:
  explicit Writer(std::ostream& out, int protocol = 4);  // writes PROTO; protocol 2-5
  Writer& bytes(std::string_view data);  // SHORT_BINBYTES / BINBYTES / BINBYTES8 by length; protocol 3+
  Writer& text(std::string_view utf8);   // BINUNICODE (the only str opcode torch 1.13 weights_only reads)
  Writer& integer(std::int64_t value);   // BININT1 / BININT2 / BININT / LONG1 by range, as CPython picks
  Writer& boolean(bool value);           // NEWTRUE / NEWFALSE
  Writer& global(std::string_view module, std::string_view name);  // GLOBAL, e.g. ("collections", "OrderedDict")
  Writer& empty_list();
  Writer& empty_dict();
  Writer& empty_tuple();
  Writer& mark();
  Writer& appends();                     // appends everything since the last mark to the list below it
  Writer& setitem();                     // key, value on top -> the dict below them
  Writer& setitems();                    // key, value pairs since the last mark -> the dict below the mark
  Writer& tuple();                       // everything since the last mark becomes one tuple
  Writer& tuple2();
  Writer& persistent_id();               // BINPERSID: the value on top is handed to the loader's persistent_load
  Writer& reduce();                      // callable, argument tuple -> callable(*arguments)
  // torch._utils._rebuild_tensor_v2(<storage persistent id>, offset, sizes, strides, requires_grad,
  // collections.OrderedDict()), as torch.save writes a tensor; refuses a view outside its storage.
  Writer& tensor(const TensorRef& tensor);
  void stop();                           // STOP and flush; the caller checks the stream's state

 private:
  void put(unsigned char opcode);
  void put_le(std::uint64_t value, int width);
  void int_tuple(const std::vector<std::int64_t>& values);
  std::ostream& out_;
  int protocol_;
};

}  // namespace ff::pickle
