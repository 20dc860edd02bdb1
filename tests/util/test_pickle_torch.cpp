// Checks src/util/pickle.cpp's TorchWeights vocabulary and torch writer against Debian's Python torch:
// torch.save archives are written by /usr/bin/python3 at test time and described by Python's own
// unpickler, and torch.load (also with weights_only=True) reads back what the C++ writer wrote.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "src/util/atomic_file.h"
#include "src/util/error.h"
#include "src/util/pickle.h"
#include "support.h"

namespace {
using ff::test::error_of;
namespace fs = std::filesystem;
using namespace std::string_literals;
using Catch::Matchers::Contains;
using nlohmann::json;
namespace pickle = ff::pickle;

// The Python side of the tests. Each fixture's expected content comes from Python's pickle module
// with torch's rebuild functions swapped for recorders, cross-checked against torch.load and the
// storage bytes in the archive, so the C++ reader under test never describes what it should find.
constexpr const char* kHelperScript = R"PY(
import io, json, os, pickle, pickletools, sys, zipfile
import torch
from torch import nn

def data_pkl(path):
    with zipfile.ZipFile(path) as z:
        names = [n for n in z.namelist() if n.endswith('/data.pkl')]
        assert len(names) == 1, names
        return names[0][:-len('data.pkl')], z.read(names[0])

def save_and_extract(folder, name, obj, protocol=2):
    path = os.path.join(folder, name + '.pt')
    torch.save(obj, path, pickle_protocol=protocol)
    prefix, blob = data_pkl(path)
    open(os.path.join(folder, name + '.pkl'), 'wb').write(blob)
    return path, prefix, blob

def offset_of(blob, opcode, text=None):
    for op, arg, pos in pickletools.genops(blob):
        if op.name == opcode and (text is None or text in str(arg)):
            return pos
    raise AssertionError('no %s in the fixture' % opcode)

class Recorder(pickle.Unpickler):
    def persistent_load(self, pid):
        typename, storage_type, key, location, numel = pid
        assert typename == 'storage', pid
        return {'key': key, 'dtype': str(storage_type.dtype)[len('torch.'):], 'location': location, 'numel': numel}

    def find_class(self, module, name):
        if (module, name) == ('torch._utils', '_rebuild_tensor_v2'):
            def tensor(storage, offset, size, stride, requires_grad, hooks, metadata=None):
                return {'kind': 'tensor', 'storage': storage, 'offset': offset, 'sizes': list(size),
                        'strides': list(stride), 'requires_grad': requires_grad}
            return tensor
        if (module, name) == ('torch._utils', '_rebuild_parameter'):
            return lambda t, requires_grad, hooks: dict(t, requires_grad=requires_grad)
        return super().find_class(module, name)

# torch.load's tensors must agree with the records, and each storage's bytes in the archive must
# reproduce the tensor through offset and strides: that ties every storage key to its data.
def check_against_torch(path, prefix, records):
    loaded = torch.load(path)
    with zipfile.ZipFile(path) as z:
        for key, record in records:
            value = loaded[key]
            if record['kind'] != 'tensor':
                assert value == record['value'], key
                continue
            assert str(value.dtype)[len('torch.'):] == record['storage']['dtype'], key
            assert list(value.shape) == record['sizes'] and list(value.stride()) == record['strides'], key
            assert value.storage_offset() == record['offset'], key
            raw = z.read(prefix + 'data/' + record['storage']['key'])
            assert len(raw) == record['storage']['numel'] * value.element_size(), key
            flat = torch.frombuffer(bytearray(raw), dtype=value.dtype)
            assert torch.equal(flat.as_strided(value.shape, value.stride(), value.storage_offset()), value), key

def describe(folder, name, obj, protocol):
    path, prefix, blob = save_and_extract(folder, name, obj, protocol)
    root = Recorder(io.BytesIO(blob)).load()
    records = [(k, v if isinstance(v, dict) else {'kind': 'int', 'value': v}) for k, v in root.items()]
    check_against_torch(path, prefix, records)
    sidecar = {'root': type(root).__name__, 'opcodes': sorted({op.name for op, _, _ in pickletools.genops(blob)}),
               'entries': records}
    json.dump(sidecar, open(os.path.join(folder, name + '.json'), 'w'))

def fixtures(folder):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.PReLU(4))
    model(torch.randn(2, 3, 8, 8))  # one training step: num_batches_tracked becomes 1
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    mixed = {
        'param': nn.Parameter(torch.randn(2, 3)),
        'base': base,
        'view': base[1:, ::2],  # saved as is: shares base's storage with offset 4, strides (4, 2)
        'bf16': torch.arange(5).to(torch.bfloat16),
        'fp16': torch.tensor([1.5, -2.0], dtype=torch.float16),
    }
    for dtype in (torch.float64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool):
        mixed[str(dtype)[len('torch.'):]] = torch.ones(3, dtype=dtype)
    cases = [
        ('state_dict-2', model.state_dict(), 2),
        ('state_dict-4', model.state_dict(), 4),
        ('one_entry', {'only': torch.full((2, 2), 3.0)}, 2),
        ('mixed-2', mixed, 2),
        ('mixed-5', mixed, 5),
        ('ints', {'big': 2**40, 'neg': -2**50, 'max': 2**63 - 1, 'min': -2**63, 'w': torch.zeros(1)}, 2),
    ]
    for name, obj, protocol in cases:
        describe(folder, name, obj, protocol)

