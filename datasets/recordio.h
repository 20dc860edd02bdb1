// MXNet RecordIO (`train.rec` + `train.idx`): record framing, the image-record payload, a thread-safe
// reader, a writer whose output MXNet reads, and the text index. Format: ../shared/PROTOCOLS.md.
//
// Framing, as dmlc-core implements it:
//   record = u32 magic 0xced7230a, u32 lrec (bits 29..31: cflag, bits 0..28: part length), the part's
//   bytes, zero padding to a multiple of 4. cflag 0 = a whole payload; 1/2/3 = first/middle/last part
//   of a payload that contained the magic number.
//   The dmlc writer looks for the magic only at 4-byte-aligned positions of the payload (0, 4, 8, ...):
//   each aligned occurrence ends a part and is dropped; readers put it back between parts. An
//   unaligned occurrence stays inside its part: records start 4-byte aligned, so only aligned bytes
//   can be mistaken for a record start when a reader resynchronises on the magic. RecordWriter does
//   exactly this, so its files are byte-identical to dmlc's for the same payloads.
// Payload of an image record: IRHeader {u32 flag, f32 label, u64 id, u64 id2} (24 bytes, little
//   endian), then `flag` f32 labels when flag > 0 (the scalar label is then unused), then the image.
// Index: text lines `key<TAB>offset`, keys and offsets decimal integers.
#pragma once
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ff::datasets::recordio {

inline constexpr uint32_t kMagic = 0xced7230a;
inline constexpr size_t kFrameSize = 8;         // magic + lrec in front of every part
inline constexpr size_t kIRHeaderSize = 24;     // flag, label, id, id2
inline constexpr uint32_t kMaxPartLength = (1u << 29) - 1;  // the 29 length bits of lrec

// The IRHeader of a payload plus its array labels.
struct RecordHeader {
  uint32_t flag = 0;          // number of array labels; 0 = the scalar `label` is the label
  float label = 0;            // used when flag == 0
  uint64_t id = 0;            // insightface/im2rec: the record's index key
  uint64_t id2 = 0;
  std::vector<float> labels;  // `flag` labels when flag > 0
  // The identity of an image record: labels[0] for array labels, else the scalar label.
  float identity() const { return flag > 0 ? labels.front() : label; }
};

// "record key 17 at byte 4096" (key < 0: "record at byte 4096"): the context every record error names.
std::string record_where(int64_t key, uint64_t offset);

// Payload = IRHeader + labels + image. `header.flag` is ignored: flag = labels.size() is written.
std::string pack_payload(const RecordHeader& header, std::string_view image);

// Parses a payload; `image` (optional) receives a view of the image bytes inside `payload`.
// Errors name the record: "record key 17 at byte 4096: payload of 10 bytes is shorter than the
// 24-byte header", or that the `flag` labels run past the payload.
RecordHeader unpack_payload(std::string_view payload, int64_t key, uint64_t offset,
                            std::string_view* image = nullptr);

// Reads records of one .rec file with pread: const methods may be called from many threads at once.
// Errors name the file and the byte offset (and the key when the caller passes one): bad magic,
// truncated record (a length that runs past the end of the file), stray continuation part (a record
// starting with cflag 2 or 3), an unfinished split record, an invalid cflag.
class RecordReader {
 public:
  explicit RecordReader(const std::filesystem::path& rec_path);
  ~RecordReader();
  RecordReader(const RecordReader&) = delete;
  RecordReader& operator=(const RecordReader&) = delete;

  const std::filesystem::path& path() const { return path_; }
  uint64_t file_size() const { return size_; }

  // The whole payload of the record starting at `offset`, continuation parts joined with the magic
  // put back between them. Returns the offset just past the record (the next record's start).
  uint64_t read(uint64_t offset, std::string& payload, int64_t key = -1) const;

  // The IRHeader and labels of the record at `offset`, reading only the frame and the first
  // 24 + 4 * flag payload bytes (the whole record only when it is split into parts). Errors as
  // read() and unpack_payload().
  RecordHeader read_header(uint64_t offset, int64_t key = -1) const;

  // The framing of the record at `offset`, from its part frames alone (no payload bytes read).
  struct RecordExtent {
    uint64_t next = 0;          // offset just past the record
    uint64_t payload_size = 0;  // joined payload length (parts + the magic between them)
    int64_t parts = 1;          // 1 = unsplit (cflag 0)
  };
  RecordExtent inspect(uint64_t offset, int64_t key = -1) const;

  // True when a frame (magic) starts at `offset` and fits in the file; never throws for bad offsets.
  bool has_record_at(uint64_t offset) const;

 private:
  struct Frame {
    uint32_t cflag = 0;
    uint32_t length = 0;
  };
  // Reads and checks the frame of the part at `offset` of the record at `record_offset`: magic,
  // cflag, and that the part (with padding) ends inside the file.
  Frame read_frame(uint64_t offset, int64_t key, uint64_t record_offset) const;
  Frame check_frame(const unsigned char* bytes, uint64_t offset, int64_t key, uint64_t record_offset) const;
  void pread_exact(void* buffer, size_t size, uint64_t offset, int64_t key) const;

  std::filesystem::path path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

// Appends records to a file it creates (truncating). It writes the path it is given: wrap it in
// ff::write_atomically (src/util/atomic_file.h) so an interrupted pack leaves no partial file.
class RecordWriter {
 public:
  explicit RecordWriter(const std::filesystem::path& path);
  ~RecordWriter();
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  // Appends one payload (split at each 4-byte-aligned magic, as dmlc does); returns its offset.
  uint64_t write(std::string_view payload);
  uint64_t position() const { return position_; }
  int64_t split_records() const { return split_records_; }  // payloads that needed cflag parts
  // Flushes and closes; throws when any write failed. Called by the destructor if not called.
  void close();

 private:
  void put(const void* data, size_t size);

  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  uint64_t position_ = 0;
  int64_t split_records_ = 0;
};

struct IndexEntry {
  int64_t key = 0;
  uint64_t offset = 0;
  bool operator==(const IndexEntry&) const = default;
};

// Parses `key<TAB>offset` lines (blank lines skipped, trailing spaces and CR allowed). Errors name
// file:line for malformed lines, negative offsets and duplicate keys (with the earlier line).
std::vector<IndexEntry> read_index(const std::filesystem::path& idx_path);

// Writes `key\toffset\n` lines in the given order through a temp file renamed onto `idx_path`.
void write_index(const std::filesystem::path& idx_path, const std::vector<IndexEntry>& entries);

// Which key a rebuilt index gives each record.
enum class IndexKeys {
  record_id,  // the IRHeader id: what im2rec and insightface's face2rec write (key == id, header 0)
  sequence,   // 0, 1, 2, ... in file order
  automatic,  // record_id when the ids are unique, else sequence (packs that left every id at 0)
};

struct ScannedIndex {
  std::vector<IndexEntry> entries;  // in file order
  IndexKeys keys = IndexKeys::record_id;  // what was used (never automatic)
  int64_t split_records = 0;              // records stored as cflag parts
};

// Walks every record of a .rec from offset 0 (frames and IRHeaders only) and returns the index
// MXNet tools would have written: the `faceforge data index` command. Errors as RecordReader's.
ScannedIndex scan_index(const std::filesystem::path& rec_path, IndexKeys keys = IndexKeys::automatic);

}  // namespace ff::datasets::recordio
