// IJB-B / IJB-C evaluation metadata in insightface's layout: images with template and media ids and
// five landmarks, the 1:1 template pairs, and the optional 1:N gallery and probe template lists.
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ff::datasets {

// Layout (../shared/PROTOCOLS.md "IJB-B / IJB-C"), prefix p = "ijbc" or "ijbb":
//   <root>/loose_crop/<img>.jpg            the images (not opened or checked here)
//   <root>/meta/<p>_face_tid_mid.txt       `img.jpg template_id media_id`
//   <root>/meta/<p>_name_5pts_score.txt    `img.jpg x1 y1 ... x5 y5 faceness_score`, same image order
//   <root>/meta/<p>_template_pair_label.txt `tid1 tid2 label`, 1 genuine, 0 impostor
//   1:N, optional but all or none: <p>_1N_gallery_G1.csv, <p>_1N_gallery_G2.csv (IJB-B: S1, S2) and
//   <p>_1N_probe_mixed.csv, each a CSV with a header row naming TEMPLATE_ID and SUBJECT_ID.
// Text files: fields separated by spaces or tabs, LF or CRLF, blank lines skipped; ids are
// integers, coordinates and scores finite decimals.

struct IjbImage {
  std::string file;                  // name under loose_crop/, as listed
  int64_t template_id = 0;
  int64_t media_id = 0;              // media ids repeat across templates: a media is keyed by (template, media)
  std::array<float, 10> landmarks{};  // x1 y1 ... x5 y5 in loose-crop pixels: eyes, nose, mouth corners
  float detector_score = 0.0f;        // faceness score
};

struct IjbPair {
  int64_t t1 = 0;
  int64_t t2 = 0;
  bool genuine = false;
};

// A 1:N list reduced from one row per image to one entry per template, in first-appearance order.
struct IjbTemplateList {
  std::string name;                  // "G1", "G2" (IJB-C), "S1", "S2" (IJB-B) or "mixed" (probes)
  std::vector<int64_t> template_ids;
  std::vector<int64_t> subject_ids;  // parallel to template_ids
};

struct IjbMeta {
  std::string prefix;                       // "ijbc" or "ijbb"
  std::filesystem::path root;
  std::vector<IjbImage> images;             // file order; row i of a feature matrix = images[i]
  std::vector<IjbPair> pairs;               // file order
  std::vector<IjbTemplateList> galleries;   // {G1, G2} or {S1, S2}; empty without 1:N files
  std::optional<IjbTemplateList> probes;    // set exactly when galleries are

  std::filesystem::path image_path(size_t i) const { return root / "loose_crop" / images[i].file; }
};

struct IjbReadOptions {
  std::string prefix;  // "" = detect from which <p>_face_tid_mid.txt exists; or force "ijbc" / "ijbb"
};

// Reads the meta files of one IJB tree. Throws ff::Error, one line, as
// `<file>:<line>: <what was expected>, found <what was there>` for a wrong field count, a
// non-number, a label other than 0/1, image names differing between tid_mid and 5pts (both files
// named), a pair or 1:N row naming a template without images, a template with two subject ids or
// a CSV header without TEMPLATE_ID/SUBJECT_ID; and naming the folder and the expected file names
// when files are missing, both prefixes are present without a forced one, or only some 1:N files exist.
// The 15.7M-line IJB-C pair file is parsed from one buffer with std::from_chars (a few seconds).
//
//   IjbMeta meta = read_ijb_meta("/data/IJBC");  // meta.prefix == "ijbc", meta.pairs.size() == 15658489
IjbMeta read_ijb_meta(const std::filesystem::path& root, const IjbReadOptions& options = {});

}  // namespace ff::datasets
