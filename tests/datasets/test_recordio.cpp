// Checks datasets/recordio*.cpp against tests/python/recordio_fixture.py, an independent Python writer
// and reader of MXNet RecordIO: Python-written packs are read here, FaceForge-written packs are read there.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "datasets/recordio.h"
#include "datasets/recordio_source.h"
#include "datasets/synthetic_source.h"
#include "src/util/atomic_file.h"
#include "src/util/error.h"
#include "support.h"

// Printable index entries for Catch's failure messages (the precompiled header's glog
// stl_logging.h would otherwise look for one and fail to compile).
namespace ff::datasets::recordio {
inline std::ostream& operator<<(std::ostream& os, const IndexEntry& e) { return os << e.key << '\t' << e.offset; }
}  // namespace ff::datasets::recordio

namespace {
namespace fs = std::filesystem;
using namespace ff::datasets;
using nlohmann::json;
using Catch::Matchers::Contains;
using ff::test::error_of;

std::string fixture_command(const std::string& args) {
  return fmt::format("{} {} {}", ff::test::python(),
                     (ff::test::source_dir() / "tests/python/recordio_fixture.py").string(), args);
}

// Writes a pack with the Python fixture and returns its manifest.
json python_write(const fs::path& dir, const std::string& options) {
  auto result = ff::test::run_command(fixture_command(fmt::format("write {} {}", dir.string(), options)));
  INFO(result.output);
  REQUIRE(result.exit_code == 0);
  return json::parse(ff::read_file(dir / "manifest.json"));
}

// The Python reader's summary of a pack.
json python_read(const fs::path& dir) {
  auto result = ff::test::run_command(fixture_command(fmt::format("read {}", dir.string())));
  INFO(result.output);
  REQUIRE(result.exit_code == 0);
  return json::parse(result.output);
}

cv::Scalar mean_bgr(const cv::Mat& image) { return cv::mean(image); }

// The source's images and labels match what the fixture wrote, image by image.
void check_against_manifest(const RecordIOSource& source, const json& manifest) {
  const auto& images = manifest["images"];
  REQUIRE(source.size() == static_cast<int64_t>(images.size()));
  for (int64_t i = 0; i < source.size(); ++i) {
    const auto& m = images[i];
    INFO("image " << i << " key " << m["key"]);
    CHECK(source.key(i) == m["key"].get<int64_t>());
    CHECK(source.record_name(i) == fmt::format("key {}", m["key"].get<int64_t>()));
    CHECK(source.label(i) == static_cast<int64_t>(m["label"].get<double>()));
    cv::Mat bgr;
    source.load(i, bgr);
    REQUIRE(bgr.type() == CV_8UC3);
    CHECK(bgr.rows == m["shape"][0].get<int>());
    CHECK(bgr.cols == m["shape"][1].get<int>());
    cv::Scalar mean = mean_bgr(bgr);
    for (int c = 0; c < 3; ++c) CHECK(std::abs(mean[c] - m["bgr"][c].get<double>()) < 3.0);
  }
}

std::string bytes_of(const std::vector<uint32_t>& words) {
  return std::string(reinterpret_cast<const char*>(words.data()), words.size() * 4);
}
}  // namespace

TEST_CASE("recordio: a Python-written insightface pack with a header record", "[datasets]") {
  ff::test::TempDir dir("recordio-header");
  json manifest = python_write(dir.path(), "--header --property 3");
  RecordIOSource source(dir.path());
  CHECK(source.has_header_record());
  CHECK(source.num_classes() == 3);
  CHECK(source.property_classes() == std::optional<int64_t>(3));
  // keys 1..9 are images; key 0 and the identity records 10..12 are not
  check_against_manifest(source, manifest);
  CHECK_THAT(source.describe(), Contains("9 images") && Contains("3 identities"));

  // the .rec path form finds train.idx beside it
  RecordIOSource by_file(dir / "train.rec");
  CHECK(by_file.size() == 9);
  CHECK(by_file.label(8) == 2);
}

TEST_CASE("recordio: a header record naming the first image key and the end key also opens", "[datasets]") {
  ff::test::TempDir dir("recordio-first-end");
  json manifest = python_write(dir.path(), "--header --header-form first-end");
  REQUIRE(manifest["header"] == json::array({1.0, 10.0}));
  RecordIOSource source(dir.path());
  CHECK(source.has_header_record());
  CHECK(source.num_classes() == 3);
  check_against_manifest(source, manifest);
}