def hostile(folder, marker):
    class Evil:
        def __reduce__(self):
            return (os.system, ('touch ' + marker,))
    path, _, evil = save_and_extract(folder, 'evil', {'w': torch.ones(2), 'evil': Evil()})
    torch.load(path, weights_only=False)  # the fixture really is hostile: torch.load runs the command
    assert os.path.exists(marker), 'the hostile fixture did not run its command'
    os.remove(marker)
    huge = save_and_extract(folder, 'huge', {'huge': 2**70})[2]
    offsets = {'evil': offset_of(evil, 'GLOBAL', 'system'), 'huge': offset_of(huge, 'LONG1')}
    json.dump(offsets, open(os.path.join(folder, 'hostile.json'), 'w'))

# Zips a data.pkl and storages written by C++ the way torch.save lays out its archive, loads it
# both ways and reports what torch made of it.
def load_written(folder, out):
    path = os.path.join(folder, 'written.pt')
    with zipfile.ZipFile(path, 'w') as z:
        z.write(os.path.join(folder, 'data.pkl'), 'archive/data.pkl')
        for key in sorted(os.listdir(os.path.join(folder, 'data'))):
            z.write(os.path.join(folder, 'data', key), 'archive/data/' + key)
        z.writestr('archive/version', '3\n')
    report = {}
    for mode, kwargs in (('full', {'weights_only': False}), ('weights_only', {'weights_only': True})):
        loaded = torch.load(path, **kwargs)
        report[mode] = {
            'type': type(loaded).__name__,
            'keys': list(loaded),
            'tensors': {k: {'dtype': str(t.dtype), 'sizes': list(t.shape), 'strides': list(t.stride()),
                            'offset': t.storage_offset(), 'values': t.tolist(), 'requires_grad': t.requires_grad,
                            'storage': t.storage().data_ptr()} for k, t in loaded.items()},
        }
    json.dump(report, open(out, 'w'))

command = sys.argv[1]
if command == 'fixtures':
    fixtures(sys.argv[2])
elif command == 'hostile':
    hostile(sys.argv[2], sys.argv[3])
elif command == 'load_written':
    load_written(sys.argv[2], sys.argv[3])
elif command == 'cpython_bytes':
    # What CPython's own pickler writes for the same list, without the memo entries it adds.
    values = json.load(open(sys.argv[2]))
    open(sys.argv[3], 'wb').write(pickletools.optimize(pickle.dumps(values, protocol=2)))
elif command == 'items':
    json.dump([[k, v] for k, v in pickle.load(open(sys.argv[2], 'rb')).items()], open(sys.argv[3], 'w'))
else:
    sys.exit('unknown command ' + command)
)PY";

std::string quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? "'\\''"s : std::string(1, c);
  return out + "'";
}

void run_helper(const ff::test::TempDir& dir, const std::vector<std::string>& args) {
  fs::path script = dir / "helper.py";
  if (!fs::exists(script)) ff::test::write_text(script, kHelperScript);
  std::string command = quote(ff::test::python()) + " " + quote(script.string());
  for (const std::string& arg : args) command += " " + quote(arg);
  ff::test::CommandResult result = ff::test::run_command(command);
  INFO("python output: " << result.output);
  REQUIRE(result.exit_code == 0);
}

json read_json(const fs::path& path) { return json::parse(ff::read_file(path)); }

pickle::Document load_torch(const fs::path& path) {
  return pickle::load(ff::read_file(path), path.filename().string(), pickle::Vocabulary::TorchWeights);
}

