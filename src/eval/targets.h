// Evaluation targets: "[name=]PATH" specs and which protocol a path holds (detected from its layout).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace ff::eval {

enum class Protocol {
  verification_bin,  // insightface .bin pack (LFW, CFP-FP/FF, AgeDB-30, CALFW, CPLFW, VGG2-FP, RFW repacks)
  lfw,               // LFW folder: pairs.txt + person folders
  calfw,             // CALFW / CPLFW pair list (.txt), images under "<list folder>/aligned images"
  rfw,               // RFW root: test/txts/<Race>/, test/data/<Race>/
  ijb,               // IJB-B / IJB-C root: meta/ + loose_crop/
};
const char* to_string(Protocol protocol);  // "bin", "lfw", "calfw", "rfw", "ijb"

struct Target {
  std::string name;  // results-store target name, e.g. "lfw", "ijbc"
  std::filesystem::path path;
  Protocol protocol = Protocol::verification_bin;
};

// "lfw=/data/lfw.bin", "/data/IJBC" (name "ijbc"), "cplfw=/data/cplfw/pairs_CPLFW.txt". The text
// before the first '=' is a name when it is non-empty and has no '/' ; the default name is the
// file stem (.bin, .txt) or folder name, lower-cased. Detection, in order: a file ending in .bin;
// a .txt file (CALFW/CPLFW list); a folder with pairs.txt (LFW); with test/txts (RFW); with
// meta/ijbc_face_tid_mid.txt or meta/ijbb_face_tid_mid.txt (IJB). Anything else, or a path that does
// not exist, is an ff::Error naming the spec and what was looked for.
Target parse_target(const std::string& spec);

// Looks `name` up in "name=VALUE" entries (eval.landmarks, eval.groups); "" when absent. An entry
// without '=' is an error naming `key`.
std::string lookup_named(const std::vector<std::string>& entries, const std::string& name, const std::string& key);

}  // namespace ff::eval
