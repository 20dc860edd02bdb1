// Reads the LFW, CALFW/CPLFW and RFW pair lists into PairList. The files are small (6000 pairs per
// list), but they are parsed the way the IJB meta reader does it, from one buffer with from_chars,
// so that every message can carry the file and line.
#include "datasets/pair_lists.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>
#include <unordered_map>

#include "datasets/text_lines.h"
#include "src/util/error.h"

namespace ff::datasets {

namespace fs = std::filesystem;

namespace {

// LFW and RFW number a person's images from 0001; 0 or a negative number is a broken line.
int parse_image_number(const std::string& file, int64_t line, std::string_view field) {
  int value = 0;
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (ec != std::errc() || end != field.data() + field.size() || value < 1) {
    fail("{}:{}: expected a positive image number, found '{}'", file, line, field);
  }
  return value;
}

// `<prefix><name>/<name>_<NNNN>.jpg`, the file name LFW and RFW give image <number> of a person.
std::string person_image(std::string_view prefix, std::string_view name, int number) {
  return fmt::format("{}{}/{}_{:04d}.jpg", prefix, name, name, number);
}

// Interns image paths into list.images in first-appearance order and remembers where each was
// first used, for messages about its landmarks.
class ImageIndex {
 public:
  explicit ImageIndex(PairList& list) : list_(list) {}

  int32_t add(std::string path, int64_t line) {
    const auto [it, inserted] = index_.try_emplace(path, static_cast<int32_t>(list_.images.size()));
    if (inserted) {
      if (list_.images.size() >= static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
        fail("pair list: expected fewer than 2^31 images, found more");
      }
      list_.images.push_back(std::move(path));
      first_line_.push_back(line);
    }
    return it->second;
  }

  int64_t first_line(size_t image) const { return first_line_[image]; }

