// Verification pair lists of the original (image-file) layouts, LFW pairs.txt, CALFW/CPLFW and RFW,
// read into one PairList: the images to embed once each and the labelled, folded pairs to score.
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ff::datasets {

// What every reader returns. Image i is root / images[i]; a feature matrix computed elsewhere
// (precomputed .npy) must have its rows in this order. Images are not opened or checked here, so a
// list can be scored from precomputed features without the image files.
struct PairList {
  std::filesystem::path root;
  // Unique paths relative to root ('/'-separated), in order of first appearance in the pair files
  // (first image of a pair before the second).
  std::vector<std::string> images;
  // x1 y1 ... x5 y5 per image (eyes, nose, mouth corners, in the stored image's pixels), parallel to
  // images when the layout provides them (RFW <Race>_lmk.txt), else empty.
  std::vector<std::array<float, 10>> landmarks;
  struct Pair {
    int32_t first = 0;   // index into images
    int32_t second = 0;  // index into images
    bool genuine = false;
    int fold = 0;       // 0-based cross-validation fold
    std::string group;  // RFW race, else ""
  };
  std::vector<Pair> pairs;  // file order (RFW: races in kRfwRaces order, each in file order)
  std::string layout;       // "lfw", "calfw" (CALFW and CPLFW) or "rfw"
};

// Common to the text files below: fields separated by spaces or tabs, LF or CRLF, blank lines
// skipped; image numbers are positive integers written plainly ("3") or zero-padded ("0003") and
// become 4-digit zero-padded file names. Errors are ff::Error, one line:
// `<file>:<line>: expected <what>, found <what was there>`.

// LFW (../shared/PROTOCOLS.md "Original LFW layout"):
//   <root>/pairs.txt  header `folds<TAB>n` (10 300 in LFW), then per fold n matched lines
//                     `name n1 n2` followed by n mismatched lines `name1 n1 name2 n2`
//   image             <image_folder>/<name>/<name>_<NNNN>.jpg
// Fold = block index of the line (0-based). A mismatched line naming one person twice is refused
// (it would be scored as an impostor pair of one identity).
struct LfwPairsOptions {
  // Relative to root (an absolute path is refused: PairList::images are relative to root); "" or "."
  // = person folders directly under root. Unset: "lfw" when <root>/lfw is a folder (the tarball
  // unpacked next to pairs.txt), else directly under root.
  std::optional<std::filesystem::path> image_folder;
};
//   PairList lfw = read_lfw_pairs("/data/lfw_original");  // 6000 pairs, folds 0..9, images "lfw/..."
PairList read_lfw_pairs(const std::filesystem::path& root, const LfwPairsOptions& options = {});

// CALFW / CPLFW: `list_file` (pairs_CALFW.txt, pairs_CPLFW.txt) holds two consecutive lines
// `img label` per pair; 2P pairs, the first P positive and the last P negative (P = 3000).
// genuine = both labels equal and non-zero: 0 marks a negative pair (as FaceX-Zoo's CALFW parser
// reads it), so a negative pair labelled 0 and 0 is not taken for genuine; labels that differ also
// mean negative. Each pair's labels must agree with its half, else the error names the pair's
// first line. Folds: P/10 pairs of each half per fold, fold k = positives [kP/10, (k+1)P/10)
// and negatives [P + kP/10, P + (k+1)P/10); P must be a positive multiple of 10.
// image_root: the folder the listed file names are relative to (PairList::root); empty = the
// list's folder / "aligned images", CALFW's and CPLFW's own folder name. Layout "calfw" for both.
//   PairList calfw = read_calfw_pairs("/data/calfw/pairs_CALFW.txt");  // root /data/calfw/aligned images
PairList read_calfw_pairs(const std::filesystem::path& list_file, const std::filesystem::path& image_root = {});

// RFW, per race in kRfwRaces:
//   <root>/test/txts/<Race>/<Race>_pairs.txt  LFW-style lines without a header: genuine `id n1 n2`,
//                                             impostor `id1 n1 id2 n2`
//   <root>/test/txts/<Race>/<Race>_lmk.txt    optional: `path field x1 y1 ... x5 y5` per image
//   image                                     test/data/<Race>/<id>/<id>_<NNNN>.jpg
// Folds: the race's pairs in 10 contiguous blocks, each its first half genuine and its second half
// impostor, as RFW (6000 = 10 x (300 + 300)) and the synthetic writer lay them out; a count that is
// not a multiple of 20 or a line of the wrong kind for its half is refused (without that layout no
// fold split is known to be RFW's). group = race.
// Landmarks: a path is matched by its last two parts `<id>/<file>` (copies prefix it differently:
// `test/data/<Race>/`, `./`, `/`); its second field (RFW's label) is skipped; lines of images no pair
// uses are ignored, and so is an identical repeat; an image used by a pair without a line, or two
// lines with different points for one image, is an error. The lmk files are read for every race or
// none: some but not all present is an error.
inline constexpr std::array<const char*, 4> kRfwRaces = {"African", "Asian", "Caucasian", "Indian"};

struct RfwReadOptions {
  std::vector<std::string> races;  // subset of kRfwRaces, each required to exist; empty = all that exist (at least one)
  bool landmarks = true;           // false: ignore <Race>_lmk.txt and leave PairList::landmarks empty
};
//   PairList rfw = read_rfw("/data/RFW");  // every race present, groups "African".."Indian", landmarks filled
PairList read_rfw(const std::filesystem::path& root, const RfwReadOptions& options = {});

// "lfw" when <dir>/pairs.txt is a file, "rfw" when <dir>/test/txts is a folder, "" when neither;
// throws ff::Error when both (the caller must say which). CALFW/CPLFW lists are named by file, not found.
std::string detect_pair_layout(const std::filesystem::path& dir);

}  // namespace ff::datasets