// The reader's view of a dict of tensors and ints must match Python's record entry by entry, in order.
void require_matches(const pickle::Document& doc, const json& sidecar) {
  const pickle::Value& root = doc.top();
  REQUIRE(root.kind == pickle::Kind::Dict);
  CHECK(root.data == (sidecar["root"] == "OrderedDict" ? "collections.OrderedDict" : ""));
  std::vector<pickle::DictItem> items = doc.dict_items(doc.root);
  const json& entries = sidecar["entries"];
  REQUIRE(items.size() == entries.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string name = entries[i][0];
    const json& want = entries[i][1];
    INFO("entry " << i << " '" << name << "'");
    REQUIRE(doc[items[i].key].kind == pickle::Kind::Text);
    CHECK(doc[items[i].key].data == name);
    const pickle::Value& value = doc[items[i].value];
    if (want["kind"] == "int") {
      REQUIRE(value.kind == pickle::Kind::Int);
      CHECK(value.integer == want["value"].get<std::int64_t>());
      continue;
    }
    REQUIRE(value.kind == pickle::Kind::Tensor);
    const pickle::TensorRef& t = value.tensor;
    CHECK(pickle::dtype_name(t.storage.dtype) == want["storage"]["dtype"].get<std::string>());
    CHECK(t.storage.key == want["storage"]["key"].get<std::string>());
    CHECK(t.storage.location == want["storage"]["location"].get<std::string>());
    CHECK(t.storage.numel == want["storage"]["numel"].get<std::int64_t>());
    CHECK(t.offset == want["offset"].get<std::int64_t>());
    CHECK(t.sizes == want["sizes"].get<std::vector<std::int64_t>>());
    CHECK(t.strides == want["strides"].get<std::vector<std::int64_t>>());
    CHECK(t.requires_grad == want["requires_grad"].get<bool>());
  }
}

const pickle::TensorRef& tensor_named(const pickle::Document& doc, const std::string& name) {
  std::vector<pickle::DictItem> items = doc.dict_items(doc.root);
  auto item = std::find_if(items.begin(), items.end(), [&](const pickle::DictItem& candidate) {
    return doc[candidate.key].kind == pickle::Kind::Text && doc[candidate.key].data == name;
  });
  INFO("entry " << name);
  REQUIRE(item != items.end());
  REQUIRE(doc[item->value].kind == pickle::Kind::Tensor);
  return doc[item->value].tensor;
}

// A pickle composed in a test, with the byte offset of any opcode at hand for expected messages.
struct Stream {
  std::ostringstream out;
  pickle::Writer w{out, 2};
  std::uint64_t here() { return static_cast<std::uint64_t>(out.tellp()); }
};

void storage_id(pickle::Writer& w, const std::string& type, const std::string& key, std::int64_t numel) {
  w.mark().text("storage").global("torch", type).text(key).text("cpu").integer(numel).tuple().persistent_id();
}

void int_tuple(pickle::Writer& w, const std::vector<std::int64_t>& values) {
  w.mark();
  for (std::int64_t value : values) w.integer(value);
  w.tuple();
}

// _rebuild_tensor_v2 of a FloatStorage, composed from the writer's primitives so that shapes the
// writer itself refuses can be written; returns the offset of its REDUCE.
std::uint64_t rebuild(Stream& s, std::int64_t numel, std::int64_t offset, const std::vector<std::int64_t>& sizes,
                      const std::vector<std::int64_t>& strides) {
  s.w.global("torch._utils", "_rebuild_tensor_v2").mark();
  storage_id(s.w, "FloatStorage", "0", numel);
  s.w.integer(offset);
  int_tuple(s.w, sizes);
  int_tuple(s.w, strides);
  s.w.boolean(false).global("collections", "OrderedDict").empty_tuple().reduce().tuple();
  std::uint64_t at = s.here();
  s.w.reduce();
  return at;
}

}  // namespace

