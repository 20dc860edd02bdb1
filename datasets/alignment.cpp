// Umeyama similarity fit, template warp, landmark list parsing and the batch aligner.
#include "datasets/alignment.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include "datasets/image_codec.h"
#include "src/util/error.h"
#include "src/util/strings.h"

namespace ff::datasets {

namespace fs = std::filesystem;

namespace {

// Below this mean squared spread (px^2) a point set has no usable scale or direction.
constexpr double kMinSpread = 1e-12;

bool finite(const FivePoints& points) {
  return std::all_of(points.begin(), points.end(),
                     [](const cv::Point2d& p) { return std::isfinite(p.x) && std::isfinite(p.y); });
}

}  // namespace

cv::Matx23d estimate_similarity(const FivePoints& from, const FivePoints& to) {
  if (!finite(from) || !finite(to)) fail("estimate_similarity: landmark coordinates must be finite numbers");
  const double n = static_cast<double>(from.size());
  cv::Point2d mean_from(0, 0), mean_to(0, 0);
  for (size_t i = 0; i < from.size(); ++i) {
    mean_from += from[i];
    mean_to += to[i];
  }
  mean_from *= 1.0 / n;
  mean_to *= 1.0 / n;

  // Umeyama: covariance of the centred sets, Sigma = (1/n) sum (to_i - mean_to)(from_i - mean_from)^T.
  cv::Matx22d sigma = cv::Matx22d::zeros();
  double spread_from = 0, spread_to = 0;
  for (size_t i = 0; i < from.size(); ++i) {
    cv::Point2d a = from[i] - mean_from;
    cv::Point2d b = to[i] - mean_to;
    sigma(0, 0) += b.x * a.x;
    sigma(0, 1) += b.x * a.y;
    sigma(1, 0) += b.y * a.x;
    sigma(1, 1) += b.y * a.y;
    spread_from += a.dot(a);
    spread_to += b.dot(b);
  }
  sigma *= 1.0 / n;
  spread_from /= n;
  spread_to /= n;
  if (spread_from < kMinSpread)
    fail("cannot fit a similarity transform: the 5 landmarks all lie at ({}, {}) (no spread to fit a scale "
         "and angle to)",
         mean_from.x, mean_from.y);
  if (spread_to < kMinSpread)
    fail("cannot fit a similarity transform: the 5 target points all lie at ({}, {})", mean_to.x, mean_to.y);

  cv::Matx21d w;
  cv::Matx22d u, vt;
  cv::SVD::compute(sigma, w, u, vt);
  // S = diag(1, -1) when the best orthogonal fit would be a reflection: the rotation is then the
  // best proper one and the second singular value counts against the scale.
  double sign = cv::determinant(u) * cv::determinant(vt) < 0 ? -1.0 : 1.0;
  cv::Matx22d s(1, 0, 0, sign);
  cv::Matx22d rotation = u * s * vt;
  double scale = (w(0) + sign * w(1)) / spread_from;
  cv::Matx22d a = rotation * scale;
  cv::Vec2d t = cv::Vec2d(mean_to.x, mean_to.y) - a * cv::Vec2d(mean_from.x, mean_from.y);
  return cv::Matx23d(a(0, 0), a(0, 1), t(0), a(1, 0), a(1, 1), t(1));
}

void align_face(const cv::Mat& image, const FivePoints& points, cv::Mat& out) {
  if (image.empty()) fail("align_face: the image is empty");
  if (image.depth() != CV_8U)
    fail("align_face: expected an 8-bit image, got OpenCV depth {} (decode with cv::IMREAD_COLOR)", image.depth());
  int channels = image.channels();
  if (channels != 1 && channels != 3 && channels != 4)
    fail("align_face: expected 1, 3 or 4 channels, got {}", channels);
  cv::Matx23d transform = estimate_similarity(points, kArcFaceTemplate);
  cv::Mat warped;
  cv::warpAffine(image, warped, cv::Mat(transform), cv::Size(kAlignedSize, kAlignedSize), cv::INTER_LINEAR,
                 cv::BORDER_CONSTANT, cv::Scalar::all(0));
  // Converting after the warp touches 112x112 pixels instead of the whole source image.
  if (channels == 1)
    cv::cvtColor(warped, out, cv::COLOR_GRAY2BGR);
  else if (channels == 4)
    cv::cvtColor(warped, out, cv::COLOR_BGRA2BGR);
  else
    out = warped;
}

// ---------------------------------------------------------------------------------------------
// Landmark files

namespace {

const char* const kPointNames[5] = {"left eye", "right eye", "nose", "left mouth corner", "right mouth corner"};

// "x2, right eye x" for coordinate k (0..9).
std::string coordinate_name(int k) {
  return fmt::format("{}{}, {} {}", k % 2 == 0 ? 'x' : 'y', k / 2 + 1, kPointNames[k / 2], k % 2 == 0 ? 'x' : 'y');
}

bool parse_number(const std::string& token, double& value) {
  const char* begin = token.data();
  const char* end = token.data() + token.size();
  if (begin != end && *begin == '+') ++begin;  // from_chars refuses a plus sign that text files may carry
  if (begin == end) return false;
  auto [ptr, ec] = std::from_chars(begin, end, value);
  return ec == std::errc() && ptr == end && std::isfinite(value);
}

bool is_integer(const std::string& token) {
  size_t start = (!token.empty() && (token[0] == '-' || token[0] == '+')) ? 1 : 0;
  if (start == token.size()) return false;
  return std::all_of(token.begin() + static_cast<std::ptrdiff_t>(start), token.end(),
                     [](unsigned char c) { return std::isdigit(c) != 0; });
}

std::vector<std::string> split_whitespace(const std::string& line) {
  std::vector<std::string> fields;
  std::istringstream in(line);
  std::string field;
  while (in >> field) fields.push_back(field);
  return fields;
}

// Comma-separated fields; a field may be double-quoted ("" inside quotes is one quote).
// Sets `error` and returns false on an unterminated quote.
bool split_csv(const std::string& line, std::vector<std::string>& fields, std::string& error) {
  fields.clear();
  size_t i = 0;
  while (true) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::string field;
    if (i < line.size() && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        field += line[i++];
      }
      if (!closed) {
        error = "unterminated double quote";
        return false;
      }
      while (i < line.size() && line[i] != ',') {
        if (!std::isspace(static_cast<unsigned char>(line[i]))) {
          error = "text after a closing double quote";
          return false;
        }
        ++i;
      }
    } else {
      size_t comma = line.find(',', i);
      field = trim(line.substr(i, comma == std::string::npos ? std::string::npos : comma - i));
      i = comma == std::string::npos ? line.size() : comma;
    }
    fields.push_back(field);
    if (i >= line.size()) return true;
    ++i;  // the comma
  }
}

