// Checks datasets/verification_bin.cpp and src/util/pickle.cpp against Debian's Python pickle:
// fixtures are written by /usr/bin/python3 at test time, and Python reads back what the C++ writer wrote.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "datasets/verification_bin.h"
#include "src/util/atomic_file.h"
#include "src/util/error.h"
#include "src/util/pickle.h"
#include "support.h"

namespace {
using ff::test::error_of;
namespace fs = std::filesystem;
using namespace std::string_literals;
using Catch::Matchers::Contains;
using ff::datasets::VerificationPack;
namespace pickle = ff::pickle;

// The Python side of the tests. Packs travel between C++ and Python in a trivial raw format
// (u32 count, then u32 length + bytes per image, u32 count, one byte 0/1 per label) so that neither
// side trusts the pickle code under test to describe the expected content.
constexpr const char* kHelperScript = R"PY(
import os, pickle, pickletools, struct, sys

def read_raw(path):
    data = open(path, 'rb').read()
    pos = 0
    def u32():
        nonlocal pos
        value = struct.unpack_from('<I', data, pos)[0]
        pos += 4
        return value
    bins = []
    for _ in range(u32()):
        n = u32()
        bins.append(data[pos:pos + n])
        pos += n
    count = u32()
    issame = [b == 1 for b in data[pos:pos + count]]
    pos += count
    assert pos == len(data), 'raw file has trailing bytes'
    return bins, issame

def opcode_names(blob):
    return sorted({op.name for op, arg, pos in pickletools.genops(blob)})

# What Python 2's cPickle.dump(obj, f, 2) writes: str as SHORT_BINSTRING / BINSTRING, BINPUT or
# LONG_BINPUT after each memoised object, APPENDS in batches of 1000.
def python2_stream(bins, issame):
    out = bytearray(b'\x80\x02')
    memo = [0]
    def put():
        index = memo[0]
        memo[0] += 1
        out.extend(b'q' + bytes([index]) if index < 256 else b'r' + struct.pack('<I', index))
    out += b']'
    put()
    for start in range(0, len(bins), 1000):
        out += b'('
        for image in bins[start:start + 1000]:
            if len(image) < 256:
                out += b'U' + bytes([len(image)]) + image
            else:
                out += b'T' + struct.pack('<i', len(image)) + image
            put()
        out += b'e'
    out += b']'
    put()
    for start in range(0, len(issame), 1000):
        out += b'('
        for flag in issame[start:start + 1000]:
            out += b'\x88' if flag else b'\x89'
        out += b'e'
    out += b'\x86'
    put()
    out += b'.'
    blob = bytes(out)
    assert pickle.loads(blob, encoding='bytes') == (bins, issame), 'hand-built Python 2 stream is wrong'
    return blob

command = sys.argv[1]
if command == 'write':
    raw, out, mode = sys.argv[2:5]
    bins, issame = read_raw(raw)
    kind, _, protocol = mode.rpartition('-')
    protocol = int(protocol)
    if kind == 'python2':
        blob = python2_stream(bins, issame)
    else:
        if kind == 'plain':
            obj = (bins, issame)
        elif kind == 'dedup':
            cache = {}
            obj = ([cache.setdefault(b, b) for b in bins], issame)
        elif kind == 'numpy_array':
            import numpy
            obj = (bins, numpy.array(issame, dtype=bool))
        elif kind == 'numpy_scalars':
            import numpy
            obj = (bins, [numpy.bool_(x) for x in issame])
        else:
            sys.exit('unknown mode ' + mode)
        blob = pickle.dumps(obj, protocol=protocol)
    names = opcode_names(blob)
    if kind == 'dedup':
        assert 'BINGET' in names or 'LONG_BINGET' in names, 'fixture does not exercise the memo'
    open(out, 'wb').write(blob)
    print(' '.join(names))
elif command == 'verify':
    raw, path = sys.argv[2:4]
    bins, issame = read_raw(raw)
    blob = open(path, 'rb').read()
    obj = pickle.loads(blob)
    if not (type(obj) is tuple and len(obj) == 2 and type(obj[0]) is list and type(obj[1]) is list
            and all(type(b) is bytes for b in obj[0]) and all(type(x) is bool for x in obj[1])):
        sys.exit('wrong types: ' + repr(type(obj)))
    if obj[0] != bins:
        sys.exit('bins differ')
    if obj[1] != issame:
        sys.exit('issame differs')
    op, arg, pos = next(pickletools.genops(blob))
    print('ok', op.name, arg)
elif command == 'evil':
    path, marker, protocol = sys.argv[2:5]
    class Evil:
        def __reduce__(self):
            return (os.system, ('touch ' + marker,))
    open(path, 'wb').write(pickle.dumps(([Evil(), b'x'], [True]), protocol=int(protocol)))
elif command == 'load':
    pickle.load(open(sys.argv[2], 'rb'))
elif command == 'ascii':
    print(ascii(pickle.load(open(sys.argv[2], 'rb'))))
elif command == 'cases':
    import numpy
    folder = sys.argv[2]
    a, b = b'\xff\xd8jpeg-a', b'\x89PNG-b'
    loop = []
    loop.append(loop)
    cases = {
        'top_list': [[a, b], [True]],
        'top_triple': ([a, b], [True], None),
        'count_mismatch': ([a, b, a], [True]),
        'label_int': ([a, b], [1]),
        'image_text': ([a, 'text image'], [True]),
        'image_int': ([a, 7], [True]),
        'issame_int_array': ([a, b], numpy.array([1], dtype=numpy.int64)),
        'issame_2d': ([a, b, a, b], numpy.array([[True], [False]])),
        'self_list': (loop, [True]),
        'empty': ([], []),
    }
    for name, obj in cases.items():
        for protocol in (2, 4):
            with open(os.path.join(folder, '%s-%d.pkl' % (name, protocol)), 'wb') as f:
                pickle.dump(obj, f, protocol=protocol)
else:
    sys.exit('unknown command ' + command)
)PY";