TEST_CASE("torch.save archives written by Python read back as Python's unpickler sees them", "[util]") {
  ff::test::TempDir dir("pickle-torch");
  run_helper(dir, {"fixtures", dir.path().string()});

  // Each fixture proves it exercises the opcodes it is meant to.
  const std::vector<std::pair<std::string, std::vector<std::string>>> fixtures = {
      {"state_dict-2", {"BUILD", "BINPERSID", "BINPUT", "BINGET", "BINUNICODE", "GLOBAL", "SETITEM", "EMPTY_TUPLE",
                        "TUPLE1"}},
      {"state_dict-4", {"FRAME", "MEMOIZE", "STACK_GLOBAL", "SHORT_BINUNICODE"}},
      {"one_entry", {"SETITEM", "TUPLE2"}},
      {"mixed-2", {"NEWTRUE", "TUPLE3", "SETITEMS"}},
      {"mixed-5", {"FRAME", "STACK_GLOBAL"}},
      {"ints", {"LONG1"}},
  };
  for (const auto& [name, opcodes] : fixtures) {
    INFO("fixture " << name);
    json sidecar = read_json(dir / (name + ".json"));
    for (const std::string& opcode : opcodes) {
      INFO("opcode " << opcode);
      CHECK(std::find(sidecar["opcodes"].begin(), sidecar["opcodes"].end(), opcode) != sidecar["opcodes"].end());
    }
    pickle::Document doc = load_torch(dir / (name + ".pkl"));
    require_matches(doc, sidecar);
  }

  pickle::Document state = load_torch(dir / "state_dict-2.pkl");
  CHECK_THAT(pickle::describe(state.top()),
             Contains("collections.OrderedDict of 8 entries made by REDUCE at byte 30"));
  const pickle::TensorRef& tracked = tensor_named(state, "1.num_batches_tracked");
  CHECK(tracked.storage.dtype == pickle::Dtype::Int64);
  CHECK(tracked.sizes.empty());

  pickle::Document mixed = load_torch(dir / "mixed-2.pkl");
  const pickle::TensorRef& base = tensor_named(mixed, "base");
  const pickle::TensorRef& view = tensor_named(mixed, "view");
  CHECK(view.storage.key == base.storage.key);
  CHECK(view.offset == 4);
  CHECK(view.strides == std::vector<std::int64_t>{4, 2});
  CHECK(tensor_named(mixed, "param").requires_grad);
  CHECK(tensor_named(mixed, "bf16").storage.dtype == pickle::Dtype::BFloat16);
  CHECK(tensor_named(mixed, "fp16").storage.dtype == pickle::Dtype::Float16);
  CHECK(pickle::element_size(tensor_named(mixed, "bf16").storage.dtype) == 2);

  // The vocabularies are disjoint: a verification-pack load refuses every torch fixture at its first global.
  for (const auto& [name, opcodes] : fixtures) {
    INFO("fixture " << name);
    std::string message =
        error_of([&] { pickle::load(ff::read_file(dir / (name + ".pkl")), name, pickle::Vocabulary::NumpyBool); });
    CHECK_THAT(message, Contains(name + ": byte ") && Contains("GLOBAL: refused ") && Contains("verification pack"));
  }
}

TEST_CASE("a torch pickle that calls os.system or holds a 70-bit int is refused at its byte offset", "[util]") {
  ff::test::TempDir dir("pickle-torch-hostile");
  fs::path marker = dir / "code_ran";
  run_helper(dir, {"hostile", dir.path().string(), marker.string()});
  json offsets = read_json(dir / "hostile.json");

  std::string message = error_of([&] { load_torch(dir / "evil.pkl"); });
  CHECK_THAT(message, Contains(fmt::format("evil.pkl: byte {}: GLOBAL: refused ", offsets["evil"].get<int>())) &&
                          Contains("system") && Contains("torch weights file"));
  CHECK_FALSE(fs::exists(marker));

  message = error_of([&] { load_torch(dir / "huge.pkl"); });
  CHECK_THAT(message, Contains(fmt::format("huge.pkl: byte {}: LONG1: expected an integer that fits in 64 bits",
                                           offsets["huge"].get<int>())));
}

