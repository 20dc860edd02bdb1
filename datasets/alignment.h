// Five-point face alignment: similarity fit onto the ArcFace 112x112 template, landmark file readers
// (IJB, RFW, CSV) and a batch aligner that writes aligned crops beside a landmark list.
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include <opencv2/core.hpp>

namespace ff::datasets {

// Points in the order left eye, right eye, nose, left mouth corner, right mouth corner, where
// "left" means the image's left (smaller x on a frontal face), as detectors and the template use.
using FivePoints = std::array<cv::Point2d, 5>;

// Side of the aligned crop in pixels.
inline constexpr int kAlignedSize = 112;

// The ArcFace (insightface) 112x112 template, in pixel coordinates of the aligned crop.
inline const FivePoints kArcFaceTemplate = {{{38.2946, 51.6963},
                                             {73.5318, 51.5014},
                                             {56.0252, 71.7366},
                                             {41.5493, 92.3655},
                                             {70.7299, 92.2041}}};

// The similarity transform (rotation, uniform scale >= 0, translation; never a reflection) that
// maps `from` onto `to` with the least sum of squared distances (Umeyama 1991, closed form).
// Returned as the 2x3 matrix [s R | t], so `to_i ~ s R from_i + t`, the layout cv::warpAffine takes.
// Throws ff::Error when `from` points coincide (no spread to fit a scale and angle to), when
// all `to` points coincide (the fit would collapse the image to one point) or on non-finite input.
cv::Matx23d estimate_similarity(const FivePoints& from, const FivePoints& to);

// Warps `image` so that `points` land on kArcFaceTemplate: cv::warpAffine, bilinear, constant
// black border. `image` must be 8-bit with 1, 3 (BGR) or 4 (BGRA) channels; `out` is always
// 8-bit BGR 112x112. Throws ff::Error for an empty or non-8-bit image and degenerate points.
void align_face(const cv::Mat& image, const FivePoints& points, cv::Mat& out);

// One line of a landmark file.
struct LandmarkEntry {
  std::string image;  // path relative to the images folder, normalised (see read_landmarks)
  FivePoints points;
  double score = 1.0;  // detector score; 1.0 for formats and rows that carry none (rfw, csv w/o score)
  int line = 0;        // 1-based line in the landmark file, for error messages
};

// Reads a landmark list. `format`:
//  "ijb": `img.jpg x1 y1 ... x5 y5 faceness_score`, whitespace separated (12 fields);
//  "rfw": `path label x1 y1 ... x5 y5`, whitespace separated (12 fields; the second field, the
//         identity label, is not used here);
//  "csv": `path,x1,y1,...,x5,y5[,score]`; an optional header line is recognised by coordinate
//         columns that are not numbers; every row must have the same field count (11 or 12);
//         double-quoted fields ("a,b.jpg") are accepted;
//  "auto": csv when the first line splits into 11 or 12 comma-separated fields; otherwise rfw when
//         the file name ends in "_lmk.txt", ijb when it contains "5pts"; otherwise rfw only when
//         every line's second field is an integer (a label) and some line's last field exceeds 1
//         (a coordinate, where ijb has a score), else ijb.
// Image paths are normalised: "./" and leading "/" are dropped (RFW lists "/test/data/..."
// relative to its root), so every path is relative to the images folder; ".." is refused.
// Empty lines are skipped. Errors (ff::Error) name `file:line` and what was expected: a wrong
// field count, a coordinate column that is not a finite number (naming the column), a repeated
// image (naming both lines), an unknown format.
std::vector<LandmarkEntry> read_landmarks(const std::filesystem::path& file, const std::string& format);

// Image path as read_landmarks stores it: generic separators, no "./" or leading "/".
// Throws ff::Error for an empty path or one that climbs out with "..".
std::string normalize_landmark_path(const std::string& path);

// Relative image path -> landmarks, for aligning inside a data pipeline (Source::record_name gives
// the relative path).
class LandmarkTable {
 public:
  LandmarkTable() = default;
  // Duplicate images are an error naming both lines.
  explicit LandmarkTable(const std::vector<LandmarkEntry>& entries);
  static LandmarkTable read(const std::filesystem::path& file, const std::string& format = "auto");

  // nullptr when the image has no entry; `relative_path` is normalised like the file's paths.
  const FivePoints* find(const std::string& relative_path) const;
  size_t size() const { return points_.size(); }

 private:
  std::unordered_map<std::string, FivePoints> points_;
};

struct AlignOptions {
  std::filesystem::path landmarks;  // landmark list (see read_landmarks)
  std::string format = "auto";
  std::filesystem::path images;  // folder the listed paths are relative to
  std::filesystem::path out;     // aligned crops go to out/<listed relative path>
  int jpeg_quality = 95;         // 0..100, for .jpg/.jpeg outputs
  double min_score = 0;          // entries with score < min_score are skipped (and counted)
};

struct AlignReport {
  int64_t aligned = 0;            // crops written
  int64_t skipped_low_score = 0;  // entries below min_score
};

// Aligns every listed image into out/<same relative path>. The crop is encoded by the path's own
// extension: JPEG at `jpeg_quality` for .jpg/.jpeg, otherwise that format (a .png stays a lossless
// PNG), so a file name never misstates its content. Each file is written to a temp name in its
// folder and renamed, so an interrupted run leaves only whole files (and perhaps a *.tmp.<pid>).
// Existing outputs are overwritten. Errors name the image and its landmark `file:line`: a listed
// image that does not exist (all of them are checked before any work), one that cannot be decoded,
// degenerate landmarks, a failed write. Entries below min_score are skipped without touching disk.
// `progress(done, total)` is called after each entry, total = entries in the file.
AlignReport align_files(const AlignOptions& options,
                        const std::function<void(int64_t done, int64_t total)>& progress = {});

}  // namespace ff::datasets
