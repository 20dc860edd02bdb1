// torch.save zip archives <-> named tensors, through LibTorch's zip reader/writer and our own
// data-only pickle interpreter (src/util/pickle.h).
#include "backbones/weights_file.h"

#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include <caffe2/serialize/inline_container.h>
#include <c10/util/Exception.h>

#include "src/util/atomic_file.h"
#include "src/util/error.h"
#include "src/util/pickle.h"

namespace ff::backbones {

namespace fs = std::filesystem;

namespace {

at::ScalarType scalar_type(pickle::Dtype d) {
  switch (d) {
    case pickle::Dtype::Float32: return at::kFloat;
    case pickle::Dtype::Float64: return at::kDouble;
    case pickle::Dtype::Float16: return at::kHalf;
    case pickle::Dtype::BFloat16: return at::kBFloat16;
    case pickle::Dtype::Int64: return at::kLong;
    case pickle::Dtype::Int32: return at::kInt;
    case pickle::Dtype::Int16: return at::kShort;
    case pickle::Dtype::Int8: return at::kChar;
    case pickle::Dtype::UInt8: return at::kByte;
    case pickle::Dtype::Bool: return at::kBool;
  }
  fail("unknown storage dtype");
}

pickle::Dtype pickle_dtype(at::ScalarType t, const std::string& name) {
  switch (t) {
    case at::kFloat: return pickle::Dtype::Float32;
    case at::kDouble: return pickle::Dtype::Float64;
    case at::kHalf: return pickle::Dtype::Float16;
    case at::kBFloat16: return pickle::Dtype::BFloat16;
    case at::kLong: return pickle::Dtype::Int64;
    case at::kInt: return pickle::Dtype::Int32;
    case at::kShort: return pickle::Dtype::Int16;
    case at::kChar: return pickle::Dtype::Int8;
    case at::kByte: return pickle::Dtype::UInt8;
    case at::kBool: return pickle::Dtype::Bool;
    default: fail("{}: dtype {} cannot be written to a PyTorch weight file", name, std::string(c10::toString(t)));
  }
}

// The zip format starts with a local file header; torch.save before 1.6 wrote a bare pickle stream.
void check_zip(const fs::path& path) {
  if (!fs::is_regular_file(path)) fail("weight file not found: {}", path.string());
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  if (std::memcmp(magic, "PK\x03\x04", 4) != 0) {
    fail("{}: not a PyTorch zip archive (torch.save since 1.6); a legacy-format file must be re-saved with "
         "`torch.save(torch.load(path), path)` in Python first",
         path.string());
  }
}

std::unique_ptr<caffe2::serialize::PyTorchStreamReader> open_archive(const fs::path& path) {
  check_zip(path);
  try {
    return std::make_unique<caffe2::serialize::PyTorchStreamReader>(path.string());
  } catch (const c10::Error& e) {
    fail("{}: unreadable zip archive: {}", path.string(), e.what_without_backtrace());
  }
}

std::string record_text(caffe2::serialize::PyTorchStreamReader& reader, const std::string& name) {
  auto [data, size] = reader.getRecord(name);
  return std::string(static_cast<const char*>(data.get()), size);
}

// The dict whose values are the weights: the root itself, or the state dict inside a training
// checkpoint (arcface_torch's `state_dict_backbone`, or a generic `state_dict`).
pickle::Id weights_dict(const pickle::Document& doc, const fs::path& path) {
  const pickle::Value& root = doc.top();
  if (root.kind != pickle::Kind::Dict) fail("{}: expected a dict of name -> tensor, found {}", path.string(), pickle::describe(root));
  for (const char* wrapper : {"state_dict_backbone", "state_dict"}) {
    for (const auto& item : doc.dict_items(doc.root)) {
      const auto& key = doc[item.key];
      if (key.kind == pickle::Kind::Text && key.data == wrapper && doc[item.value].kind == pickle::Kind::Dict) return item.value;
    }
  }
  return doc.root;
}

}  // namespace

bool is_torchscript_archive(const fs::path& path) { return open_archive(path)->hasRecord("constants.pkl"); }

NamedTensors read_weights_file(const fs::path& path) {
  auto reader = open_archive(path);
  if (reader->hasRecord("constants.pkl")) {
    fail("{}: this is a FaceForge checkpoint / TorchScript archive, not a torch.save state dict "
         "(use it with `faceforge eval` or `model.init_from`)",
         path.string());
  }
  if (!reader->hasRecord("data.pkl")) fail("{}: zip archive without data.pkl: not written by torch.save", path.string());
  if (reader->hasRecord("byteorder") && record_text(*reader, "byteorder") != "little") {
    fail("{}: saved on a big-endian machine (byteorder record): not supported", path.string());
  }
  pickle::Document doc = pickle::load(record_text(*reader, "data.pkl"), path.string() + ":data.pkl",
                                      pickle::Vocabulary::TorchWeights);
  std::map<std::string, at::Tensor> storages;  // several tensors may view one storage
  NamedTensors out;
  for (const auto& item : doc.dict_items(weights_dict(doc, path))) {
    const pickle::Value& key = doc[item.key];
    const pickle::Value& value = doc[item.value];
    if (key.kind != pickle::Kind::Text) fail("{}: state dict key is {}, expected a str", path.string(), pickle::describe(key));
    if (value.kind != pickle::Kind::Tensor) {
      fail("{}: entry '{}' is {}, expected a tensor (a state dict maps names to tensors)", path.string(), key.data,
           pickle::describe(value));
    }
    const pickle::TensorRef& ref = value.tensor;
    const std::string record = "data/" + ref.storage.key;
    auto it = storages.find(ref.storage.key);
    if (it == storages.end()) {
      if (!reader->hasRecord(record)) fail("{}: entry '{}': storage record {} is missing", path.string(), key.data, record);
      auto [data, size] = reader->getRecord(record);
      const size_t expected = size_t(ref.storage.numel) * pickle::element_size(ref.storage.dtype);
      if (size != expected) {
        fail("{}: entry '{}': storage {} holds {} bytes, expected {} ({} x {})", path.string(), key.data, record, size,
             expected, ref.storage.numel, pickle::dtype_name(ref.storage.dtype));
      }
      at::Tensor storage = at::empty({ref.storage.numel}, at::TensorOptions().dtype(scalar_type(ref.storage.dtype)));
      if (size) std::memcpy(storage.data_ptr(), data.get(), size);
      it = storages.emplace(ref.storage.key, storage).first;
    }
    out.emplace_back(key.data, it->second.as_strided(ref.sizes, ref.strides, ref.offset).clone());
  }
  return out;
}

void write_weights_file(const fs::path& path, const NamedTensors& tensors) {
  std::vector<at::Tensor> contiguous;
  std::ostringstream pickled;
  pickle::Writer writer(pickled, 2);  // torch.save's default protocol
  writer.empty_dict().mark();
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, tensor] = tensors[i];
    at::Tensor t = tensor.detach().to(at::kCPU).contiguous();
    pickle::TensorRef ref;
    ref.storage.dtype = pickle_dtype(t.scalar_type(), name);
    ref.storage.key = std::to_string(i);
    ref.storage.location = "cpu";
    ref.storage.numel = t.numel();
    ref.sizes = t.sizes().vec();
    ref.strides = t.strides().vec();
    writer.text(name).tensor(ref);
    contiguous.push_back(t);
  }
  writer.setitems().stop();
  if (!pickled) fail("{}: cannot serialise the state dict", path.string());
  write_atomically(path, [&](const fs::path& temp) {
    try {
      caffe2::serialize::PyTorchStreamWriter zip(temp.string());
      const std::string data = pickled.str();
      zip.writeRecord("data.pkl", data.data(), data.size());
      for (size_t i = 0; i < contiguous.size(); ++i) {
        const at::Tensor& t = contiguous[i];
        zip.writeRecord("data/" + std::to_string(i), t.data_ptr(), t.numel() * t.element_size());
      }
      zip.writeEndOfFile();
    } catch (const c10::Error& e) {
      fail("cannot write {}: {}", path.string(), e.what_without_backtrace());
    }
  });
}

}  // namespace ff::backbones