TEST_CASE("hand-made torch pickles of the wrong shape are refused naming opcode and offset", "[util]") {
  auto load = [](const std::string& bytes) { pickle::load(bytes, "hand.pkl", pickle::Vocabulary::TorchWeights); };
  auto refused = [&](Stream& s) {
    s.w.stop();
    return error_of([&] { load(s.out.str()); });
  };

  SECTION("a view reaching past its storage") {
    Stream s;
    std::uint64_t at = rebuild(s, 6, 1, {2, 3}, {3, 1});
    CHECK_THAT(refused(s), Contains(fmt::format("hand.pkl: byte {}: REDUCE: expected the view (offset 1, sizes "
                                                "[2, 3], strides [3, 1]) to lie within storage '0' of 6 elements, "
                                                "found it reaching element 6", at)));
  }
  SECTION("a view whose extent overflows") {
    Stream s;
    std::uint64_t at = rebuild(s, 6, 0, {std::int64_t{1} << 62, 3}, {4, 1});
    CHECK_THAT(refused(s), Contains(fmt::format("byte {}: REDUCE", at)) && Contains("beyond 2^63"));
  }
  SECTION("sizes and strides of different lengths") {
    Stream s;
    std::uint64_t at = rebuild(s, 6, 0, {2, 3}, {3});
    CHECK_THAT(refused(s), Contains(fmt::format("byte {}: REDUCE: expected as many strides as sizes", at)));
  }
  SECTION("a negative stride or offset") {
    Stream a;
    std::uint64_t at = rebuild(a, 6, 0, {2}, {-1});
    CHECK_THAT(refused(a), Contains(fmt::format("byte {}: REDUCE: expected non-negative sizes and strides", at)));
    Stream b;
    at = rebuild(b, 6, -1, {2}, {1});
    CHECK_THAT(refused(b), Contains(fmt::format("byte {}: REDUCE: expected a non-negative storage offset", at)));
  }
  SECTION("an empty view needs no storage") {
    Stream s;
    rebuild(s, 0, 3, {0, 5}, {5, 1});
    s.w.stop();
    pickle::Document doc = pickle::load(s.out.str(), "hand.pkl", pickle::Vocabulary::TorchWeights);
    REQUIRE(doc.top().kind == pickle::Kind::Tensor);
    CHECK(doc.top().tensor.sizes == std::vector<std::int64_t>{0, 5});
  }
  SECTION("a storage key that could leave the archive's data folder") {
    Stream s;
    s.w.mark().text("storage").global("torch", "FloatStorage").text("../x").text("cpu").integer(1).tuple();
    std::uint64_t at = s.here();
    s.w.persistent_id();
    CHECK_THAT(refused(s), Contains(fmt::format("byte {}: BINPERSID: expected a storage key", at)));
  }
  SECTION("a negative storage size") {
    Stream s;
    s.w.mark().text("storage").global("torch", "FloatStorage").text("0").text("cpu").integer(-1).tuple();
    std::uint64_t at = s.here();
    s.w.persistent_id();
    CHECK_THAT(refused(s), Contains(fmt::format("byte {}: BINPERSID: expected a non-negative storage size", at)));
  }
  SECTION("a persistent id that is not a storage") {
    Stream s;
    s.w.mark().text("module").global("torch", "FloatStorage").text("0").text("cpu").integer(1).tuple();
    std::uint64_t at = s.here();
    s.w.persistent_id();
    CHECK_THAT(refused(s), Contains(fmt::format("byte {}: BINPERSID: expected a storage persistent id", at)));
  }
  SECTION("a storage type that is not a storage type") {
    Stream s;
    s.w.mark().text("storage").global("collections", "OrderedDict").text("0").text("cpu").integer(1).tuple();
    std::uint64_t at = s.here();
    s.w.persistent_id();
    CHECK_THAT(refused(s), Contains(fmt::format("byte {}: BINPERSID: expected a torch storage type", at)));
  }
  SECTION("a complex storage type") {
    Stream s;
    s.w.mark().text("storage");
    std::uint64_t at = s.here();
    s.w.global("torch", "ComplexFloatStorage");
    CHECK_THAT(refused(s), Contains(fmt::format("byte {}: GLOBAL: refused torch.ComplexFloatStorage", at)));
  }
  SECTION("one storage key named with two dtypes") {
    Stream s;
    s.w.mark();
    storage_id(s.w, "FloatStorage", "0", 4);
    s.w.mark().text("storage").global("torch", "LongStorage").text("0").text("cpu").integer(4).tuple();
    std::uint64_t at = s.here();
    s.w.persistent_id().tuple2();
    CHECK_THAT(refused(s), Contains(fmt::format("byte {}: BINPERSID: expected storage '0' to be 4 elements of "
                                                "float32 as first named, found 4 elements of int64", at)));
  }
  SECTION("calling a storage type") {
    Stream s;
    s.w.global("torch", "FloatStorage").empty_tuple();
    std::uint64_t at = s.here();
    s.w.reduce();
    CHECK_THAT(refused(s), Contains(fmt::format("byte {}: REDUCE: refused torch.FloatStorage()", at)));
  }
  SECTION("OrderedDict called with items") {
    Stream s;
    s.w.global("collections", "OrderedDict").mark().empty_list().tuple();  // OrderedDict([])
    std::uint64_t at = s.here();
    s.w.reduce();
    CHECK_THAT(refused(s), Contains(fmt::format("byte {}: REDUCE: refused collections.OrderedDict(list)", at)));
  }
  SECTION("_rebuild_tensor_v2 without its hooks") {
    Stream s;
    s.w.global("torch._utils", "_rebuild_tensor_v2").mark();
    storage_id(s.w, "FloatStorage", "0", 4);
    s.w.integer(0);
    int_tuple(s.w, {4});
    int_tuple(s.w, {1});
    s.w.boolean(false).tuple();
    std::uint64_t at = s.here();
    s.w.reduce();
    CHECK_THAT(refused(s), Contains(fmt::format("byte {}: REDUCE: refused torch._utils._rebuild_tensor_v2(torch "
                                                "storage, int, tuple, tuple, bool)", at)));
  }
  SECTION("_rebuild_parameter of something other than a tensor") {
    Stream s;
    s.w.global("torch._utils", "_rebuild_parameter").mark().integer(1).boolean(true);
    s.w.global("collections", "OrderedDict").empty_tuple().reduce().tuple();
    std::uint64_t at = s.here();
    s.w.reduce();
    CHECK_THAT(refused(s), Contains(fmt::format("byte {}: REDUCE: refused torch._utils._rebuild_parameter(int", at)));
  }
  SECTION("BUILD on a plain dict, or an OrderedDict given a non-dict state") {
    Stream a;
    a.w.empty_dict().empty_dict();
    std::uint64_t at = a.here();
    a.out.put('b');  // BUILD
    CHECK_THAT(refused(a), Contains(fmt::format("byte {}: BUILD: refused", at)));
    Stream b;
    b.w.global("collections", "OrderedDict").empty_tuple().reduce().empty_list();
    at = b.here();
    b.out.put('b');
    CHECK_THAT(refused(b), Contains(fmt::format("byte {}: BUILD: expected an OrderedDict's attribute dict", at)));
  }
  SECTION("text persistent ids and numpy globals") {
    CHECK_THAT(error_of([&] { load("\x80\x02P0\n."s); }), Contains("hand.pkl: byte 2: PERSID: refused"));
    CHECK_THAT(error_of([&] { load("\x80\x02" "c_codecs\nencode\n."s); }),
               Contains("byte 2: GLOBAL: refused _codecs.encode") && Contains("torch weights file"));
    CHECK_THAT(error_of([&] { load("\x80\x02" "cbuiltins\neval\nX\x03\x00\x00\x00" "1+1\x85R."s); }),
               Contains("byte 2: GLOBAL: refused builtins.eval"));
    CHECK_THAT(error_of([&] { load("\x80\x04\x8c\x08" "builtins\x8c\x04" "eval\x93."s); }),
               Contains("byte 18: STACK_GLOBAL: refused builtins.eval"));
  }
  SECTION("the verification-pack vocabulary refuses storages") {
    Stream s;
    s.w.mark().text("storage");
    std::uint64_t at = s.here();
    s.w.global("torch", "FloatStorage").text("0").text("cpu").integer(4).tuple().persistent_id().stop();
    CHECK_THAT(error_of([&] { pickle::load(s.out.str(), "pack.bin", pickle::Vocabulary::NumpyBool); }),
               Contains(fmt::format("pack.bin: byte {}: GLOBAL: refused torch.FloatStorage", at)));
  }
}

