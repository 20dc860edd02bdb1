// MXNet RecordIO framing, IRHeader payloads and the text index; see recordio.h for the format.
#include "datasets/recordio.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <climits>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "src/util/atomic_file.h"
#include "src/util/error.h"

namespace ff::datasets::recordio {

namespace fs = std::filesystem;

// Fields are copied with memcpy in host order; the format is little endian.
static_assert(std::endian::native == std::endian::little, "RecordIO code assumes a little-endian host");

namespace {

uint64_t align4(uint64_t n) { return (n + 3) & ~uint64_t{3}; }

uint32_t load_u32(const unsigned char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

void append_bytes(std::string& out, const void* data, size_t size) {
  out.append(static_cast<const char*>(data), size);
}

// The magic as it appears in the byte stream (little endian).
const std::string_view kMagicBytes("\x0a\x23\xd7\xce", 4);

}  // namespace

std::string record_where(int64_t key, uint64_t offset) {
  if (key < 0) return fmt::format("record at byte {}", offset);
  return fmt::format("record key {} at byte {}", key, offset);
}

std::string pack_payload(const RecordHeader& header, std::string_view image) {
  std::string out;
  out.reserve(kIRHeaderSize + 4 * header.labels.size() + image.size());
  auto flag = static_cast<uint32_t>(header.labels.size());
  append_bytes(out, &flag, 4);
  append_bytes(out, &header.label, 4);
  append_bytes(out, &header.id, 8);
  append_bytes(out, &header.id2, 8);
  if (!header.labels.empty()) append_bytes(out, header.labels.data(), 4 * header.labels.size());
  out.append(image);
  return out;
}

RecordHeader unpack_payload(std::string_view payload, int64_t key, uint64_t offset, std::string_view* image) {
  if (payload.size() < kIRHeaderSize)
    fail("{}: payload of {} bytes is shorter than the {}-byte header", record_where(key, offset), payload.size(),
         kIRHeaderSize);
  RecordHeader h;
  std::memcpy(&h.flag, payload.data(), 4);
  std::memcpy(&h.label, payload.data() + 4, 4);
  std::memcpy(&h.id, payload.data() + 8, 8);
  std::memcpy(&h.id2, payload.data() + 16, 8);
  uint64_t body = kIRHeaderSize + 4 * uint64_t{h.flag};
  if (body > payload.size())
    fail("{}: payload of {} bytes is shorter than its header and {} labels ({} bytes)", record_where(key, offset),
         payload.size(), h.flag, body);
  if (h.flag > 0) {
    h.labels.resize(h.flag);
    std::memcpy(h.labels.data(), payload.data() + kIRHeaderSize, 4 * size_t{h.flag});
  }
  if (image) *image = payload.substr(body);
  return h;
}

// ---------------------------------------------------------------------------------------------
// RecordReader

RecordReader::RecordReader(const fs::path& rec_path) : path_(rec_path) {
  fd_ = ::open(rec_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail("cannot open RecordIO file {}: {}", rec_path.string(), std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    int err = errno;
    ::close(fd_);
    fail("cannot stat {}: {}", rec_path.string(), std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    fail("{} is not a regular file (expected a RecordIO .rec file)", rec_path.string());
  }
  size_ = static_cast<uint64_t>(st.st_size);
}

RecordReader::~RecordReader() {
  if (fd_ >= 0) ::close(fd_);
}

void RecordReader::pread_exact(void* buffer, size_t size, uint64_t offset, int64_t key) const {
  auto* out = static_cast<char*>(buffer);
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd_, out + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("{}: {}: read failed: {}", path_.string(), record_where(key, offset), std::strerror(errno));
    }
    // Sizes are checked against the file size before reading, so a short read means the file shrank.
    if (n == 0)
      fail("{}: {}: file ended after {} of {} bytes (was it truncated while open?)", path_.string(),
           record_where(key, offset), done, size);
    done += static_cast<size_t>(n);
  }
}

RecordReader::Frame RecordReader::check_frame(const unsigned char* bytes, uint64_t offset, int64_t key,
                                              uint64_t record_offset) const {
  std::string part = offset == record_offset ? std::string() : fmt::format(" (part at byte {})", offset);
  uint32_t magic = load_u32(bytes);
  if (magic != kMagic)
    fail("{}: {}{}: bad magic 0x{:08x} at byte {} (expected 0x{:08x}: not the start of a record)", path_.string(),
         record_where(key, record_offset), part, magic, offset, kMagic);
  uint32_t lrec = load_u32(bytes + 4);
  Frame f;
  f.cflag = lrec >> 29;
  f.length = lrec & kMaxPartLength;
  if (f.cflag > 3)
    fail("{}: {}{}: invalid continuation flag {} (expected 0..3)", path_.string(), record_where(key, record_offset),
         part, f.cflag);
  uint64_t end = offset + kFrameSize + align4(f.length);
  if (end > size_)
    fail("{}: {}{}: truncated record: {} payload bytes (with padding {}) run past the end of the file ({} bytes)",
         path_.string(), record_where(key, record_offset), part, f.length, align4(f.length), size_);
  return f;
}

RecordReader::Frame RecordReader::read_frame(uint64_t offset, int64_t key, uint64_t record_offset) const {
  if (offset >= size_ || size_ - offset < kFrameSize) {
    std::string part = offset == record_offset ? std::string() : fmt::format(" (part at byte {})", offset);
    fail("{}: {}{}: truncated record: the 8-byte record header runs past the end of the file ({} bytes)",
         path_.string(), record_where(key, record_offset), part, size_);
  }
  unsigned char bytes[kFrameSize];
  pread_exact(bytes, kFrameSize, offset, key);
  return check_frame(bytes, offset, key, record_offset);
}

namespace {
// A record is cflag 0 alone, or cflag 1, any number of cflag 2, then cflag 3.
void check_part_order(const fs::path& path, uint32_t cflag, bool first, uint64_t pos, int64_t key,
                      uint64_t offset) {
  if (first && (cflag == 2 || cflag == 3))
    fail("{}: {}: stray continuation part (cflag {}): a record starts with cflag 0 or 1", path.string(),
         record_where(key, offset), cflag);
  if (!first && (cflag == 0 || cflag == 1))
    fail("{}: {}: unfinished split record: the part at byte {} has cflag {} where 2 or 3 was expected",
         path.string(), record_where(key, offset), pos, cflag);
}
}  // namespace

uint64_t RecordReader::read(uint64_t offset, std::string& payload, int64_t key) const {
  payload.clear();
  uint64_t pos = offset;
  for (bool first = true;; first = false) {
    Frame f = read_frame(pos, key, offset);
    check_part_order(path_, f.cflag, first, pos, key, offset);
    size_t at = payload.size();
    payload.resize(at + f.length);
    if (f.length > 0) pread_exact(payload.data() + at, f.length, pos + kFrameSize, key);
    pos += kFrameSize + align4(f.length);
    if (f.cflag == 0 || f.cflag == 3) return pos;
    payload.append(kMagicBytes);  // the writer dropped one magic between consecutive parts
  }
}

RecordReader::RecordExtent RecordReader::inspect(uint64_t offset, int64_t key) const {
  RecordExtent extent;
  extent.parts = 0;
  uint64_t pos = offset;
  for (bool first = true;; first = false) {
    Frame f = read_frame(pos, key, offset);
    check_part_order(path_, f.cflag, first, pos, key, offset);
    extent.parts += 1;
    extent.payload_size += f.length;
    pos += kFrameSize + align4(f.length);
    if (f.cflag == 0 || f.cflag == 3) break;
    extent.payload_size += 4;
  }
  extent.next = pos;
  return extent;
}

RecordHeader RecordReader::read_header(uint64_t offset, int64_t key) const {
  // One read covers the frame, the IRHeader and up to 10 labels: every face pack's common case.
  constexpr size_t kWindow = kFrameSize + kIRHeaderSize + 40;
  if (offset >= size_ || size_ - offset < kFrameSize) read_frame(offset, key, offset);  // throws: truncated
  unsigned char window[kWindow];
  size_t got = static_cast<size_t>(std::min<uint64_t>(kWindow, size_ - offset));
  pread_exact(window, got, offset, key);
  Frame f = check_frame(window, offset, key, offset);
  check_part_order(path_, f.cflag, true, offset, key, offset);
  if (f.cflag != 0) {
    // The magic occurred inside the payload; it may sit inside the IRHeader itself, so join first.
    std::string payload;
    read(offset, payload, key);
    return unpack_payload(payload, key, offset);
  }
  if (f.length < kIRHeaderSize) {
    std::string short_payload(reinterpret_cast<const char*>(window + kFrameSize), f.length);
    return unpack_payload(short_payload, key, offset);
  }
  uint32_t flag = load_u32(window + kFrameSize);
  uint64_t body = kIRHeaderSize + 4 * uint64_t{flag};
  if (body > f.length) {
    // Let unpack_payload word the error from the header alone.
    std::string head(reinterpret_cast<const char*>(window + kFrameSize), kIRHeaderSize);
    head.resize(f.length);
    return unpack_payload(head, key, offset);
  }
  std::string head(static_cast<size_t>(body), '\0');
  size_t in_window = std::min<size_t>(head.size(), got - kFrameSize);
  std::memcpy(head.data(), window + kFrameSize, in_window);
  if (in_window < head.size())
    pread_exact(head.data() + in_window, head.size() - in_window, offset + kFrameSize + in_window, key);
  return unpack_payload(head, key, offset);
}

bool RecordReader::has_record_at(uint64_t offset) const {
  if (offset >= size_ || size_ - offset < kFrameSize) return false;
  unsigned char bytes[4];
  ssize_t n;
  do {
    n = ::pread(fd_, bytes, 4, static_cast<off_t>(offset));
  } while (n < 0 && errno == EINTR);
  return n == 4 && load_u32(bytes) == kMagic;
}

// ---------------------------------------------------------------------------------------------
// RecordWriter

RecordWriter::RecordWriter(const fs::path& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "wb");
  if (!file_) fail("cannot create {}: {}", path.string(), std::strerror(errno));
}

RecordWriter::~RecordWriter() {
  if (file_) std::fclose(file_);
}

void RecordWriter::put(const void* data, size_t size) {
  if (size == 0) return;
  if (!file_) fail("{}: write after close", path_.string());
  if (std::fwrite(data, 1, size, file_) != size)
    fail("cannot write {} at byte {}: {}", path_.string(), position_, std::strerror(errno));
  position_ += size;
}

uint64_t RecordWriter::write(std::string_view payload) {
  if (payload.size() > kMaxPartLength)
    fail("{}: payload of {} bytes exceeds RecordIO's limit of {} bytes per record", path_.string(), payload.size(),
         kMaxPartLength);
  const uint64_t start = position_;
  auto put_part = [&](uint32_t cflag, std::string_view bytes) {
    uint32_t frame[2] = {kMagic, (cflag << 29) | static_cast<uint32_t>(bytes.size())};
    put(frame, sizeof frame);
    put(bytes.data(), bytes.size());
  };
  // dmlc compares the magic only at positions 0, 4, 8, ... below the last whole word.
  size_t part_start = 0;
  const size_t aligned_end = payload.size() & ~size_t{3};
  for (size_t i = 0; i < aligned_end; i += 4) {
    if (payload.compare(i, 4, kMagicBytes) != 0) continue;
    put_part(part_start == 0 ? 1 : 2, payload.substr(part_start, i - part_start));
    part_start = i + 4;
  }
  if (part_start != 0) split_records_ += 1;
  std::string_view last = payload.substr(part_start);
  put_part(part_start == 0 ? 0 : 3, last);
  // Earlier parts end on aligned positions, so only the last part can need padding.
  static const char zeros[4] = {0, 0, 0, 0};
  put(zeros, align4(last.size()) - last.size());
  return start;
}

void RecordWriter::close() {
  if (!file_) return;
  bool failed = std::fflush(file_) != 0;
  int err = errno;
  failed = (std::fclose(file_) != 0) || failed;
  file_ = nullptr;
  if (failed) fail("cannot finish writing {}: {}", path_.string(), std::strerror(err));
}

// ---------------------------------------------------------------------------------------------
// Index

std::vector<IndexEntry> read_index(const fs::path& idx_path) {
  std::ifstream in(idx_path, std::ios::binary);
  if (!in) fail("cannot open RecordIO index {}: {}", idx_path.string(), std::strerror(errno));
  std::vector<IndexEntry> entries;
  std::unordered_map<int64_t, int64_t> line_of_key;
  std::string line;
  int64_t number = 0;
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
  };
  auto parse = [](std::string_view s, auto& value) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    return ec == std::errc() && end == s.data() + s.size() && !s.empty();
  };
  while (std::getline(in, line)) {
    ++number;
    std::string_view text = trim(line);
    if (text.empty()) continue;
    size_t tab = text.find('\t');
    if (tab == std::string_view::npos || text.find('\t', tab + 1) != std::string_view::npos)
      fail("{}:{}: expected `key<TAB>offset`, got '{}'", idx_path.string(), number, text);
    std::string_view key_text = trim(text.substr(0, tab));
    std::string_view offset_text = trim(text.substr(tab + 1));
    IndexEntry e;
    if (!parse(key_text, e.key))
      fail("{}:{}: key '{}' is not an integer", idx_path.string(), number, key_text);
    if (!parse(offset_text, e.offset))
      fail("{}:{}: offset '{}' is not a non-negative integer byte offset", idx_path.string(), number, offset_text);
    auto [it, inserted] = line_of_key.emplace(e.key, number);
    if (!inserted)
      fail("{}:{}: duplicate key {} (first at line {})", idx_path.string(), number, e.key, it->second);
    entries.push_back(e);
  }
  if (in.bad()) fail("cannot read RecordIO index {}: {}", idx_path.string(), std::strerror(errno));
  return entries;
}