TEST_CASE("recordio: a Python-written pack without a header record", "[datasets]") {
  ff::test::TempDir dir("recordio-noheader");
  json manifest = python_write(dir.path(), "--identities 4 --per-identity 2");
  RecordIOSource source(dir.path());
  CHECK_FALSE(source.has_header_record());
  CHECK(source.key(0) == 0);  // key 0 is an image here
  CHECK(source.num_classes() == 4);  // no property: largest label + 1
  check_against_manifest(source, manifest);
}

TEST_CASE("recordio: array labels take the identity from labels[0]", "[datasets]") {
  ff::test::TempDir with_header("recordio-array");
  json manifest = python_write(with_header.path(), "--header --labels array");
  RecordIOSource source(with_header.path());
  CHECK(source.has_header_record());
  CHECK(source.num_classes() == 3);
  check_against_manifest(source, manifest);

  // key 0 is an image with array labels [identity, 1]: it has image bytes, so it is no header record
  ff::test::TempDir no_header("recordio-array-noheader");
  json manifest2 = python_write(no_header.path(), "--labels array");
  RecordIOSource source2(no_header.path());
  CHECK_FALSE(source2.has_header_record());
  check_against_manifest(source2, manifest2);
}

TEST_CASE("recordio: a payload split at the magic number joins to the exact bytes", "[datasets]") {
  ff::test::TempDir dir("recordio-split");
  json manifest = python_write(dir.path(), "--header --split");
  const int64_t split_key = manifest["split_key"].get<int64_t>();
  REQUIRE(manifest["split_parts"].get<int>() == 5);  // IRHeader id2 + three aligned magics in the image
  RecordIOSource source(dir.path());
  check_against_manifest(source, manifest);
  auto it = std::find_if(manifest["images"].begin(), manifest["images"].end(),
                         [&](const json& m) { return m["key"].get<int64_t>() == split_key; });
  int64_t index = it - manifest["images"].begin();
  std::string bytes;
  REQUIRE(source.read_encoded(index, bytes));
  CHECK(bytes == ff::read_file(dir / "split_image.bin"));

  uint64_t offset = 0;
  for (const auto& e : manifest["index"])
    if (e[0].get<int64_t>() == split_key) offset = e[1].get<uint64_t>();
  recordio::RecordReader reader(dir / "train.rec");
  auto extent = reader.inspect(offset, split_key);
  CHECK(extent.parts == 5);
  std::string payload;
  CHECK(reader.read(offset, payload, split_key) == extent.next);
  CHECK(payload.size() == extent.payload_size);
  CHECK(payload.size() == recordio::kIRHeaderSize + bytes.size());
  // the magic sat in the IRHeader's id2, so the header could only be read by joining parts
  recordio::RecordHeader h = reader.read_header(offset, split_key);
  CHECK(h.id2 == recordio::kMagic);
  CHECK(h.id == static_cast<uint64_t>(split_key));
  CHECK(h.label == 1.0f);
}

TEST_CASE("recordio: RecordWriter output is byte-identical to the Python dmlc-style writer", "[datasets]") {
  ff::test::TempDir dir("recordio-writer");
  json manifest = python_write(dir.path(), "--header --split --labels array");
  std::vector<recordio::IndexEntry> index;
  for (const auto& e : manifest["index"]) index.push_back({e[0].get<int64_t>(), e[1].get<uint64_t>()});
  std::sort(index.begin(), index.end(), [](auto& a, auto& b) { return a.offset < b.offset; });
  recordio::RecordReader reader(dir / "train.rec");
  fs::path copy = dir / "copy.rec";
  {
    recordio::RecordWriter writer(copy);
    std::string payload;
    for (const auto& e : index) {
      reader.read(e.offset, payload, e.key);
      CHECK(writer.write(payload) == e.offset);
    }
    CHECK(writer.split_records() == 1);
    writer.close();
  }
  CHECK(ff::read_file(copy) == ff::read_file(dir / "train.rec"));
}