TEST_CASE("forms newer torch versions write: UntypedStorage, tensor metadata, parameters with state", "[util]") {
  Stream s;
  s.w.global("torch._utils", "_rebuild_parameter_with_state").mark();
  s.w.global("torch._utils", "_rebuild_tensor_v2").mark();
  storage_id(s.w, "UntypedStorage", "7", 16);
  s.w.integer(2);
  int_tuple(s.w, {2, 3});
  int_tuple(s.w, {4, 1});
  s.w.boolean(false).global("collections", "OrderedDict").empty_tuple().reduce();
  s.w.empty_dict().text("neg").boolean(true).setitem();  // metadata
  s.w.tuple().reduce();
  s.w.boolean(true).global("collections", "OrderedDict").empty_tuple().reduce();
  s.w.empty_dict().mark().text("tag").text("x").setitems();  // the parameter's Python attributes
  s.w.tuple().reduce().stop();

  pickle::Document doc = pickle::load(s.out.str(), "new.pkl", pickle::Vocabulary::TorchWeights);
  REQUIRE(doc.top().kind == pickle::Kind::Tensor);
  const pickle::TensorRef& t = doc.top().tensor;
  CHECK(t.storage.dtype == pickle::Dtype::UInt8);
  CHECK(t.storage.key == "7");
  CHECK(t.storage.numel == 16);
  CHECK(t.offset == 2);
  CHECK(t.sizes == std::vector<std::int64_t>{2, 3});
  CHECK(t.strides == std::vector<std::int64_t>{4, 1});
  CHECK(t.requires_grad);
  CHECK_THAT(pickle::describe(doc.top()), Contains("uint8 tensor of size [2, 3] in storage '7' made by REDUCE"));
}