using ff::test::TempDir;

using PythonResult = ff::test::CommandResult;

PythonResult run_python(const TempDir& dir, const std::vector<std::string>& args) {
  REQUIRE(fs::exists(ff::test::python()));
  return ff::test::run_python_script(dir, kHelperScript, args);
}

void require_python_ok(const PythonResult& result) {
  INFO("python output: " << result.output);
  REQUIRE(result.exit_code == 0);
}

// Image sizes straddle every length-encoding boundary: SHORT_BINBYTES/SHORT_BINSTRING below 256,
// BINBYTES above, and the 64 KiB FRAME size above which Python writes bytes outside frames.
VerificationPack random_pack(std::mt19937& rng, std::size_t pairs) {
  const std::vector<std::size_t> edge_sizes = {0, 1, 2, 255, 256, 257, 65535, 65536, 70000};
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> small_size(0, 600);
  std::bernoulli_distribution coin(0.5);
  VerificationPack pack;
  for (std::size_t i = 0; i < 2 * pairs; ++i) {
    std::size_t size = i < edge_sizes.size() ? edge_sizes[i] : small_size(rng);
    std::string image(size, '\0');
    for (char& c : image) c = static_cast<char>(byte(rng));
    pack.images.push_back(std::move(image));
  }
  for (std::size_t i = 0; i < pairs; ++i) pack.issame.push_back(coin(rng));
  return pack;
}

void put_u32(std::string& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
}

void write_raw(const fs::path& path, const VerificationPack& pack) {
  std::string out;
  put_u32(out, static_cast<std::uint32_t>(pack.images.size()));
  for (const std::string& image : pack.images) {
    put_u32(out, static_cast<std::uint32_t>(image.size()));
    out += image;
  }
  put_u32(out, static_cast<std::uint32_t>(pack.issame.size()));
  for (bool flag : pack.issame) out += static_cast<char>(flag ? 1 : 0);
  ff::write_file_atomically(path, out);
}

void require_same(const VerificationPack& actual, const VerificationPack& expected) {
  REQUIRE(actual.images.size() == expected.images.size());
  for (std::size_t i = 0; i < expected.images.size(); ++i) {
    INFO("image " << i << ": " << actual.images[i].size() << " bytes read, " << expected.images[i].size()
                  << " bytes expected");
    REQUIRE((actual.images[i] == expected.images[i]));
  }
  REQUIRE(actual.issame.size() == expected.issame.size());
  REQUIRE((actual.issame == expected.issame));
}

