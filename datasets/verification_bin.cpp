// Reads and writes insightface verification packs on top of the data-only pickle reader/writer.
#include "datasets/verification_bin.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <unordered_map>

#include <fmt/format.h>

#include "src/util/atomic_file.h"
#include "src/util/error.h"
#include "src/util/pickle.h"

namespace ff::datasets {
namespace fs = std::filesystem;

namespace {

// CPython's pickler batches APPENDS by 1000; matching it keeps the unpickler's temporary lists small.
constexpr std::size_t kAppendsBatch = 1000;

}  // namespace

VerificationPack parse_verification_bin(const std::string& bytes, const std::string& source_name) {
  pickle::Document doc = pickle::load(bytes, source_name, pickle::Vocabulary::NumpyBool);
  const pickle::Value& root = doc.top();
  if (root.kind != pickle::Kind::Tuple || root.items.size() != 2) {
    fail("{}: expected the pickle to hold a 2-tuple (bins, issame_list), found {}", source_name, pickle::describe(root));
  }
  const pickle::Id bins_id = root.items[0];
  const pickle::Id issame_id = root.items[1];

  VerificationPack pack;
  if (doc[bins_id].kind != pickle::Kind::List) {
    fail("{}: expected bins (the tuple's first element) to be a list of encoded images, found {}", source_name,
         pickle::describe(doc[bins_id]));
  }
  const std::vector<pickle::Id>& bins = doc[bins_id].items;
  // The memo can list one bytes object several times; moving it out at its last use avoids holding
  // every image twice without emptying an earlier duplicate.
  std::unordered_map<pickle::Id, std::size_t> uses;
  for (pickle::Id id : bins) ++uses[id];
  pack.images.reserve(bins.size());
  for (std::size_t i = 0; i < bins.size(); ++i) {
    pickle::Value& image = doc[bins[i]];
    if (image.kind != pickle::Kind::Bytes && image.kind != pickle::Kind::ByteStr) {
      fail("{}: expected bins[{}] to be an encoded image as bytes (Python 3) or str (Python 2), found {}",
           source_name, i, pickle::describe(image));
    }
    if (--uses[bins[i]] == 0) {
      pack.images.push_back(std::move(image.data));
    } else {
      pack.images.push_back(image.data);
    }
  }

  const pickle::Value& issame = doc[issame_id];
  if (issame.kind == pickle::Kind::BoolArray) {
    pack.issame = issame.bools;
  } else if (issame.kind == pickle::Kind::List) {
    pack.issame.reserve(issame.items.size());
    for (std::size_t i = 0; i < issame.items.size(); ++i) {
      const pickle::Value& label = doc[issame.items[i]];
      if (label.kind != pickle::Kind::Bool) {
        fail("{}: expected issame_list[{}] to be a bool, found {}", source_name, i, pickle::describe(label));
      }
      pack.issame.push_back(label.boolean);
    }
  } else {
    fail("{}: expected issame_list (the tuple's second element) to be a list of bools or a numpy bool array, "
         "found {}", source_name, pickle::describe(issame));
  }

  if (pack.images.size() != 2 * pack.issame.size()) {
    fail("{}: expected 2 images per pair, found {} images in bins for {} labels in issame_list (need {} images)",
         source_name, pack.images.size(), pack.issame.size(), 2 * pack.issame.size());
  }
  if (pack.issame.empty()) fail("{}: expected at least one pair, found an empty pack", source_name);
  return pack;
}

VerificationPack read_verification_bin(const fs::path& path) {
  return parse_verification_bin(ff::read_file(path), path.string());
}

void write_verification_bin(const fs::path& path, const VerificationPack& pack) {
  if (pack.images.size() != 2 * pack.issame.size()) {
    fail("cannot write {}: expected 2 images per pair, found {} images for {} pairs", path.string(),
         pack.images.size(), pack.issame.size());
  }
  if (pack.issame.empty()) fail("cannot write {}: expected at least one pair, found an empty pack", path.string());

  // Streamed rather than built in memory: packs reach hundreds of MB (write_file_atomically's
  // temp-and-rename, without a second copy of the images).
  write_atomically(path, [&](const fs::path& temp) {
    std::ofstream out(temp, std::ios::binary);
    if (!out) fail("cannot write {}: {}", temp.string(), std::strerror(errno));
    pickle::Writer writer(out);
    writer.empty_list();
    for (std::size_t start = 0; start < pack.images.size(); start += kAppendsBatch) {
      writer.mark();
      for (std::size_t i = start; i < pack.images.size() && i < start + kAppendsBatch; ++i) {
        writer.bytes(pack.images[i]);
      }
      writer.appends();
    }
    writer.empty_list();
    for (std::size_t start = 0; start < pack.issame.size(); start += kAppendsBatch) {
      writer.mark();
      for (std::size_t i = start; i < pack.issame.size() && i < start + kAppendsBatch; ++i) {
        writer.boolean(pack.issame[i]);
      }
      writer.appends();
    }
    writer.tuple2().stop();
    if (!out) fail("cannot write {}: {}", temp.string(), std::strerror(errno));
  });
}

}  // namespace ff::datasets
