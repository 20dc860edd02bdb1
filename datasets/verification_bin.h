// insightface verification packs (`lfw.bin`, `cfp_fp.bin`, ...): a pickled (bins, issame_list) tuple.
// Reads packs written by Python 2 and 3 (pickle protocols 2-5) without executing any pickle code,
// and writes packs that Python's pickle.load reads back. Format: ../shared/PROTOCOLS.md.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace ff::datasets {

struct VerificationPack {
  std::vector<std::string> images;  // 2N encoded images (JPEG/PNG bytes); pair i = images[2i], images[2i+1]
  std::vector<bool> issame;         // N labels, in official fold order (contiguous blocks of N/10 are folds)
  size_t pairs() const { return issame.size(); }
};

// Throws ff::Error naming the file and the byte offset of anything unexpected.
VerificationPack read_verification_bin(const std::filesystem::path& path);
VerificationPack parse_verification_bin(const std::string& bytes, const std::string& source_name);

// Writes atomically with pickle protocol 4 (bytes as SHORT_BINBYTES/BINBYTES, bools as NEWTRUE/NEWFALSE,
// no FRAME); refuses a pack without pairs or with images.size() != 2 * issame.size().
void write_verification_bin(const std::filesystem::path& path, const VerificationPack& pack);

}  // namespace ff::datasets