void write_index(const fs::path& idx_path, const std::vector<IndexEntry>& entries) {
  std::string text;
  text.reserve(entries.size() * 20);
  for (const auto& e : entries) fmt::format_to(std::back_inserter(text), "{}\t{}\n", e.key, e.offset);
  write_file_atomically(idx_path, text);
}

ScannedIndex scan_index(const fs::path& rec_path, IndexKeys keys) {
  RecordReader reader(rec_path);
  ScannedIndex out;
  std::vector<uint64_t> ids;
  bool ids_usable = true;  // every record has an IRHeader and no id repeats
  std::unordered_set<uint64_t> seen;
  uint64_t pos = 0;
  int64_t number = 0;
  while (pos < reader.file_size()) {
    auto extent = reader.inspect(pos, -1);
    if (extent.parts > 1) out.split_records += 1;
    if (keys != IndexKeys::sequence && ids_usable) {
      if (extent.payload_size < kIRHeaderSize) {
        if (keys == IndexKeys::record_id)
          fail("{}: {} (record number {}): payload of {} bytes has no {}-byte IRHeader to take the key from",
               rec_path.string(), record_where(-1, pos), number, extent.payload_size, kIRHeaderSize);
        ids_usable = false;
      } else {
        uint64_t id = reader.read_header(pos, -1).id;
        const char* problem = nullptr;
        if (id > static_cast<uint64_t>(INT64_MAX)) problem = "is too large for an index key";
        else if (!seen.insert(id).second) problem = "repeats an earlier record's id";
        if (problem) {
          if (keys == IndexKeys::record_id)
            fail("{}: {} (record number {}): id {} {}, so ids cannot be index keys", rec_path.string(),
                 record_where(-1, pos), number, id, problem);
          ids_usable = false;
        }
        ids.push_back(id);
      }
    }
    out.entries.push_back({number, pos});
    pos = extent.next;
    ++number;
  }
  if (keys != IndexKeys::sequence && ids_usable) {
    out.keys = IndexKeys::record_id;
    for (size_t i = 0; i < out.entries.size(); ++i) out.entries[i].key = static_cast<int64_t>(ids[i]);
  } else {
    out.keys = IndexKeys::sequence;
  }
  return out;
}

}  // namespace ff::datasets::recordio