TEST_CASE("LONG1 integers read back when they fit in 64 bits, however they are padded", "[util]") {
  auto integer = [](const std::string& payload) {
    std::string bytes = "\x80\x02\x8a"s + static_cast<char>(payload.size()) + payload + ".";
    pickle::Document doc = pickle::load(bytes, "long.pkl", pickle::Vocabulary::TorchWeights);
    REQUIRE(doc.top().kind == pickle::Kind::Int);
    return doc.top().integer;
  };
  CHECK(integer("") == 0);
  CHECK(integer("\xff"s) == -1);
  CHECK(integer("\x00\x80"s) == -32768);
  CHECK(integer("\x05"s + std::string(8, '\0')) == 5);
  CHECK(integer(std::string(9, '\xff')) == -1);
  CHECK(integer("\xff\xff\xff\xff\xff\xff\xff\x7f"s) == INT64_MAX);
  CHECK(integer(std::string(7, '\0') + "\x80\xff"s) == INT64_MIN);
  CHECK_THAT(error_of([&] { integer(std::string(7, '\0') + "\x80\x00"s); }),
             Contains("long.pkl: byte 2: LONG1: expected an integer that fits in 64 bits, found a 9-byte integer"));
}

TEST_CASE("dict_items keeps insertion order and Python's last-value-wins for repeated keys", "[util]") {
  ff::test::TempDir dir("pickle-dict-items");
  std::ostringstream out;
  pickle::Writer w(out, 2);
  w.empty_dict().mark().integer(1).text("x").text("a").integer(2).boolean(true).text("y").text("a").integer(3);
  w.setitems().stop();
  ff::test::write_text(dir / "dict.pkl", out.str());
  run_helper(dir, {"items", (dir / "dict.pkl").string(), (dir / "items.json").string()});
  CHECK(read_json(dir / "items.json") == json::parse(R"([[1, "y"], ["a", 3]])"));

  pickle::Document doc = pickle::load(out.str(), "dict.pkl");
  std::vector<pickle::DictItem> items = doc.dict_items(doc.root);
  REQUIRE(items.size() == 2);
  CHECK(doc[items[0].key].integer == 1);
  CHECK(doc[items[0].value].data == "y");
  CHECK(doc[items[1].key].data == "a");
  CHECK(doc[items[1].value].integer == 3);

  pickle::Document list = pickle::load("\x80\x02]."s, "list.pkl");
  CHECK_THAT(error_of([&] { list.dict_items(list.root); }),
             Contains("list.pkl: expected a dict, found list of 0 items made by EMPTY_LIST at byte 2"));
}

TEST_CASE("the writer's integers are byte for byte what CPython's pickler writes", "[util]") {
  ff::test::TempDir dir("pickle-writer-ints");
  const std::vector<std::int64_t> values = {
      0, 1, 255, 256, 65535, 65536, -1, -128, -129, 32768, INT32_MAX, INT32_MIN,
      std::int64_t{INT32_MAX} + 1, std::int64_t{INT32_MIN} - 1, std::int64_t{1} << 40, -(std::int64_t{1} << 50),
      std::int64_t{-1} << 39, INT64_MAX, INT64_MIN,
  };
  std::ostringstream out;
  pickle::Writer w(out, 2);
  w.empty_list().mark();
  for (std::int64_t value : values) w.integer(value);
  w.appends().stop();

  ff::test::write_text(dir / "values.json", json(values).dump());
  run_helper(dir, {"cpython_bytes", (dir / "values.json").string(), (dir / "cpython.pkl").string()});
  CHECK(out.str() == ff::read_file(dir / "cpython.pkl"));

  pickle::Document doc = pickle::load(out.str(), "ints.pkl");
  REQUIRE(doc.top().items.size() == values.size());
  for (std::size_t i = 0; i < values.size(); ++i) CHECK(doc[doc.top().items[i]].integer == values[i]);
}