TEST_CASE("recordio: RecordWriter splits only at aligned magic numbers (hand-worked bytes)", "[datasets]") {
  ff::test::TempDir dir("recordio-handworked");
  const uint32_t M = recordio::kMagic;
  // payload words: 1, M, 2 and then the magic at byte offset 13 (unaligned) followed by one byte
  std::string payload = bytes_of({1, M, 2});
  payload += 'a';
  payload += bytes_of({M});
  payload += 'b';  // 18 bytes
  fs::path path = dir / "hand.rec";
  {
    recordio::RecordWriter writer(path);
    writer.write(payload);
    writer.close();
  }
  // part 1: cflag 1, length 4, word 1; part 2: cflag 3, 10 bytes (2, 'a', M, 'b') padded to 12
  std::string expected = bytes_of({M, (1u << 29) | 4, 1, M, (3u << 29) | 10, 2});
  expected += 'a';
  expected += bytes_of({M});
  expected += 'b';
  expected += std::string(2, '\0');
  CHECK(ff::read_file(path) == expected);
  recordio::RecordReader reader(path);
  std::string back;
  CHECK(reader.read(0, back) == expected.size());
  CHECK(back == payload);
}

TEST_CASE("recordio: pack_payload and unpack_payload lay out the IRHeader as MXNet does", "[datasets]") {
  recordio::RecordHeader h;
  h.label = 9;  // ignored when array labels are given
  h.id = 7;
  h.id2 = 3;
  h.labels = {1.5f, 2.0f};
  std::string payload = recordio::pack_payload(h, "xy");
  // flag 2, label 9.0 (0x41100000), id 7, id2 3, 1.5 (0x3fc00000), 2.0 (0x40000000), "xy"
  std::string expected = bytes_of({2, 0x41100000, 7, 0, 3, 0, 0x3fc00000, 0x40000000}) + "xy";
  CHECK(payload == expected);
  std::string_view image;
  auto back = recordio::unpack_payload(payload, 5, 64, &image);
  CHECK(back.flag == 2);
  CHECK(back.identity() == 1.5f);
  CHECK(back.id == 7);
  CHECK(back.id2 == 3);
  CHECK(image == "xy");
  CHECK(error_of([] { recordio::unpack_payload(std::string(10, 'x'), 17, 4096); }) ==
        "record key 17 at byte 4096: payload of 10 bytes is shorter than the 24-byte header");
  CHECK_THAT(error_of([] { recordio::unpack_payload(bytes_of({3, 0, 0, 0, 0, 0, 0}), 2, 8); }),
             Contains("record key 2 at byte 8: payload of 28 bytes is shorter than its header and 3 labels (36 bytes)"));
}

TEST_CASE("recordio: a FaceForge-written pack reads back in the Python MXNet-style reader", "[datasets]") {
  ff::test::TempDir dir("recordio-ffwrite");
  SyntheticOptions options;
  options.identities = 3;
  options.images_per_identity = 4;
  options.seed = 5;
  auto synthetic = make_synthetic_source(options);
  REQUIRE(write_recordio_pack(*synthetic, dir.path(), 95) == 12);
  for (const auto& entry : fs::directory_iterator(dir.path()))
    CHECK(entry.path().filename().string().find(".tmp.") == std::string::npos);

  json py = python_read(dir.path());
  CHECK(py["property"] == "3,112,112");
  CHECK(py["header"] == json::array({13.0, 16.0}));  // [N+1, N+1+C], insightface's header record
  std::vector<int64_t> keys = py["image_keys"].get<std::vector<int64_t>>();
  REQUIRE(keys.size() == 12);
  for (int64_t k = 0; k < 12; ++k) {
    CHECK(keys[k] == k + 1);
    CHECK(py["image_labels"][k].get<double>() == static_cast<double>(synthetic->label(k)));
    const auto& r = py["records"][std::to_string(k + 1)];
    CHECK(r["id"] == k + 1);
    CHECK(r["flag"] == 0);
    CHECK(r["shape"] == json::array({112, 112, 3}));
  }
  // identity records 13..15: [first key, end key) of each identity's images
  for (int c = 0; c < 3; ++c) {
    const auto& r = py["records"][std::to_string(13 + c)];
    CHECK(r["labels"] == json::array({1.0 + 4 * c, 5.0 + 4 * c}));
    CHECK(r["image_bytes"] == 0);
  }
  CHECK(py["records"]["0"]["image_bytes"] == 0);
  CHECK(py["split_records"] == 0);
  // the sequential walk sees every record once, ids equal to the index keys
  json expected_walk = json::array();
  for (const auto& e : py["index"]) expected_walk.push_back(e);
  std::sort(expected_walk.begin(), expected_walk.end(), [](const json& a, const json& b) { return a[1] < b[1]; });
  CHECK(py["walk"] == expected_walk);

  // and FaceForge reads its own pack: each image is the rendered one after one JPEG round trip at 95
  RecordIOSource source(dir.path());
  REQUIRE(source.size() == 12);
  CHECK(source.num_classes() == 3);
  for (int64_t i = 0; i < 12; ++i) {
    CHECK(source.label(i) == synthetic->label(i));
    cv::Mat rendered, expected, got;
    synthetic->load(i, rendered);
    std::vector<uchar> jpeg;
    REQUIRE(cv::imencode(".jpg", rendered, jpeg, {cv::IMWRITE_JPEG_QUALITY, 95}));
    expected = cv::imdecode(jpeg, cv::IMREAD_COLOR);
    source.load(i, got);
    REQUIRE(expected.size() == got.size());
    CHECK(cv::norm(expected, got, cv::NORM_INF) == 0);
  }
}

