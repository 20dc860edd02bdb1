// RecordIO face packs as a Source: index and labels read once at open, images decoded on demand.
#include "datasets/recordio_source.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>
#include <opencv2/core.hpp>

#include "datasets/image_codec.h"
#include "src/util/atomic_file.h"
#include "src/util/error.h"

namespace ff::datasets {

namespace fs = std::filesystem;
using recordio::IndexEntry;
using recordio::RecordHeader;

namespace {

std::string rebuild_hint(const fs::path& rec) {
  return fmt::format("rebuild it with `faceforge data index {}`", rec.string());
}

// `property`: "classes,height,width" (insightface); only the class count is used.
int64_t read_property_classes(const fs::path& path) {
  std::string text = read_file(path);
  std::string_view s(text);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  std::string_view first = s.substr(0, s.find(','));
  int64_t classes = 0;
  auto [end, ec] = std::from_chars(first.data(), first.data() + first.size(), classes);
  if (ec != std::errc() || end != first.data() + first.size() || first.empty() || classes <= 0)
    fail("{}: expected `classes,height,width` with a positive class count, got '{}'", path.string(), s);
  return classes;
}

// Float labels must be exact non-negative integers: anything else is a corrupt or foreign pack.
bool is_class_label(float v) { return std::isfinite(v) && v >= 0 && v == std::floor(v); }

// A header or identity record: array labels and no image bytes after them.
bool is_label_only_record(const recordio::RecordReader& reader, uint64_t offset, int64_t key) {
  RecordHeader h = reader.read_header(offset, key);
  return h.flag > 0 && reader.inspect(offset, key).payload_size == recordio::kIRHeaderSize + 4 * uint64_t{h.flag};
}

}  // namespace

RecordIOSource::RecordIOSource(const fs::path& path) {
  if (path.empty()) fail("RecordIO pack path is empty: give a directory with train.rec and train.idx, or a .rec file");
  if (fs::is_directory(path)) {
    rec_path_ = path / "train.rec";
    idx_path_ = path / "train.idx";
    if (!fs::exists(rec_path_))
      fail("RecordIO pack {}: {} not found (a pack directory holds train.rec and train.idx)", path.string(),
           rec_path_.string());
  } else {
    rec_path_ = path;
    idx_path_ = fs::path(path).replace_extension(".idx");
    if (!fs::exists(rec_path_)) fail("RecordIO file not found: {}", rec_path_.string());
  }
  reader_ = std::make_unique<recordio::RecordReader>(rec_path_);
  if (!fs::exists(idx_path_))
    fail("{}: index of {} not found: {}", idx_path_.string(), rec_path_.string(), rebuild_hint(rec_path_));
  fs::path property = rec_path_.parent_path() / "property";
  if (fs::exists(property)) property_classes_ = read_property_classes(property);

  // Content checks only: an index older than the .rec (mtime) is fine as long as it still matches.
  std::vector<IndexEntry> index = recordio::read_index(idx_path_);
  std::unordered_map<int64_t, uint64_t> offset_of;
  offset_of.reserve(index.size());
  for (const auto& e : index) {
    if (e.offset >= reader_->file_size())
      fail("{}: stale index: key {} points at byte {}, past the end of {} ({} bytes): {}", idx_path_.string(), e.key,
           e.offset, rec_path_.string(), reader_->file_size(), rebuild_hint(rec_path_));
    if (!reader_->has_record_at(e.offset))
      fail("{}: stale index: key {} points at byte {} of {}, where no record starts (no magic number): {}",
           idx_path_.string(), e.key, e.offset, rec_path_.string(), rebuild_hint(rec_path_));
    offset_of.emplace(e.key, e.offset);
  }

  // Header record: key 0 with array labels and nothing after them.
  auto zero = offset_of.find(0);
  if (zero != offset_of.end() && is_label_only_record(*reader_, zero->second, 0)) {
    has_header_ = true;
    RecordHeader h = reader_->read_header(zero->second, 0);
    float a = h.labels[0];
    float b = h.flag >= 2 ? h.labels[1] : 0.0f;
    if (!is_class_label(a) || a < 1)
      fail("{}: header record (key 0): first label {} is not a record key (an integer >= 1)", rec_path_.string(), a);
    auto first = static_cast<int64_t>(a), end = first;
    auto at_a = offset_of.find(first);
    bool a_is_label_only = at_a != offset_of.end() && is_label_only_record(*reader_, at_a->second, first);
    if (a_is_label_only || (first >= 2 && at_a == offset_of.end())) {
      first = 1;  // insightface: [a, b) are identity records, the images are keys 1..a-1
    } else if (is_class_label(b) && b > a) {
      end = static_cast<int64_t>(b);  // [first_key, end_key) of the images
    } else {
      fail("{}: header record (key 0): labels [{}, {}) name no image keys (expected insightface's [end of images, "
           "end of identity records) or [first image key, end key))",
           rec_path_.string(), a, b);
    }
    keys_.reserve(static_cast<size_t>(end - first));
    for (int64_t key = first; key < end; ++key) {
      if (!offset_of.count(key))
        fail("{}: key {} is missing, but the header record (key 0) says keys {}..{} are images: {}", idx_path_.string(),
             key, first, end - 1, rebuild_hint(rec_path_));
      keys_.push_back(key);
    }
  }
  if (!has_header_) {
    keys_.reserve(index.size());
    for (const auto& e : index) keys_.push_back(e.key);
  }
  if (keys_.empty()) fail("RecordIO pack {} holds no images", rec_path_.string());

  offsets_.reserve(keys_.size());
  labels_.reserve(keys_.size());
  int64_t max_label = -1;
  for (int64_t key : keys_) {
    uint64_t offset = offset_of.at(key);
    RecordHeader h = reader_->read_header(offset, key);
    float v = h.identity();
    if (!is_class_label(v))
      fail("{}: record key {}: label out of range: {} (labels must be non-negative integers)", rec_path_.string(), key,
           v);
    if (property_classes_ && v >= static_cast<float>(*property_classes_))
      fail("{}: record key {}: label out of range: {} (the property file says {} classes, so labels are 0..{})",
           rec_path_.string(), key, v, *property_classes_, *property_classes_ - 1);
    auto label = static_cast<int64_t>(v);
    max_label = std::max(max_label, label);
    offsets_.push_back(offset);
    labels_.push_back(label);
  }
  num_classes_ = property_classes_ ? *property_classes_ : max_label + 1;
}

bool RecordIOSource::read_encoded(int64_t index, std::string& bytes) const {
  std::string payload;
  reader_->read(offsets_.at(index), payload, keys_[index]);
  std::string_view image;
  recordio::unpack_payload(payload, keys_[index], offsets_[index], &image);
  bytes.assign(image);
  return true;
}

void RecordIOSource::load(int64_t index, cv::Mat& bgr) const {
  std::string bytes;
  read_encoded(index, bytes);
  if (bytes.empty()) fail("{}: record key {} holds no image bytes", rec_path_.string(), keys_[index]);
  bgr = decode_image(bytes);
  if (bgr.empty())
    fail("{}: record key {}: cannot decode its {}-byte image (not a JPEG/PNG that OpenCV reads)", rec_path_.string(),
         keys_[index], bytes.size());
}

std::string RecordIOSource::describe() const {
  return fmt::format("recordio {}: {} images, {} identities ({}{})", rec_path_.string(), keys_.size(), num_classes_,
                     has_header_ ? "insightface header record" : "no header record",
                     property_classes_ ? ", classes from property" : "");
}

std::string RecordIOSource::record_name(int64_t index) const { return "key " + std::to_string(keys_.at(index)); }

// ---------------------------------------------------------------------------------------------

int64_t write_recordio_pack(const Source& source, const fs::path& out_dir, int jpeg_quality) {
  if (jpeg_quality < 1 || jpeg_quality > 100) fail("jpeg_quality must be in 1..100, got {}", jpeg_quality);
  const int64_t n = source.size();
  const int64_t classes = source.num_classes();
  if (n <= 0) fail("cannot write a RecordIO pack from {}: it has no images", source.describe());
  if (classes <= 0) fail("cannot write a RecordIO pack from {}: it has no classes", source.describe());
  // Keys and labels travel as float32 in the header and identity records.
  if (n + classes + 1 > (int64_t{1} << 24))
    fail("cannot write a RecordIO pack of {} images and {} classes: keys up to {} exceed 2^24, the largest range "
         "float32 labels hold exactly",
         n, classes, n + classes);

  std::vector<int64_t> labels(static_cast<size_t>(n));
  std::vector<int64_t> count(static_cast<size_t>(classes), 0);
  for (int64_t i = 0; i < n; ++i) {
    labels[i] = source.label(i);
    if (labels[i] < 0 || labels[i] >= classes)
      fail("{}: {} has label {}, outside 0..{}", source.describe(), source.record_name(i), labels[i], classes - 1);
    ++count[labels[i]];
  }
  // Identity records name one contiguous key range per identity, so images are grouped by label.
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return labels[a] < labels[b]; });

  std::vector<IndexEntry> index;
  index.reserve(static_cast<size_t>(n + classes + 1));
  int height = 0, width = 0;
  fs::create_directories(out_dir);
  write_atomically(out_dir / "train.rec", [&](const fs::path& temp) {
    recordio::RecordWriter writer(temp);
    RecordHeader head;
    head.labels = {static_cast<float>(n + 1), static_cast<float>(n + 1 + classes)};
    index.push_back({0, writer.write(recordio::pack_payload(head, {}))});

    std::string bytes;
    std::vector<uchar> encoded;
    cv::Mat bgr;
    for (int64_t k = 1; k <= n; ++k) {
      int64_t i = order[k - 1];
      std::string_view image;
      if (source.read_encoded(i, bytes)) {
        image = bytes;
        if (k == 1) {
          bgr = decode_image(bytes);
          if (bgr.empty()) fail("{}: cannot decode the stored image of {}", source.describe(), source.record_name(i));
        }
      } else {
        source.load(i, bgr);
        if (bgr.empty()) fail("{}: {} loaded as an empty image", source.describe(), source.record_name(i));
        if (!encode_image(".jpg", bgr, encoded, jpeg_quality))
          fail("{}: cannot encode {} as JPEG", source.describe(), source.record_name(i));
        image = std::string_view(reinterpret_cast<const char*>(encoded.data()), encoded.size());
      }
      if (k == 1) {
        height = bgr.rows;
        width = bgr.cols;
      }
      RecordHeader h;
      h.label = static_cast<float>(labels[i]);
      h.id = static_cast<uint64_t>(k);
      index.push_back({k, writer.write(recordio::pack_payload(h, image))});
    }

    int64_t start = 1;
    for (int64_t c = 0; c < classes; ++c) {
      RecordHeader id_record;
      id_record.id = static_cast<uint64_t>(n + 1 + c);
      id_record.labels = {static_cast<float>(start), static_cast<float>(start + count[c])};
      index.push_back({n + 1 + c, writer.write(recordio::pack_payload(id_record, {}))});
      start += count[c];
    }
    writer.close();
  });
  recordio::write_index(out_dir / "train.idx", index);
  write_file_atomically(out_dir / "property", fmt::format("{},{},{}", classes, height, width));
  return n;
}

}  // namespace ff::datasets
