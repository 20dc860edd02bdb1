// MXNet RecordIO face packs (insightface's train.rec + train.idx + property) as a training Source,
// and a writer that turns any Source into such a pack. Format: recordio.h, ../shared/PROTOCOLS.md.
//
// Which records are images, as insightface's readers (arcface_torch MXFaceDataset) decide:
//   - key 0 is the header record when it has array labels and no image bytes. insightface's
//     face2rec writes labels [E, F): the images are keys 1..E-1, and keys E..F-1 are identity records
//     (labels [start, end) of one identity's image keys), not images. This is the form when E >= 2
//     and record E is absent or is itself a label-only record; otherwise the labels are read as
//     [first image key, end key) (the form ../shared/PROTOCOLS.md words), so packs written either
//     way open;
//   - otherwise (no header record) every key of the index is an image, in index-file order.
// An image's identity is its scalar label, or labels[0] when it has array labels.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "datasets/recordio.h"
#include "datasets/source.h"

namespace ff::datasets {

class RecordIOSource : public Source {
 public:
  // `path`: a directory holding train.rec and train.idx, or a .rec file (index: same stem, .idx).
  // A `property` file beside the .rec (`classes,height,width`) fixes num_classes; without it
  // num_classes = largest label + 1. Reads the IRHeader of every image record (not the images).
  // Errors: a missing .rec names the path; a missing or stale index (an offset past the end of the
  // .rec or where no record starts, a key the header record names but the index lacks) says to
  // rebuild it with `faceforge data index <rec>`; a label that is negative, not an integer or not
  // below the property's classes is "label out of range" naming the key and the value.
  explicit RecordIOSource(const std::filesystem::path& path);

  int64_t size() const override { return static_cast<int64_t>(keys_.size()); }
  int64_t num_classes() const override { return num_classes_; }
  int64_t label(int64_t index) const override { return labels_[index]; }
  // Decodes with cv::imdecode (3-channel BGR); errors name the pack and the key.
  void load(int64_t index, cv::Mat& bgr) const override;
  std::string describe() const override;
  std::string record_name(int64_t index) const override;  // "key 17"
  bool read_encoded(int64_t index, std::string& bytes) const override;

  int64_t key(int64_t index) const { return keys_[index]; }
  bool has_header_record() const { return has_header_; }
  const std::filesystem::path& rec_path() const { return rec_path_; }
  const std::filesystem::path& idx_path() const { return idx_path_; }
  // The classes named by the `property` file, when there is one.
  std::optional<int64_t> property_classes() const { return property_classes_; }

 private:
  std::filesystem::path rec_path_, idx_path_;
  std::unique_ptr<recordio::RecordReader> reader_;
  std::vector<int64_t> keys_;
  std::vector<uint64_t> offsets_;
  std::vector<int64_t> labels_;
  int64_t num_classes_ = 0;
  bool has_header_ = false;
  std::optional<int64_t> property_classes_;
};

// Writes out_dir/train.rec, train.idx and property in insightface's layout, each through a temp file
// renamed into place (.rec first, then .idx, then property):
//   key 0: header record, flag 2, labels [N+1, N+1+C] (C = source.num_classes()), no image;
//   keys 1..N: images with the scalar label source.label(i) and id = key, ordered by label (stable,
//     so a source already grouped by identity keeps its order);
//   keys N+1..N+C: identity records, flag 2, labels [first key, end key) of that identity's images;
//   property: `C,height,width` of the first image.
// Image bytes are source.read_encoded() when the source keeps them, else source.load() encoded as JPEG
// at `jpeg_quality`. Labels must lie in [0, C), and N + C + 1 below 2^24 so float32 labels stay exact.
// Returns N.
int64_t write_recordio_pack(const Source& source, const std::filesystem::path& out_dir, int jpeg_quality = 95);

}  // namespace ff::datasets