TEST_CASE("recordio: repacking a RecordIO source keeps the image bytes and splits like MXNet", "[datasets]") {
  ff::test::TempDir dir("recordio-repack");
  fs::path in = dir / "in", out = dir / "out";
  json manifest = python_write(in, "--header --split --property 3");
  RecordIOSource source(in);
  REQUIRE(write_recordio_pack(source, out) == 9);
  json py = python_read(out);
  CHECK(py["property"] == "3,112,112");
  CHECK(py["header"] == json::array({10.0, 13.0}));
  // the fixture's images are grouped by identity, so keys keep their order; bytes are copied verbatim
  for (int64_t k = 0; k < 9; ++k) {
    const auto& m = manifest["images"][k];
    const auto& r = py["records"][std::to_string(k + 1)];
    CHECK(r["sha256"] == m["sha256"]);
    CHECK(r["label"].get<double>() == m["label"].get<double>());
  }
  // the image with three aligned magics is split again (its id2 no longer holds the magic: 4 parts)
  CHECK(py["split_records"] == 1);
  const auto split = std::to_string(manifest["split_key"].get<int64_t>());
  CHECK(py["records"][split]["parts"] == 4);
}

TEST_CASE("recordio: scan_index rebuilds the index Python wrote", "[datasets]") {
  ff::test::TempDir dir("recordio-scan");
  struct Case {
    std::string name, options;
    recordio::IndexKeys keys;
    int64_t split_records;
  };
  // zero-ids: every id is 0, so keys fall back to record numbers (which the fixture used as keys too)
  const std::vector<Case> cases = {{"header-split", "--header --split", recordio::IndexKeys::record_id, 1},
                                   {"array", "--labels array", recordio::IndexKeys::record_id, 0},
                                   {"zero-ids", "--zero-ids", recordio::IndexKeys::sequence, 0}};
  for (const auto& c : cases) {
    INFO(c.name);
    fs::path pack = dir / c.name;
    python_write(pack, c.options);
    auto scanned = recordio::scan_index(pack / "train.rec");
    CHECK(scanned.entries == recordio::read_index(pack / "train.idx"));
    CHECK(scanned.keys == c.keys);
    CHECK(scanned.split_records == c.split_records);
    fs::path rebuilt = pack / "rebuilt.idx";
    recordio::write_index(rebuilt, scanned.entries);
    CHECK(ff::read_file(rebuilt) == ff::read_file(pack / "train.idx"));
  }
  CHECK_THAT(error_of([&] { recordio::scan_index(dir / "zero-ids" / "train.rec", recordio::IndexKeys::record_id); }),
             Contains("record at byte") && Contains("id 0 repeats an earlier record's id"));
  // the header pack stores key 0 after the images (face2rec order): sequence keys follow the file
  auto sequence = recordio::scan_index(dir / "header-split" / "train.rec", recordio::IndexKeys::sequence);
  auto by_id = recordio::scan_index(dir / "header-split" / "train.rec");
  REQUIRE(sequence.entries.size() == by_id.entries.size());
  for (size_t i = 0; i < sequence.entries.size(); ++i) {
    CHECK(sequence.entries[i].key == static_cast<int64_t>(i));
    CHECK(sequence.entries[i].offset == by_id.entries[i].offset);
  }
  CHECK(by_id.entries[9].key == 0);
}

