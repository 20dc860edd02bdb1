// Reads IJB-B/C meta files from whole-file buffers with std::from_chars: the IJB-C pair list alone
// has 15.7M lines, which per-token iostreams would take tens of seconds to get through.
#include "datasets/ijb_meta.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "datasets/text_lines.h"
#include "src/util/error.h"

namespace ff::datasets {

namespace fs = std::filesystem;

namespace {

void expect_fields(const TextFile& file, std::string_view line, size_t found, size_t expected, const char* layout) {
  if (found != expected) {
    fail("{}:{}: expected {} fields `{}`, found {} in {}", file.name(), file.line(), expected, layout, found,
         quoted(line));
  }
}

// The template ids of the images, against which 15.7M pair lines are checked: a bitmap over the id
// range answers in a few ns where a binary search took ~1 s in all; ids spread over more than 2^27
// values (a 16 MB bitmap) fall back to binary search.
class TemplateSet {
 public:
  explicit TemplateSet(const std::vector<IjbImage>& images) {
    ids_.reserve(images.size());
    for (const IjbImage& image : images) ids_.push_back(image.template_id);
    std::sort(ids_.begin(), ids_.end());
    ids_.erase(std::unique(ids_.begin(), ids_.end()), ids_.end());
    if (!ids_.empty() && static_cast<uint64_t>(ids_.back()) - static_cast<uint64_t>(ids_.front()) < kMaxBits) {
      low_ = ids_.front();
      bits_.assign(static_cast<size_t>(ids_.back() - low_) + 1, false);
      for (int64_t id : ids_) bits_[static_cast<size_t>(id - low_)] = true;
    }
  }
  bool contains(int64_t id) const {
    if (bits_.empty()) return std::binary_search(ids_.begin(), ids_.end(), id);
    const uint64_t offset = static_cast<uint64_t>(id) - static_cast<uint64_t>(low_);  // wraps for id < low_
    return offset < bits_.size() && bits_[static_cast<size_t>(offset)];
  }