struct Line {
  int number;
  std::string text;
};

std::vector<Line> read_lines(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail("cannot open landmark file {}", file.string());
  std::vector<Line> lines;
  std::string text;
  int number = 0;
  while (std::getline(in, text)) {
    ++number;
    if (number == 1 && text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);  // UTF-8 byte order mark
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (trim(text).empty()) continue;
    lines.push_back({number, std::move(text)});
  }
  if (in.bad()) fail("error reading landmark file {}", file.string());
  return lines;
}

// Parses the 10 coordinate tokens starting at fields[first]; `first` is 0-based, columns in messages 1-based.
FivePoints parse_points(const std::vector<std::string>& fields, size_t first, const fs::path& file, int line) {
  FivePoints points;
  for (int k = 0; k < 10; ++k) {
    const std::string& token = fields[first + static_cast<size_t>(k)];
    double value = 0;
    if (!parse_number(token, value))
      fail("{}:{}: column {} ({}) is '{}', expected a finite number", file.string(), line, first + k + 1,
           coordinate_name(k), token);
    if (k % 2 == 0)
      points[k / 2].x = value;
    else
      points[k / 2].y = value;
  }
  return points;
}

std::string detect_format(const fs::path& file, const std::vector<Line>& lines) {
  if (lines.empty()) return "ijb";  // no rows: every format yields the same empty list
  std::vector<std::string> fields;
  std::string error;
  if (split_csv(lines[0].text, fields, error) && (fields.size() == 11 || fields.size() == 12)) return "csv";
  auto first = split_whitespace(lines[0].text);
  if (first.size() != 12)
    fail("{}:{}: cannot tell the landmark format: the line has {} whitespace-separated and {} comma-separated "
         "fields; expected ijb (12 fields: image, 10 coordinates, score), rfw (12 fields: path, label, "
         "10 coordinates) or csv (image,10 coordinates[,score])",
         file.string(), lines[0].number, first.size(), fields.size());
  std::string name = file.filename().string();
  if (name.size() >= 8 && name.compare(name.size() - 8, 8, "_lmk.txt") == 0) return "rfw";
  if (name.find("5pts") != std::string::npos) return "ijb";
  // rfw's second field is an integer label and its last a y coordinate (> 1 on any real image);
  // ijb's second is an x coordinate (written with decimals) and its last a score in [0, 1].
  bool integer_labels = true, large_last = false;
  for (const auto& line : lines) {
    auto f = split_whitespace(line.text);
    if (f.size() != 12) continue;  // the parser reports it
    if (!is_integer(f[1])) integer_labels = false;
    double last = 0;
    if (parse_number(f[11], last) && last > 1.0) large_last = true;
  }
  return integer_labels && large_last ? "rfw" : "ijb";
}

}  // namespace