TEST_CASE("recordio: the reader is safe to share between threads", "[datasets]") {
  ff::test::TempDir dir("recordio-threads");
  python_write(dir.path(), "--header --split --identities 4 --per-identity 4");
  RecordIOSource source(dir.path());
  std::vector<std::string> expected(static_cast<size_t>(source.size()));
  for (int64_t i = 0; i < source.size(); ++i) source.read_encoded(i, expected[i]);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      std::string bytes;
      for (int round = 0; round < 20; ++round)
        for (int64_t i = 0; i < source.size(); ++i) {
          int64_t j = (i * 7 + t + round) % source.size();
          source.read_encoded(j, bytes);
          if (bytes != expected[j]) ++mismatches;
        }
    });
  for (auto& t : threads) t.join();
  CHECK(mismatches == 0);
}

TEST_CASE("recordio error: missing index names the rebuild command", "[datasets]") {
  ff::test::TempDir dir("recordio-noidx");
  python_write(dir.path(), "--header");
  fs::remove(dir / "train.idx");
  std::string message = error_of([&] { RecordIOSource source(dir.path()); });
  CHECK_THAT(message, Contains((dir / "train.idx").string()) && Contains("not found") &&
                          Contains(fmt::format("rebuild it with `faceforge data index {}`", (dir / "train.rec").string())));
}

TEST_CASE("recordio error: a stale index pointing past the end names the rebuild command", "[datasets]") {
  ff::test::TempDir dir("recordio-stale");
  json manifest = python_write(dir.path(), "--header");
  uint64_t size = manifest["rec_size"].get<uint64_t>();
  ff::test::write_text(dir / "train.idx", fmt::format("1\t0\n2\t{}\n", size + 64));
  std::string message = error_of([&] { RecordIOSource source(dir.path()); });
  CHECK_THAT(message, Contains("stale index: key 2 points at byte " + std::to_string(size + 64)) &&
                          Contains("past the end") && Contains("faceforge data index"));
}

TEST_CASE("recordio error: a stale index pointing inside a record names the rebuild command", "[datasets]") {
  ff::test::TempDir dir("recordio-stale-mid");
  python_write(dir.path(), "--header");
  ff::test::write_text(dir / "train.idx", "1\t0\n2\t12\n");
  std::string message = error_of([&] { RecordIOSource source(dir.path()); });
  CHECK_THAT(message, Contains("key 2 points at byte 12") && Contains("where no record starts") &&
                          Contains("faceforge data index"));
}

TEST_CASE("recordio error: bad magic names the byte offset", "[datasets]") {
  ff::test::TempDir dir("recordio-badmagic");
  json manifest = python_write(dir.path(), "");
  uint64_t third = manifest["index"][2][1].get<uint64_t>();
  std::string rec = ff::read_file(dir / "train.rec");
  rec[third] = 'X';
  ff::test::write_text(dir / "train.rec", rec);
  uint32_t found;
  std::memcpy(&found, rec.data() + third, 4);
  std::string expected = fmt::format("bad magic 0x{:08x} at byte {}", found, third);
  CHECK_THAT(error_of([&] { recordio::scan_index(dir / "train.rec"); }),
             Contains(fmt::format("record at byte {}", third)) && Contains(expected));
  recordio::RecordReader reader(dir / "train.rec");
  std::string payload;
  CHECK_THAT(error_of([&] { reader.read(third, payload, 2); }),
             Contains(fmt::format("record key 2 at byte {}", third)) && Contains(expected));
  // through the index the same damage reads as an index that no longer matches
  CHECK_THAT(error_of([&] { RecordIOSource source(dir.path()); }),
             Contains("key 2 points at byte") && Contains("no record starts"));
}

TEST_CASE("recordio error: a truncated .rec", "[datasets]") {
  ff::test::TempDir dir("recordio-truncated");
  json manifest = python_write(dir.path(), "");
  uint64_t size = manifest["rec_size"].get<uint64_t>();
  uint64_t last = manifest["index"][8][1].get<uint64_t>();
  fs::resize_file(dir / "train.rec", size - 10);
  CHECK_THAT(error_of([&] { RecordIOSource source(dir.path()); }),
             Contains(fmt::format("record key 8 at byte {}", last)) && Contains("truncated record") &&
                 Contains(fmt::format("run past the end of the file ({} bytes)", size - 10)));
  CHECK_THAT(error_of([&] { recordio::scan_index(dir / "train.rec"); }),
             Contains(fmt::format("record at byte {}", last)) && Contains("truncated record"));
  // a file cut inside a record header
  fs::resize_file(dir / "train.rec", last + 5);
  CHECK_THAT(error_of([&] { recordio::scan_index(dir / "train.rec"); }),
             Contains("truncated record") && Contains("8-byte record header"));
}