std::string le64(std::uint64_t value) {
  std::string out;
  for (int i = 0; i < 8; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}

}  // namespace

TEST_CASE("packs pickled by Python 3 with protocols 2-5 read back exactly", "[datasets]") {
  TempDir dir("verification-bin");
  std::mt19937 rng(20240611);
  // 600 pairs = 1200 images: more than one 1000-item APPENDS batch.
  VerificationPack expected = random_pack(rng, 600);
  write_raw(dir / "expected.raw", expected);

  struct Mode {
    std::string name;
    std::vector<std::string> opcodes_used;  // proves the fixture exercises the path it is meant to
  };
  const std::vector<Mode> modes = {
      {"plain-2", {"GLOBAL", "REDUCE", "BINUNICODE"}},  // bytes as _codecs.encode, b'' as bytes()
      {"plain-3", {"BINBYTES", "SHORT_BINBYTES"}},
      {"plain-4", {"FRAME", "MEMOIZE", "BINBYTES"}},
      {"plain-5", {"FRAME", "MEMOIZE", "BINBYTES"}},
      {"python2-2", {"SHORT_BINSTRING", "BINSTRING", "LONG_BINPUT"}},
      {"dedup-2", {"BINGET"}},
      {"dedup-4", {"BINGET"}},
  };
  for (const Mode& mode : modes) {
    DYNAMIC_SECTION("mode " << mode.name) {
      VerificationPack expected_here = expected;
      fs::path raw = dir / "expected.raw";
      if (mode.name.rfind("dedup", 0) == 0) {
        // The dedup fixture shares equal images as one object, so some images must repeat.
        for (std::size_t i = 1; i < expected_here.images.size(); i += 3) {
          expected_here.images[i] = expected_here.images[i - 1];
        }
        raw = dir / "dedup.raw";
        write_raw(raw, expected_here);
      }
      fs::path file = dir / (mode.name + ".bin");
      PythonResult written = run_python(dir, {"write", raw.string(), file.string(), mode.name});
      require_python_ok(written);
      for (const std::string& opcode : mode.opcodes_used) CHECK_THAT(written.output, Contains(opcode));
      require_same(ff::datasets::read_verification_bin(file), expected_here);
    }
  }
}

TEST_CASE("numpy bool arrays and numpy bool scalars as issame_list read back exactly", "[datasets]") {
  TempDir dir("verification-bin");
  std::mt19937 rng(7);
  VerificationPack expected = random_pack(rng, 40);
  write_raw(dir / "expected.raw", expected);
  const std::vector<std::pair<std::string, std::string>> modes = {
      {"numpy_array-2", "_reconstruct"}, {"numpy_array-4", "STACK_GLOBAL"}, {"numpy_array-5", "BYTEARRAY8"},
      {"numpy_scalars-2", "GLOBAL"},     {"numpy_scalars-4", "STACK_GLOBAL"},
  };
  for (const auto& [mode, opcode] : modes) {
    DYNAMIC_SECTION("mode " << mode) {
      fs::path file = dir / (mode + ".bin");
      PythonResult written = run_python(dir, {"write", (dir / "expected.raw").string(), file.string(), mode});
      require_python_ok(written);
      if (opcode != "_reconstruct") CHECK_THAT(written.output, Contains(opcode));
      require_same(ff::datasets::read_verification_bin(file), expected);
    }
  }
}

TEST_CASE("the writer's protocol 4 pickle is read back by Python and by the reader", "[datasets]") {
  TempDir dir("verification-bin");
  std::mt19937 rng(99);
  VerificationPack pack = random_pack(rng, 700);
  fs::path file = dir / "written.bin";
  ff::datasets::write_verification_bin(file, pack);
  write_raw(dir / "expected.raw", pack);

  PythonResult verified = run_python(dir, {"verify", (dir / "expected.raw").string(), file.string()});
  require_python_ok(verified);
  CHECK_THAT(verified.output, Contains("ok PROTO 4"));
  require_same(ff::datasets::read_verification_bin(file), pack);

  std::size_t temp_files = 0;  // the atomic write renamed its temp file onto the pack
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    if (entry.path().filename().string().find(".tmp.") != std::string::npos) ++temp_files;
  }
  CHECK(temp_files == 0);
}