 private:
  PairList& list_;
  std::unordered_map<std::string, int32_t> index_;
  std::vector<int64_t> first_line_;
};

// One parsed LFW-style line: genuine `name n1 n2` or impostor `name1 n1 name2 n2`.
struct PersonPair {
  std::string_view name1, name2;
  int n1 = 0, n2 = 0;
  bool genuine = false;
  int64_t line = 0;
};

PersonPair parse_person_pair(const TextFile& file, std::string_view line, const std::string_view* f, size_t count) {
  PersonPair pair;
  pair.line = file.line();
  pair.genuine = count == 3;
  pair.name1 = f[0];
  pair.n1 = parse_image_number(file.name(), file.line(), f[1]);
  pair.name2 = pair.genuine ? f[0] : f[2];
  pair.n2 = parse_image_number(file.name(), file.line(), f[pair.genuine ? 2 : 3]);
  if (!pair.genuine && pair.name1 == pair.name2) {
    fail("{}:{}: expected two different names in a mismatched pair, found '{}' twice in {}", file.name(), file.line(),
         pair.name1, quoted(line));
  }
  return pair;
}

}  // namespace

PairList read_lfw_pairs(const fs::path& root, const LfwPairsOptions& options) {
  const fs::path list_path = root / "pairs.txt";
  if (!fs::is_regular_file(list_path)) fail("{}: expected LFW's pair list, found no such file", list_path.string());

  std::string prefix;
  if (options.image_folder) {
    if (options.image_folder->is_absolute()) {
      fail("LFW image_folder: expected a folder relative to {}, found the absolute path {}", root.string(),
           options.image_folder->string());
    }
    prefix = options.image_folder->lexically_normal().generic_string();
  } else if (fs::is_directory(root / "lfw")) {
    prefix = "lfw";
  }
  if (prefix == ".") prefix.clear();
  if (!prefix.empty() && prefix.back() != '/') prefix += '/';

  TextFile file(list_path);
  std::string_view line;
  std::string_view f[4];
  if (!file.next(line)) fail("{}: expected a header `folds<TAB>pairs_per_half`, found an empty file", file.name());
  if (split_fields(line, f, 2) != 2) {
    fail("{}:{}: expected a header of 2 fields `folds<TAB>pairs_per_half` (LFW: 10 300), found {}", file.name(),
         file.line(), quoted(line));
  }
  const int64_t folds = parse_integer(file, f[0], "fold count (header field 1)");
  const int64_t half = parse_integer(file, f[1], "pairs per half-fold (header field 2)");
  if (folds < 1 || half < 1 || folds > 1000000 || half > 1000000) {
    fail("{}:{}: expected a header of two counts in [1, 1000000], found {}", file.name(), file.line(), quoted(line));
  }
  const int64_t expected = folds * 2 * half;

  PairList list;
  list.root = root;
  list.layout = "lfw";
  list.pairs.reserve(static_cast<size_t>(std::min<int64_t>(expected, 1 << 20)));
  ImageIndex index(list);
  int64_t count = 0;
  while (file.next(line)) {
    if (count == expected) {
      fail("{}:{}: expected {} pair lines ({} folds x 2 x {}) as the header states, found more: {}", file.name(),
           file.line(), expected, folds, half, quoted(line));
    }
    const int fold = static_cast<int>(count / (2 * half));
    const int64_t position = count % (2 * half);  // 0-based within the fold
    const bool matched = position < half;
    const size_t fields = split_fields(line, f, 4);
    if (matched && fields != 3) {
      fail("{}:{}: expected 3 fields `name n1 n2` (matched pair {} of fold {}), found {} in {}", file.name(),
           file.line(), position + 1, fold + 1, fields, quoted(line));
    }
    if (!matched && fields != 4) {
      fail("{}:{}: expected 4 fields `name1 n1 name2 n2` (mismatched pair {} of fold {}), found {} in {}", file.name(),
           file.line(), position - half + 1, fold + 1, fields, quoted(line));
    }
    const PersonPair p = parse_person_pair(file, line, f, fields);
    PairList::Pair pair;
    pair.first = index.add(person_image(prefix, p.name1, p.n1), p.line);
    pair.second = index.add(person_image(prefix, p.name2, p.n2), p.line);
    pair.genuine = p.genuine;
    pair.fold = fold;
    list.pairs.push_back(std::move(pair));
    ++count;
  }
  if (count != expected) {
    fail("{}:{}: expected {} pair lines ({} folds x 2 x {}) as the header states, found {}", file.name(), file.line(),
         expected, folds, half, count);
  }
  return list;
}

PairList read_calfw_pairs(const fs::path& list_file, const fs::path& image_root) {
  if (!fs::is_regular_file(list_file))
    fail("{}: expected a CALFW/CPLFW pair list, found no such file", list_file.string());
  struct Entry {
    std::string_view image;
    int64_t label;
    int64_t line;
  };
  TextFile file(list_file);
  std::vector<Entry> entries;
  std::string_view line;
  std::string_view f[2];
  while (file.next(line)) {
    const size_t fields = split_fields(line, f, 2);
    if (fields != 2) {
      fail("{}:{}: expected 2 fields `img label`, found {} in {}", file.name(), file.line(), fields, quoted(line));
    }
    entries.push_back({f[0], parse_integer(file, f[1], "label (field 2)"), file.line()});
  }
  if (entries.empty()) fail("{}: expected `img label` lines, two per pair, found none", file.name());
  if (entries.size() % 2 != 0) {
    fail("{}:{}: expected two lines per pair, found an odd number of lines ({}): this last one has no partner",
         file.name(), entries.back().line, entries.size());
  }
  const size_t pair_count = entries.size() / 2;
  if (pair_count % 20 != 0) {
    fail(
        "{}: expected 2P pairs, P positive then P negative with P a multiple of 10 (10 folds; CALFW: 6000 pairs), "
        "found {} pairs",
        file.name(), pair_count);
  }
  const size_t positives = pair_count / 2;
  const size_t per_fold = positives / 10;

  PairList list;
  list.root = image_root.empty() ? list_file.parent_path() / "aligned images" : image_root;
  list.layout = "calfw";
  list.pairs.reserve(pair_count);
  ImageIndex index(list);
  for (size_t k = 0; k < pair_count; ++k) {
    const Entry& a = entries[2 * k];
    const Entry& b = entries[2 * k + 1];
    const bool genuine = a.label == b.label && a.label != 0;
    const bool positive_half = k < positives;
    if (genuine != positive_half) {
      fail("{}:{}: expected a {} pair (pairs {}..{} are {}: {}), found labels {} and {}", file.name(), a.line,
           positive_half ? "positive" : "negative", positive_half ? 1 : positives + 1,
           positive_half ? positives : pair_count, positive_half ? "positive" : "negative",
           positive_half ? "labels equal and non-zero" : "labels differing or 0", a.label, b.label);
    }
    PairList::Pair pair;
    pair.first = index.add(std::string(a.image), a.line);
    pair.second = index.add(std::string(b.image), b.line);
    pair.genuine = genuine;
    pair.fold = static_cast<int>((positive_half ? k : k - positives) / per_fold);
    list.pairs.push_back(std::move(pair));
  }
  return list;
}

namespace {

// `<id>/<file>` of a landmark path, whatever prefix a copy of RFW gives it (`test/data/<Race>/`,
// `/<Race>/`, `./`, Windows separators).
std::string landmark_key(const TextFile& file, std::string_view field) {
  std::string path(field);
  std::replace(path.begin(), path.end(), '\\', '/');
  const size_t last = path.rfind('/');
  const size_t before = last == std::string::npos || last == 0 ? std::string::npos : path.rfind('/', last - 1);
  const size_t start = before == std::string::npos ? 0 : before + 1;
  const std::string_view id =
      last == std::string::npos ? std::string_view() : std::string_view(path).substr(start, last - start);
  if (last + 1 >= path.size() || id.empty() || id == "." || id == "..") {
    fail("{}:{}: expected an image path ending in <id>/<file>, found '{}'", file.name(), file.line(), field);
  }
  return path.substr(start);
}

struct Landmarks {
  std::array<float, 10> points;
  int64_t line;
};

std::unordered_map<std::string, Landmarks> read_rfw_landmarks(const fs::path& path) {
  TextFile file(path);
  std::unordered_map<std::string, Landmarks> by_key;
  std::string_view line;
  std::string_view f[12];
  while (file.next(line)) {
    const size_t fields = split_fields(line, f, 12);
    if (fields != 12) {
      fail("{}:{}: expected 12 fields `path label x1 y1 ... x5 y5`, found {} in {}", file.name(), file.line(), fields,
           quoted(line));
    }
    std::string key = landmark_key(file, f[0]);
    Landmarks entry{{}, file.line()};
    for (int k = 0; k < 10; ++k) entry.points[k] = parse_real(file, f[2 + k], "a landmark coordinate");
    const auto [it, inserted] = by_key.try_emplace(std::move(key), entry);
    // An identical repeat is harmless; two different sets of points leave no way to choose.
    if (!inserted && it->second.points != entry.points) {
      fail("{}:{}: expected one set of landmarks per image, found a second, different one for {} (first at line {})",
           file.name(), file.line(), it->first, it->second.line);
    }
  }
  return by_key;
}

}  // namespace

PairList read_rfw(const fs::path& root, const RfwReadOptions& options) {
  const fs::path txts = root / "test" / "txts";
  const auto pairs_path = [&](const std::string& race) { return txts / race / (race + "_pairs.txt"); };
  const auto lmk_path = [&](const std::string& race) { return txts / race / (race + "_lmk.txt"); };
  for (const std::string& wanted : options.races) {
    if (std::find(kRfwRaces.begin(), kRfwRaces.end(), wanted) == kRfwRaces.end()) {
      fail("RFW race: expected one of {}, found '{}'", fmt::join(kRfwRaces, ", "), wanted);
    }
    if (!fs::is_regular_file(pairs_path(wanted))) {
      fail("{}: expected the pair list of race {}, found no such file", pairs_path(wanted).string(), wanted);
    }
  }
  std::vector<std::string> races;
  for (const char* race : kRfwRaces) {
    const bool wanted = options.races.empty()
                            ? fs::is_regular_file(pairs_path(race))
                            : std::find(options.races.begin(), options.races.end(), race) != options.races.end();
    if (wanted) races.emplace_back(race);
  }
  if (races.empty()) {
    fail("{}: expected <Race>/<Race>_pairs.txt for at least one of {}, found none{}", txts.string(),
         fmt::join(kRfwRaces, ", "), fs::is_directory(txts) ? "" : " (no such folder)");
  }
  bool with_landmarks = false;
  if (options.landmarks) {
    std::vector<std::string> with, without;
    for (const std::string& race : races) (fs::is_regular_file(lmk_path(race)) ? with : without).push_back(race);
    // Landmarks for some races only would leave PairList::landmarks half filled.
    if (!with.empty() && !without.empty()) {
      fail("{}: expected <Race>_lmk.txt for every race read or for none, found it for {}, missing for {}",
           txts.string(), fmt::join(with, ", "), fmt::join(without, ", "));
    }
    with_landmarks = !with.empty();
  }

  PairList list;
  list.root = root;
  list.layout = "rfw";
  ImageIndex index(list);
  for (const std::string& race : races) {
    TextFile file(pairs_path(race));
    std::vector<PersonPair> parsed;
    std::string_view line;
    std::string_view f[4];
    while (file.next(line)) {
      const size_t fields = split_fields(line, f, 4);
      if (fields != 3 && fields != 4) {
        fail("{}:{}: expected 3 fields `id n1 n2` (genuine) or 4 `id1 n1 id2 n2` (impostor), found {} in {}",
             file.name(), file.line(), fields, quoted(line));
      }
      parsed.push_back(parse_person_pair(file, line, f, fields));
    }
    if (parsed.empty() || parsed.size() % 20 != 0) {
      fail(
          "{}: expected a positive multiple of 20 pairs (10 folds, each half genuine then half impostor; RFW: 6000), "
          "found {}",
          file.name(), parsed.size());
    }
    const size_t per_fold = parsed.size() / 10;
    const std::string prefix = fmt::format("test/data/{}/", race);
    const size_t first_image = list.images.size();
    for (size_t i = 0; i < parsed.size(); ++i) {
      const PersonPair& p = parsed[i];
      const size_t fold = i / per_fold;
      const bool genuine_half = i % per_fold < per_fold / 2;
      if (p.genuine != genuine_half) {
        fail("{}:{}: expected {} pair (fold {}: pairs {}..{} genuine, then {}..{} impostor), found {}", file.name(),
             p.line, genuine_half ? "a genuine `id n1 n2`" : "an impostor `id1 n1 id2 n2`", fold + 1,
             fold * per_fold + 1, fold * per_fold + per_fold / 2, fold * per_fold + per_fold / 2 + 1,
             (fold + 1) * per_fold, p.genuine ? "a genuine one" : "an impostor one");
      }
      PairList::Pair pair;
      pair.first = index.add(person_image(prefix, p.name1, p.n1), p.line);
      pair.second = index.add(person_image(prefix, p.name2, p.n2), p.line);
      pair.genuine = p.genuine;
      pair.fold = static_cast<int>(fold);
      pair.group = race;
      list.pairs.push_back(std::move(pair));
    }
    if (!with_landmarks) continue;
    // Image paths hold the race, so the images first added here are exactly this race's.
    const auto by_key = read_rfw_landmarks(lmk_path(race));
    list.landmarks.resize(list.images.size());
    for (size_t i = first_image; i < list.images.size(); ++i) {
      const std::string key = list.images[i].substr(prefix.size());
      const auto it = by_key.find(key);
      if (it == by_key.end()) {
        fail("{}: expected a landmark line for {} (used at {}:{}), found none", lmk_path(race).string(), list.images[i],
             file.name(), index.first_line(i));
      }
      list.landmarks[i] = it->second.points;
    }
  }
  return list;
}

std::string detect_pair_layout(const fs::path& dir) {
  const bool lfw = fs::is_regular_file(dir / "pairs.txt");
  const bool rfw = fs::is_directory(dir / "test" / "txts");
  if (lfw && rfw) {
    fail("{}: expected one pair layout, found both pairs.txt (LFW) and test/txts (RFW)", dir.string());
  }
  return lfw ? "lfw" : rfw ? "rfw" : "";
}

}  // namespace ff::datasets