std::string normalize_landmark_path(const std::string& path) {
  std::string p = path;
  std::replace(p.begin(), p.end(), '\\', '/');
  fs::path normal = fs::path(p).lexically_normal().relative_path();  // drops a leading "/"
  std::string text = normal.generic_string();
  while (text.rfind("./", 0) == 0) text.erase(0, 2);
  if (text.empty() || text == ".") fail("empty image path");
  for (const auto& part : fs::path(text))
    if (part == "..") fail("image path '{}' climbs out of the images folder with '..'", path);
  return text;
}

std::vector<LandmarkEntry> read_landmarks(const fs::path& file, const std::string& requested) {
  if (requested != "auto" && requested != "ijb" && requested != "rfw" && requested != "csv")
    fail("unknown landmark format '{}' for {}: expected auto, ijb, rfw or csv", requested, file.string());
  std::vector<Line> lines = read_lines(file);
  std::string format = requested == "auto" ? detect_format(file, lines) : requested;

  std::vector<LandmarkEntry> entries;
  entries.reserve(lines.size());
  std::unordered_map<std::string, int> seen;
  size_t csv_width = 0;  // 11 or 12, fixed by the header or the first row
  for (size_t index = 0; index < lines.size(); ++index) {
    const Line& line = lines[index];
    LandmarkEntry entry;
    entry.line = line.number;
    std::vector<std::string> fields;
    if (format == "ijb" || format == "rfw") {
      fields = split_whitespace(line.text);
      if (fields.size() != 12)
        fail("{}:{}: expected 12 fields ({}), got {}", file.string(), line.number,
             format == "ijb" ? "image, 10 coordinates, score" : "path, label, 10 coordinates", fields.size());
      entry.points = parse_points(fields, format == "ijb" ? 1 : 2, file, line.number);
      if (format == "ijb" && !parse_number(fields[11], entry.score))
        fail("{}:{}: column 12 (faceness score) is '{}', expected a finite number", file.string(), line.number,
             fields[11]);
    } else {
      std::string error;
      if (!split_csv(line.text, fields, error)) fail("{}:{}: {}", file.string(), line.number, error);
      const char* expected = csv_width == 0    ? "11 or 12"
                             : csv_width == 11 ? "11 (as on the first line)"
                                               : "12 (as on the first line)";
      if ((csv_width == 0 && fields.size() != 11 && fields.size() != 12) ||
          (csv_width != 0 && fields.size() != csv_width))
        fail("{}:{}: expected {} comma-separated fields (image, 10 coordinates[, score]), got {}", file.string(),
             line.number, expected, fields.size());
      bool first_line = csv_width == 0;
      csv_width = fields.size();
      if (first_line && entries.empty()) {
        // A header has no number in any coordinate column; a row with only some numbers is a bad row.
        int numeric = 0;
        double ignored = 0;
        for (size_t k = 1; k <= 10; ++k) numeric += parse_number(fields[k], ignored) ? 1 : 0;
        if (numeric == 0) continue;
      }
      entry.points = parse_points(fields, 1, file, line.number);
      if (csv_width == 12 && !parse_number(fields[11], entry.score))
        fail("{}:{}: column 12 (score) is '{}', expected a finite number", file.string(), line.number, fields[11]);
    }
    try {
      entry.image = normalize_landmark_path(fields[0]);
    } catch (const Error& e) {
      fail("{}:{}: {}", file.string(), line.number, e.what());
    }
    auto [it, inserted] = seen.emplace(entry.image, line.number);
    if (!inserted)
      fail("{}:{}: image {} is listed again (first on line {})", file.string(), line.number, entry.image,
           it->second);
    entries.push_back(std::move(entry));
  }
  return entries;
}