TEST_CASE("the writer refuses a pack whose image count is not twice its pair count", "[datasets]") {
  TempDir dir("verification-bin");
  VerificationPack pack;
  pack.images = {"a", "b", "c"};
  pack.issame = {true};
  fs::path file = dir / "bad.bin";
  std::string message = error_of([&] { ff::datasets::write_verification_bin(file, pack); });
  CHECK_THAT(message, Contains("bad.bin") && Contains("3 images") && Contains("1 pairs"));
  CHECK_FALSE(fs::exists(file));

  pack.images.clear();
  pack.issame.clear();
  CHECK_THAT(error_of([&] { ff::datasets::write_verification_bin(file, pack); }), Contains("empty"));
}

TEST_CASE("a pickle that calls os.system is refused without running it", "[datasets]") {
  TempDir dir("verification-bin");
  fs::path marker = dir / "code_ran";
  for (const auto& [protocol, opcode] : std::vector<std::pair<std::string, std::string>>{
           {"2", "GLOBAL"}, {"4", "STACK_GLOBAL"}}) {
    DYNAMIC_SECTION("protocol " << protocol) {
      fs::path file = dir / ("evil-" + protocol + ".bin");
      require_python_ok(run_python(dir, {"evil", file.string(), marker.string(), protocol}));

      // The fixture really is hostile: Python's own pickle.load runs the command.
      require_python_ok(run_python(dir, {"load", file.string()}));
      REQUIRE(fs::exists(marker));
      fs::remove(marker);

      std::string message = error_of([&] { ff::datasets::read_verification_bin(file); });
      CHECK_THAT(message, Contains(file.string()) && Contains("byte ") && Contains(opcode + ": refused") &&
                              Contains("system"));
      CHECK_FALSE(fs::exists(marker));
    }
  }
}