 private:
  static constexpr uint64_t kMaxBits = uint64_t{1} << 27;
  std::vector<int64_t> ids_;
  std::vector<bool> bits_;
  int64_t low_ = 0;
};

// `lines` receives each image's line number, for the name check against the 5pts file.
std::vector<IjbImage> read_tid_mid(const fs::path& path, std::vector<int64_t>& lines) {
  TextFile file(path);
  std::vector<IjbImage> images;
  images.reserve(file.count_lines());
  lines.reserve(images.capacity());
  std::string_view line;
  std::string_view f[3];
  while (file.next(line)) {
    expect_fields(file, line, split_fields(line, f, 3), 3, "img.jpg template_id media_id");
    IjbImage image;
    image.file = std::string(f[0]);
    image.template_id = parse_integer(file, f[1], "template id (field 2)");
    image.media_id = parse_integer(file, f[2], "media id (field 3)");
    images.push_back(std::move(image));
    lines.push_back(file.line());
  }
  if (images.empty()) fail("{}: expected `img.jpg template_id media_id` lines, found none", file.name());
  return images;
}

void read_landmarks(const fs::path& path, const std::string& tid_mid_name, const std::vector<int64_t>& tid_mid_lines,
                    std::vector<IjbImage>& images) {
  TextFile file(path);
  std::string_view line;
  std::string_view f[12];
  size_t index = 0;
  while (file.next(line)) {
    expect_fields(file, line, split_fields(line, f, 12), 12, "img.jpg x1 y1 ... x5 y5 faceness_score");
    if (index >= images.size()) {
      fail("{}:{}: expected no more than the {} images of {}, found a further image '{}'", file.name(), file.line(),
           images.size(), tid_mid_name, f[0]);
    }
    IjbImage& image = images[index];
    if (f[0] != image.file) {
      fail("{}:{}: expected image '{}' as {}:{} lists it, found '{}' (both files must list the images in the same "
           "order)",
           file.name(), file.line(), image.file, tid_mid_name, tid_mid_lines[index], f[0]);
    }
    for (int k = 0; k < 10; ++k) image.landmarks[k] = parse_real(file, f[1 + k], "a landmark coordinate");
    image.detector_score = parse_real(file, f[11], "the faceness score (field 12)");
    ++index;
  }
  if (index != images.size()) {
    fail("{}:{}: expected {} images as {} lists, found only {} (the file ends here; {}:{} lists '{}')", file.name(),
         file.line(), images.size(), tid_mid_name, index, tid_mid_name, tid_mid_lines[index], images[index].file);
  }
}

std::vector<IjbPair> read_pairs(const fs::path& path, const std::string& tid_mid_name, const TemplateSet& known) {
  TextFile file(path);
  std::vector<IjbPair> pairs;
  pairs.reserve(file.count_lines());  // IJB-C: 376 MB, which regrowing would briefly need 2.5 times
  std::string_view line;
  std::string_view f[3];
  while (file.next(line)) {
    expect_fields(file, line, split_fields(line, f, 3), 3, "tid1 tid2 label");
    IjbPair pair;
    pair.t1 = parse_integer(file, f[0], "template id (field 1)");
    pair.t2 = parse_integer(file, f[1], "template id (field 2)");
    if (f[2] == "1") {
      pair.genuine = true;
    } else if (f[2] != "0") {
      fail("{}:{}: expected label 1 (genuine) or 0 (impostor) in field 3, found '{}'", file.name(), file.line(), f[2]);
    }
    for (int64_t t : {pair.t1, pair.t2}) {
      if (!known.contains(t)) {
        fail("{}:{}: expected templates listed in {}, found template {} with no image there", file.name(),
             file.line(), tid_mid_name, t);
      }
    }
    pairs.push_back(pair);
  }
  if (pairs.empty()) fail("{}: expected `tid1 tid2 label` lines, found none", file.name());
  return pairs;
}

// Trims spaces and one pair of surrounding double quotes, as CSV writers may add either.
std::string_view csv_cell(std::string_view cell) {
  while (!cell.empty() && (cell.front() == ' ' || cell.front() == '\t')) cell.remove_prefix(1);
  while (!cell.empty() && (cell.back() == ' ' || cell.back() == '\t')) cell.remove_suffix(1);
  if (cell.size() >= 2 && cell.front() == '"' && cell.back() == '"') cell = cell.substr(1, cell.size() - 2);
  return cell;
}

std::vector<std::string_view> split_commas(std::string_view line) {
  std::vector<std::string_view> cells;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    const size_t length = comma == std::string_view::npos ? std::string_view::npos : comma - start;
    cells.push_back(csv_cell(line.substr(start, length)));
    if (comma == std::string_view::npos) return cells;
    start = comma + 1;
  }
}

IjbTemplateList read_template_list(const fs::path& path, std::string name, const std::string& tid_mid_name,
                                   const TemplateSet& known) {
  TextFile file(path);
  std::string_view line;
  if (!file.next(line)) {
    fail("{}: expected a header row naming TEMPLATE_ID and SUBJECT_ID, found an empty file", file.name());
  }
  if (line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);  // UTF-8 byte order mark
  const std::vector<std::string_view> header = split_commas(line);
  const auto column = [&](std::string_view wanted) {
    const auto it = std::find(header.begin(), header.end(), wanted);
    if (it == header.end()) {
      fail("{}:{}: expected a header row naming TEMPLATE_ID and SUBJECT_ID, found {}", file.name(), file.line(),
           quoted(line));
    }
    return static_cast<size_t>(it - header.begin());
  };
  const size_t template_column = column("TEMPLATE_ID");
  const size_t subject_column = column("SUBJECT_ID");
  const size_t needed = std::max(template_column, subject_column) + 1;

  IjbTemplateList list;
  list.name = std::move(name);
  struct Seen {
    int64_t subject;
    int64_t line;
  };
  std::unordered_map<int64_t, Seen> seen;
  while (file.next(line)) {
    const std::vector<std::string_view> cells = split_commas(line);
    if (cells.size() < needed) {
      fail("{}:{}: expected at least {} comma-separated fields (TEMPLATE_ID is column {}, SUBJECT_ID column {}), "
           "found {} in {}",
           file.name(), file.line(), needed, template_column + 1, subject_column + 1, cells.size(), quoted(line));
    }
    const int64_t template_id = parse_integer(file, cells[template_column], "TEMPLATE_ID");
    const int64_t subject_id = parse_integer(file, cells[subject_column], "SUBJECT_ID");
    const auto [it, inserted] = seen.try_emplace(template_id, Seen{subject_id, file.line()});
    if (inserted) {
      if (!known.contains(template_id)) {
        fail("{}:{}: expected templates listed in {}, found template {} with no image there", file.name(),
             file.line(), tid_mid_name, template_id);
      }
      list.template_ids.push_back(template_id);
      list.subject_ids.push_back(subject_id);
    } else if (it->second.subject != subject_id) {
      fail("{}:{}: expected template {} to keep subject {} (line {}), found subject {}", file.name(), file.line(),
           template_id, it->second.subject, it->second.line, subject_id);
    }
  }
  if (list.template_ids.empty()) fail("{}: expected rows after the header, found none", file.name());
  return list;
}

std::vector<std::string> missing_files(const fs::path& dir, const std::vector<std::string>& names) {
  std::vector<std::string> missing;
  for (const std::string& name : names) {
    if (!fs::is_regular_file(dir / name)) missing.push_back(name);
  }
  return missing;
}

}  // namespace