TEST_CASE("recordio error: a stray continuation part", "[datasets]") {
  ff::test::TempDir dir("recordio-stray");
  const uint32_t M = recordio::kMagic;
  // a last part (cflag 3) with no first part before it
  ff::test::write_text(dir / "stray.rec", bytes_of({M, (3u << 29) | 4, 7}));
  recordio::RecordReader reader(dir / "stray.rec");
  std::string payload;
  CHECK_THAT(error_of([&] { reader.read(0, payload, 4); }),
             Contains("record key 4 at byte 0: stray continuation part (cflag 3)"));
  // a first part followed by a new whole record
  ff::test::write_text(dir / "open.rec", bytes_of({M, (1u << 29) | 4, 7, M, 4, 8}));
  recordio::RecordReader open(dir / "open.rec");
  CHECK_THAT(error_of([&] { open.read(0, payload); }),
             Contains("unfinished split record: the part at byte 12 has cflag 0"));
}

TEST_CASE("recordio error: a negative label is out of range", "[datasets]") {
  ff::test::TempDir dir("recordio-negative");
  python_write(dir / "scalar", "--header --bad-label 4=-1");
  CHECK_THAT(error_of([&] { RecordIOSource source(dir / "scalar"); }),
             Contains("record key 4: label out of range: -1 (labels must be non-negative integers)"));
  python_write(dir / "array", "--header --labels array --bad-label 3=-2");
  CHECK_THAT(error_of([&] { RecordIOSource source(dir / "array"); }),
             Contains("record key 3: label out of range: -2"));
}

TEST_CASE("recordio error: a non-integer label is out of range", "[datasets]") {
  ff::test::TempDir dir("recordio-fraction");
  python_write(dir.path(), "--bad-label 5=2.5");
  CHECK_THAT(error_of([&] { RecordIOSource source(dir.path()); }),
             Contains((dir / "train.rec").string() + ": record key 5: label out of range: 2.5"));
}

TEST_CASE("recordio error: a label at or above the property file's classes is out of range", "[datasets]") {
  ff::test::TempDir dir("recordio-classes");
  python_write(dir.path(), "--header --property 3 --bad-label 6=3");
  CHECK_THAT(error_of([&] { RecordIOSource source(dir.path()); }),
             Contains("record key 6: label out of range: 3") && Contains("property file says 3 classes"));
  // without a property file the same label just adds a class
  fs::remove(dir / "property");
  CHECK(RecordIOSource(dir.path()).num_classes() == 4);
}

TEST_CASE("recordio error: malformed index lines and missing packs", "[datasets]") {
  ff::test::TempDir dir("recordio-index");
  ff::test::write_text(dir / "bad.idx", "1\t0\n2 16\n");
  CHECK(error_of([&] { recordio::read_index(dir / "bad.idx"); }) ==
        fmt::format("{}:2: expected `key<TAB>offset`, got '2 16'", (dir / "bad.idx").string()));
  ff::test::write_text(dir / "neg.idx", "1\t-4\n");
  CHECK_THAT(error_of([&] { recordio::read_index(dir / "neg.idx"); }),
             Contains("neg.idx:1: offset '-4' is not a non-negative integer"));
  ff::test::write_text(dir / "dup.idx", "1\t0\n\n2\t8\n1\t16\n");
  CHECK(error_of([&] { recordio::read_index(dir / "dup.idx"); }) ==
        fmt::format("{}:4: duplicate key 1 (first at line 1)", (dir / "dup.idx").string()));
  CHECK_THAT(error_of([&] { RecordIOSource source(dir / "absent.rec"); }),
             Contains("RecordIO file not found: " + (dir / "absent.rec").string()));
  CHECK_THAT(error_of([&] { RecordIOSource source(dir.path()); }),
             Contains((dir / "train.rec").string() + " not found"));
}