TEST_CASE("hostile or malformed opcode streams are refused naming opcode and offset", "[datasets]") {
  struct Case {
    std::string name;
    std::string bytes;
    std::vector<std::string> expected;
  };
  // Hex escapes are greedy, so every escape that precedes a letter or digit ends its literal.
  const std::vector<Case> cases = {
      {"GLOBAL os.system", "\x80\x02" "cos\nsystem\n" "q\x00" ")R."s, {"byte 2: GLOBAL: refused os.system"}},
      {"STACK_GLOBAL os.system", "\x80\x04\x8c\x02" "os" "\x8c\x06" "system" "\x93."s,
       {"byte 14: STACK_GLOBAL: refused os.system"}},
      {"INST", "(ios\nsystem\n."s, {"byte 1: INST: refused"}},
      {"OBJ", "(cnumpy\nndarray\no."s, {"byte 16: OBJ: refused"}},
      {"NEWOBJ", "\x80\x02" "cnumpy\nndarray\n)\x81."s, {"byte 18: NEWOBJ: refused"}},
      {"REDUCE _codecs.encode with utf-8",
       "\x80\x02" "c_codecs\nencode\nX\x01\x00\x00\x00" "aX\x05\x00\x00\x00" "utf-8\x86R."s,
       {"byte 35: REDUCE: refused _codecs.encode", "'utf-8'"}},
      {"REDUCE _codecs.encode of non-latin1 text",
       "\x80\x02" "c_codecs\nencode\nX\x02\x00\x00\x00\xc4\x80X\x06\x00\x00\x00" "latin1\x86R."s,
       {"byte 37: REDUCE", "latin1"}},
      {"REDUCE of a tuple", "\x80\x02))R."s, {"byte 4: REDUCE: refused"}},
      {"REDUCE numpy.ndarray", "\x80\x02" "cnumpy\nndarray\n)R."s, {"byte 18: REDUCE: refused numpy.ndarray"}},
      {"BUILD on a list", "\x80\x02]}b."s, {"byte 4: BUILD: refused"}},
      {"EXT1", "\x80\x02\x82\x01."s, {"byte 2: EXT1: refused"}},
      {"BINPERSID", "\x80\x02K\x01Q."s, {"byte 4: BINPERSID: refused"}},
      {"NEXT_BUFFER", "\x80\x05\x97."s, {"byte 2: NEXT_BUFFER: refused"}},
      {"unknown opcode", "\x80\x02\xff"s, {"byte 2: unknown opcode 0xff"}},
      {"memo miss", "\x80\x02h\x05."s, {"byte 2: BINGET", "memo entry 5"}},
      {"protocol 6", "\x80\x06N."s, {"byte 0: PROTO", "found 6"}},
      {"bytes after STOP", "\x80\x02N.N"s, {"byte 3: STOP", "1 more bytes"}},
      {"two values at STOP", "\x80\x02NN."s, {"byte 4: STOP", "found 2"}},
      {"open MARK at STOP", "(N."s, {"byte 2: STOP", "MARK"}},
      {"APPEND to a tuple", "\x80\x02)Na."s, {"byte 4: APPEND", "expected a list", "tuple"}},
      {"negative BINSTRING length", "\x80\x02T\xff\xff\xff\xff"s, {"byte 2: BINSTRING", "non-negative"}},
      {"BINBYTES8 longer than the file", "\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\x7f"s,
       {"byte 2: BINBYTES8: truncated"}},
      {"FRAME longer than the file", "\x80\x04\x95\x00\x01\x00\x00\x00\x00\x00\x00N."s,
       {"byte 2: FRAME: truncated"}},
      {"empty input", ""s, {"byte 0", "without a STOP"}},
      {"protocol-0 text", "S'abc'\n."s, {"byte 0: STRING", "protocol-0"}},
  };
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.name) {
      std::string message = error_of([&] { pickle::load(c.bytes, "hand.pkl"); });
      CHECK_THAT(message, Contains("hand.pkl: "));
      for (const std::string& part : c.expected) CHECK_THAT(message, Contains(part));
    }
  }
}

TEST_CASE("truncated packs are errors at every cut", "[datasets]") {
  TempDir dir("verification-bin");
  std::mt19937 rng(3);
  VerificationPack pack;
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 6; ++i) {
    std::string image(static_cast<std::size_t>(i * 70), '\0');
    for (char& c : image) c = static_cast<char>(byte(rng));
    pack.images.push_back(image);
  }
  pack.issame = {true, false, true};
  write_raw(dir / "expected.raw", pack);

  for (const std::string mode : {"plain-2", "plain-4", "numpy_array-5", "python2-2"}) {
    DYNAMIC_SECTION("mode " << mode) {
      fs::path file = dir / (mode + ".bin");
      require_python_ok(run_python(dir, {"write", (dir / "expected.raw").string(), file.string(), mode}));
      const std::string whole = ff::read_file(file);
      require_same(ff::datasets::parse_verification_bin(whole, "whole.bin"), pack);
      for (std::size_t cut = 0; cut < whole.size(); ++cut) {
        INFO("cut at byte " << cut << " of " << whole.size());
        std::string message = error_of([&] { ff::datasets::parse_verification_bin(whole.substr(0, cut), "cut.bin"); });
        CHECK_THAT(message, Contains("cut.bin: byte "));
      }

      // On disk, the message names the file and says it is truncated.
      fs::path cut_file = dir / ("cut-" + mode + ".bin");
      ff::write_file_atomically(cut_file, whole.substr(0, whole.size() - 40));
      std::string message = error_of([&] { ff::datasets::read_verification_bin(cut_file); });
      CHECK_THAT(message, Contains(cut_file.string()) && Contains("truncated"));
    }
  }
}