IjbMeta read_ijb_meta(const fs::path& root, const IjbReadOptions& options) {
  const fs::path meta_dir = root / "meta";
  std::string prefix = options.prefix;
  if (!prefix.empty() && prefix != "ijbc" && prefix != "ijbb") {
    fail("IJB prefix: expected \"ijbc\", \"ijbb\" or empty (detect), found '{}'", prefix);
  }
  if (prefix.empty()) {
    const bool ijbc = fs::is_regular_file(meta_dir / "ijbc_face_tid_mid.txt");
    const bool ijbb = fs::is_regular_file(meta_dir / "ijbb_face_tid_mid.txt");
    if (ijbc && ijbb) {
      fail("{}: expected one IJB set, found both ijbc_face_tid_mid.txt and ijbb_face_tid_mid.txt (force the prefix "
           "to choose)",
           meta_dir.string());
    }
    if (!ijbc && !ijbb) {
      fail("{}: expected ijbc_face_tid_mid.txt (IJB-C) or ijbb_face_tid_mid.txt (IJB-B), found neither{}",
           meta_dir.string(), fs::is_directory(meta_dir) ? "" : " (no such folder)");
    }
    prefix = ijbc ? "ijbc" : "ijbb";
  }

  const std::string tid_mid = prefix + "_face_tid_mid.txt";
  const std::string five_points = prefix + "_name_5pts_score.txt";
  const std::string pair_label = prefix + "_template_pair_label.txt";
  const std::vector<std::string> required = {tid_mid, five_points, pair_label};
  if (const auto missing = missing_files(meta_dir, required); !missing.empty()) {
    fail("{}: expected {}, {} and {}, missing {}", meta_dir.string(), tid_mid, five_points, pair_label,
         fmt::join(missing, ", "));
  }
  const std::vector<std::string> gallery_names =
      prefix == "ijbc" ? std::vector<std::string>{"G1", "G2"} : std::vector<std::string>{"S1", "S2"};
  const std::vector<std::string> one_to_n = {prefix + "_1N_gallery_" + gallery_names[0] + ".csv",
                                             prefix + "_1N_gallery_" + gallery_names[1] + ".csv",
                                             prefix + "_1N_probe_mixed.csv"};
  // A partial 1:N set is a broken copy, not "no 1:N": refusing it beats silently skipping 1:N.
  const auto missing_one_to_n = missing_files(meta_dir, one_to_n);
  const bool has_one_to_n = missing_one_to_n.empty();
  if (!has_one_to_n && missing_one_to_n.size() != one_to_n.size()) {
    fail("{}: expected all three 1:N files {}, {} and {} or none, missing {}", meta_dir.string(), one_to_n[0],
         one_to_n[1], one_to_n[2], fmt::join(missing_one_to_n, ", "));
  }

  IjbMeta meta;
  meta.prefix = prefix;
  meta.root = root;
  const std::string tid_mid_path = (meta_dir / tid_mid).string();
  std::vector<int64_t> tid_mid_lines;
  meta.images = read_tid_mid(meta_dir / tid_mid, tid_mid_lines);
  read_landmarks(meta_dir / five_points, tid_mid_path, tid_mid_lines, meta.images);
  const TemplateSet known(meta.images);
  meta.pairs = read_pairs(meta_dir / pair_label, tid_mid_path, known);
  if (has_one_to_n) {
    for (size_t g = 0; g < 2; ++g) {
      meta.galleries.push_back(read_template_list(meta_dir / one_to_n[g], gallery_names[g], tid_mid_path, known));
    }
    meta.probes = read_template_list(meta_dir / one_to_n[2], "mixed", tid_mid_path, known);
  }
  return meta;
}

}  // namespace ff::datasets