TEST_CASE("torch.load reads the writer's data.pkl with and without weights_only", "[util]") {
  ff::test::TempDir dir("pickle-writer-torch");

  // Storages as an archive keeps them: raw elements in the host's (little-endian) byte order.
  std::vector<float> floats(8);
  for (std::size_t i = 0; i < floats.size(); ++i) floats[i] = 0.5f * static_cast<float>(i) - 1.0f;
  const std::vector<std::int64_t> longs = {-5, std::int64_t{1} << 40, 7};
  std::string float_bytes(floats.size() * sizeof(float), '\0');
  std::memcpy(float_bytes.data(), floats.data(), float_bytes.size());
  std::string long_bytes(longs.size() * sizeof(std::int64_t), '\0');
  std::memcpy(long_bytes.data(), longs.data(), long_bytes.size());
  ff::test::write_text(dir / "data" / "0", float_bytes);
  ff::test::write_text(dir / "data" / "1", long_bytes);

  const pickle::StorageRef float_storage{pickle::Dtype::Float32, "0", "cpu", 8};
  const pickle::StorageRef long_storage{pickle::Dtype::Int64, "1", "cpu", 3};
  const std::vector<std::pair<std::string, pickle::TensorRef>> tensors = {
      {"a", {float_storage, 1, {2, 3}, {1, 2}, false}},  // a[i][j] = storage[1 + i + 2j]
      {"b", {long_storage, 0, {3}, {1}, false}},
      {"a_all", {float_storage, 0, {8}, {1}, false}},
      {"scalar", {long_storage, 2, {}, {}, false}},
  };
  std::ostringstream out;
  pickle::Writer w(out, 2);
  w.empty_dict().mark();
  for (const auto& [name, tensor] : tensors) w.text(name).tensor(tensor);
  w.setitems().stop();
  ff::test::write_text(dir / "data.pkl", out.str());

  // The reader agrees with the writer.
  pickle::Document doc = pickle::load(out.str(), "data.pkl", pickle::Vocabulary::TorchWeights);
  std::vector<pickle::DictItem> items = doc.dict_items(doc.root);
  REQUIRE(items.size() == tensors.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    INFO("entry " << tensors[i].first);
    CHECK(doc[items[i].key].data == tensors[i].first);
    const pickle::TensorRef& t = doc[items[i].value].tensor;
    CHECK(t.storage.key == tensors[i].second.storage.key);
    CHECK(t.storage.dtype == tensors[i].second.storage.dtype);
    CHECK(t.storage.numel == tensors[i].second.storage.numel);
    CHECK(t.offset == tensors[i].second.offset);
    CHECK(t.sizes == tensors[i].second.sizes);
    CHECK(t.strides == tensors[i].second.strides);
  }

  run_helper(dir, {"load_written", dir.path().string(), (dir / "report.json").string()});
  json report = read_json(dir / "report.json");
  for (const std::string mode : {"full", "weights_only"}) {
    INFO("torch.load " << mode << ": " << report[mode].dump());
    const json& loaded = report[mode];
    CHECK(loaded["type"] == "dict");
    CHECK(loaded["keys"] == json::parse(R"(["a", "b", "a_all", "scalar"])"));
    const json& a = loaded["tensors"]["a"];
    CHECK(a["dtype"] == "torch.float32");
    CHECK(a["sizes"] == json::parse("[2, 3]"));
    CHECK(a["strides"] == json::parse("[1, 2]"));
    CHECK(a["offset"] == 1);
    CHECK(a["requires_grad"] == false);
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 3; ++j) CHECK(a["values"][i][j].get<double>() == floats[1 + i + 2 * j]);
    }
    const json& b = loaded["tensors"]["b"];
    CHECK(b["dtype"] == "torch.int64");
    CHECK(b["values"].get<std::vector<std::int64_t>>() == longs);
    CHECK(loaded["tensors"]["a_all"]["storage"] == a["storage"]);  // one storage key, one shared storage
    CHECK(loaded["tensors"]["scalar"]["sizes"] == json::array());
    CHECK(loaded["tensors"]["scalar"]["values"] == 7);
  }
}

TEST_CASE("the writer refuses what its protocol or torch cannot express", "[util]") {
  std::ostringstream out;
  CHECK_THAT(error_of([&] { pickle::Writer(out, 1); }), Contains("pickle writer: expected protocol 2-5, found 1"));
  CHECK_THAT(error_of([&] { pickle::Writer(out, 6); }), Contains("found 6"));
  pickle::Writer w(out, 2);
  CHECK_THAT(error_of([&] { w.bytes("x"); }), Contains("pickle writer: protocol 2 has no bytes opcodes"));
  CHECK_THAT(error_of([&] { w.global("os\nx", "system"); }), Contains("without newlines"));
  const pickle::StorageRef storage{pickle::Dtype::Float32, "0", "cpu", 4};
  CHECK_THAT(error_of([&] { w.tensor({storage, 2, {3}, {1}, false}); }),
             Contains("pickle writer: cannot write a tensor of storage '0'") && Contains("reaching element 4"));
  const pickle::StorageRef bad_key{pickle::Dtype::Float32, "a/b", "cpu", 4};
  CHECK_THAT(error_of([&] { w.tensor({bad_key, 0, {4}, {1}, false}); }), Contains("expected a storage key"));
}