LandmarkTable::LandmarkTable(const std::vector<LandmarkEntry>& entries) {
  points_.reserve(entries.size());
  std::unordered_map<std::string, int> lines;  // only to name both lines of a duplicate
  for (const auto& entry : entries) {
    std::string key = normalize_landmark_path(entry.image);
    auto [it, inserted] = lines.emplace(key, entry.line);
    if (!inserted) fail("landmarks: image {} is listed on line {} and line {}", key, it->second, entry.line);
    points_.emplace(std::move(key), entry.points);
  }
}

LandmarkTable LandmarkTable::read(const fs::path& file, const std::string& format) {
  return LandmarkTable(read_landmarks(file, format));
}

const FivePoints* LandmarkTable::find(const std::string& relative_path) const {
  std::string key;
  try {
    key = normalize_landmark_path(relative_path);
  } catch (const Error&) {
    return nullptr;  // an empty or escaping path is never a key
  }
  auto it = points_.find(key);
  return it == points_.end() ? nullptr : &it->second;
}

// ---------------------------------------------------------------------------------------------
// Batch alignment

namespace {

std::string lower_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

// Temp file + rename: an interrupted run leaves whole files only. No fsync per image: the rename
// already protects against a killed process, and two fsyncs per crop would dominate a 470k-image run.
void write_replacing(const fs::path& path, const std::vector<uchar>& bytes) {
  fs::create_directories(path.parent_path());
  fs::path temp = path.parent_path() / (path.filename().string() + ".tmp." + std::to_string(::getpid()));
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) fail("cannot write {}", temp.string());
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::error_code ignored;
      fs::remove(temp, ignored);
      fail("cannot write {} (disk full?)", temp.string());
    }
  }
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    fail("cannot rename {} to {}: {}", temp.string(), path.string(), ec.message());
  }
}

}  // namespace

AlignReport align_files(const AlignOptions& options, const std::function<void(int64_t, int64_t)>& progress) {
  if (options.jpeg_quality < 0 || options.jpeg_quality > 100)
    fail("align: jpeg_quality must be in 0..100, got {}", options.jpeg_quality);
  if (options.images.empty() || !fs::is_directory(options.images))
    fail("align: images folder not found: '{}'", options.images.string());
  if (options.out.empty()) fail("align: the output folder is not set");
  std::vector<LandmarkEntry> entries = read_landmarks(options.landmarks, options.format);
  const std::string where = options.landmarks.string();

  // Every missing image is reported up front, before a single crop is written.
  std::vector<const LandmarkEntry*> missing;
  for (const auto& entry : entries)
    if (entry.score >= options.min_score && !fs::is_regular_file(options.images / entry.image))
      missing.push_back(&entry);
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 5; ++i)
      list += fmt::format("{}{} ({}:{})", i ? ", " : "", (options.images / missing[i]->image).string(), where,
                          missing[i]->line);
    if (missing.size() > 5) list += fmt::format(", and {} more", missing.size() - 5);
    fail("align: {} of {} listed images do not exist: {}", missing.size(), entries.size(), list);
  }

  AlignReport report;
  const auto total = static_cast<int64_t>(entries.size());
  int64_t done = 0;
  cv::Mat image, crop;
  std::vector<uchar> bytes;
  for (const auto& entry : entries) {
    if (entry.score < options.min_score) {
      ++report.skipped_low_score;
    } else {
      fs::path source = options.images / entry.image;
      image = read_image(source);
      if (image.empty()) fail("align: cannot decode image {} ({}:{})", source.string(), where, entry.line);
      try {
        align_face(image, entry.points, crop);
      } catch (const Error& e) {
        fail("align: image {} ({}:{}): {}", source.string(), where, entry.line, e.what());
      }
      fs::path target = options.out / entry.image;
      std::string ext = lower_extension(target);
      const bool encoded = encode_image(ext, crop, bytes, options.jpeg_quality);
      if (!encoded)
        fail("align: cannot encode {} ({}:{}): OpenCV has no encoder for extension '{}'", target.string(), where,
             entry.line, ext);
      write_replacing(target, bytes);
      ++report.aligned;
    }
    ++done;
    if (progress) progress(done, total);
  }
  return report;
}

}  // namespace ff::datasets