TEST_CASE("packs of the wrong shape are clear errors", "[datasets]") {
  TempDir dir("verification-bin");
  require_python_ok(run_python(dir, {"cases", dir.path().string()}));
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"top_list", {"expected the pickle to hold a 2-tuple", "found list of 2 items"}},
      {"top_triple", {"2-tuple", "found tuple of 3 items"}},
      {"count_mismatch", {"3 images in bins for 1 labels"}},
      {"label_int", {"issame_list[0] to be a bool, found int 1"}},
      {"image_text", {"bins[1]", "found str 'text image'"}},
      {"image_int", {"bins[1]", "found int 7"}},
      {"issame_int_array", {"REDUCE: refused numpy dtype 'i8'"}},
      {"issame_2d", {"1-D numpy shape"}},
      {"self_list", {"bins[0]", "found list"}},
      {"empty", {"empty pack"}},
  };
  // A plain loop rather than sections: Catch would rerun the Python fixture script for each section.
  for (const auto& [name, expected] : cases) {
    for (const std::string protocol : {"2", "4"}) {
      fs::path file = dir / (name + "-" + protocol + ".pkl");
      INFO("case " << file.filename().string());
      std::string message = error_of([&] { ff::datasets::read_verification_bin(file); });
      CHECK_THAT(message, Contains(file.string()));
      for (const std::string& part : expected) CHECK_THAT(message, Contains(part));
    }
  }
}

TEST_CASE("the pickle reader agrees with Python on a hand-built protocol 5 stream", "[datasets]") {
  // Opcodes Python's pickler rarely emits for small values (BINBYTES8, BINUNICODE8, LONG1, INT,
  // POP_MARK, LONG_BINPUT, ...) inside a FRAME.
  const std::string body =
      "(\x8e"s + le64(3) + "abc\x94\x8d" + le64(2) + "\xc3\xa9\x96" + le64(1) +
      "\x00\x8a\x01\xfe\x8a\x00J\xff\xff\xff\xffM\x34\x12G\x3f\xf8\x00\x00\x00\x00\x00\x00"s +
      "h\x00N20(N1I01\ntr\x00\x01\x00\x00j\x00\x01\x00\x00\x86."s;
  const std::string stream = "\x80\x05\x95"s + le64(body.size()) + body;

  TempDir dir("verification-bin");
  fs::path file = dir / "hand.pkl";
  ff::write_file_atomically(file, stream);
  PythonResult python = run_python(dir, {"ascii", file.string()});
  require_python_ok(python);
  const std::string inner = "(b'abc', '\\xe9', bytearray(b'\\x00'), -2, 0, -1, 4660, 1.5, b'abc', None, True)";
  REQUIRE(python.output == "(" + inner + ", " + inner + ")\n");

  pickle::Document doc = pickle::load(stream, "hand.pkl");
  const pickle::Value& root = doc.top();
  REQUIRE(root.kind == pickle::Kind::Tuple);
  REQUIRE(root.items.size() == 2);
  CHECK(root.items[0] == root.items[1]);  // LONG_BINGET returns the very same tuple
  const pickle::Value& t = doc[root.items[0]];
  REQUIRE(t.kind == pickle::Kind::Tuple);
  REQUIRE(t.items.size() == 11);
  CHECK(doc[t.items[0]].kind == pickle::Kind::Bytes);
  CHECK(doc[t.items[0]].data == "abc");
  CHECK(doc[t.items[1]].kind == pickle::Kind::Text);
  CHECK(doc[t.items[1]].data == "\xc3\xa9");
  CHECK(doc[t.items[2]].kind == pickle::Kind::Bytes);
  CHECK(doc[t.items[2]].data == "\x00"s);
  CHECK(doc[t.items[3]].integer == -2);
  CHECK(doc[t.items[4]].integer == 0);
  CHECK(doc[t.items[5]].integer == -1);
  CHECK(doc[t.items[6]].integer == 4660);
  CHECK(doc[t.items[7]].kind == pickle::Kind::Float);
  CHECK(doc[t.items[7]].real == 1.5);
  CHECK(t.items[8] == t.items[0]);  // BINGET of the MEMOIZEd bytes
  CHECK(doc[t.items[9]].kind == pickle::Kind::None);
  CHECK(doc[t.items[10]].kind == pickle::Kind::Bool);
  CHECK(doc[t.items[10]].boolean);
  CHECK_THAT(pickle::describe(doc[t.items[0]]), Contains("bytes (3 bytes) made by BINBYTES8 at byte 12"));
}
