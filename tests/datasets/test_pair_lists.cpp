// Checks datasets/pair_lists.cpp on LFW, CALFW and RFW lists written here, field by field, against
// folds and image orders worked out independently, and on the synthetic RFW writer's tree.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "datasets/pair_lists.h"
#include "datasets/synthetic_protocols.h"
#include "src/util/error.h"
#include "support.h"

namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using ff::datasets::PairList;
using ff::test::TempDir;
using ff::test::write_text;

// A pair as the tests state it: image paths instead of indices.
struct Expected {
  std::string first, second;
  bool genuine;
  int fold;
  std::string group;
};

// The image order a reader must produce: each path at its first use, first image before second.
std::vector<std::string> first_appearance(const std::vector<Expected>& pairs) {
  std::vector<std::string> images;
  std::set<std::string> seen;
  for (const Expected& p : pairs) {
    for (const std::string& image : {p.first, p.second}) {
      if (seen.insert(image).second) images.push_back(image);
    }
  }
  return images;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void check_pairs(const PairList& list, const std::vector<Expected>& expected) {
  CHECK(list.images == first_appearance(expected));
  REQUIRE(list.pairs.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("pair " << i);
    const PairList::Pair& p = list.pairs[i];
    REQUIRE(p.first >= 0);
    REQUIRE(p.second >= 0);
    REQUIRE(static_cast<size_t>(p.first) < list.images.size());
    REQUIRE(static_cast<size_t>(p.second) < list.images.size());
    CHECK(list.images[p.first] == expected[i].first);
    CHECK(list.images[p.second] == expected[i].second);
    CHECK(p.genuine == expected[i].genuine);
    CHECK(p.fold == expected[i].fold);
    CHECK(p.group == expected[i].group);
  }
}

// The hand-written LFW list: 2 folds of 2 matched then 2 mismatched lines, tabs and spaces, CRLF, a
// blank line, zero-padded and plain numbers, images repeated across pairs and folds.
const char* kLfwPairs =
    "2\t2\n"
    "Abel_Pacheco\t1\t4\n"
    "Akhmed_Zakayev 1 3\r\n"
    "Abel_Pacheco\t1\tAlan_Ball\t2\n"
    "Bo_Pelini\t0001\tAbel_Pacheco\t4\n"
    "\n"
    "Ann_Veneman\t10\t11\n"
    "Bo_Pelini  1  2\n"
    "Carl_Reiner\t3\tDick_Clark\t12\n"
    "Ann_Veneman\t10\tBo_Pelini\t2";  // no final newline

std::vector<Expected> lfw_expected(const std::string& prefix) {
  const auto image = [&](const std::string& name, int n) {
    return prefix + name + "/" + name + fmt::format("_{:04d}.jpg", n);
  };
  return {
      {image("Abel_Pacheco", 1), image("Abel_Pacheco", 4), true, 0, ""},
      {image("Akhmed_Zakayev", 1), image("Akhmed_Zakayev", 3), true, 0, ""},
      {image("Abel_Pacheco", 1), image("Alan_Ball", 2), false, 0, ""},
      {image("Bo_Pelini", 1), image("Abel_Pacheco", 4), false, 0, ""},
      {image("Ann_Veneman", 10), image("Ann_Veneman", 11), true, 1, ""},
      {image("Bo_Pelini", 1), image("Bo_Pelini", 2), true, 1, ""},
      {image("Carl_Reiner", 3), image("Dick_Clark", 12), false, 1, ""},
      {image("Ann_Veneman", 10), image("Bo_Pelini", 2), false, 1, ""},
  };
}

TEST_CASE("LFW pairs.txt gives pairs in file order with header-sized folds and lfw image paths", "[datasets]") {
  TempDir dir("pair-lists-lfw");
  write_text(dir / "pairs.txt", kLfwPairs);
  fs::create_directories(dir / "lfw");
  const PairList list = ff::datasets::read_lfw_pairs(dir.path());
  CHECK(list.layout == "lfw");
  CHECK(list.root == dir.path());
  CHECK(list.landmarks.empty());
  check_pairs(list, lfw_expected("lfw/"));
  // Spelled out once, to pin the exact path form.
  REQUIRE(list.images.size() == 11);
  CHECK(list.images[0] == "lfw/Abel_Pacheco/Abel_Pacheco_0001.jpg");
  CHECK(list.images[10] == "lfw/Dick_Clark/Dick_Clark_0012.jpg");
}

TEST_CASE("LFW folds follow the header for a full 10 x 300 list", "[datasets]") {
  TempDir dir("pair-lists-lfw-full");
  std::string text = "10\t300\n";
  std::vector<Expected> expected;
  // Fold f's lines are written by iteration f, so the fold is known without any index arithmetic.
  for (int fold = 0; fold < 10; ++fold) {
    for (int i = 0; i < 300; ++i) {
      const std::string name = fmt::format("P{}_{}", fold, i);
      text += fmt::format("{}\t1\t{}\n", name, 2 + i % 3);
      expected.push_back({fmt::format("lfw/{0}/{0}_0001.jpg", name),
                          fmt::format("lfw/{0}/{0}_{1:04d}.jpg", name, 2 + i % 3), true, fold, ""});
    }
    for (int i = 0; i < 300; ++i) {
      const std::string a = fmt::format("P{}_{}", fold, i), b = fmt::format("Q{}", i % 7);
      text += fmt::format("{}\t1\t{}\t{}\n", a, b, 1 + i % 5);
      expected.push_back({fmt::format("lfw/{0}/{0}_0001.jpg", a), fmt::format("lfw/{0}/{0}_{1:04d}.jpg", b, 1 + i % 5),
                          false, fold, ""});
    }
  }
  write_text(dir / "pairs.txt", text);
  fs::create_directories(dir / "lfw");
  const PairList list = ff::datasets::read_lfw_pairs(dir.path());
  check_pairs(list, expected);
  for (int fold = 0; fold < 10; ++fold) {
    const auto in_fold =
        std::count_if(list.pairs.begin(), list.pairs.end(), [&](const auto& p) { return p.fold == fold; });
    const auto genuine =
        std::count_if(list.pairs.begin(), list.pairs.end(), [&](const auto& p) { return p.fold == fold && p.genuine; });
    CHECK(in_fold == 600);
    CHECK(genuine == 300);
  }
}

TEST_CASE("LFW image folder is lfw when that folder exists, else the root, unless given", "[datasets]") {
  TempDir dir("pair-lists-lfw-folder");
  write_text(dir / "pairs.txt", kLfwPairs);
  using ff::datasets::LfwPairsOptions;
  using ff::datasets::read_lfw_pairs;
  check_pairs(read_lfw_pairs(dir.path()), lfw_expected(""));
  fs::create_directories(dir / "lfw");
  check_pairs(read_lfw_pairs(dir.path()), lfw_expected("lfw/"));
  check_pairs(read_lfw_pairs(dir.path(), LfwPairsOptions{.image_folder = fs::path("lfw-deepfunneled")}),
              lfw_expected("lfw-deepfunneled/"));
  check_pairs(read_lfw_pairs(dir.path(), LfwPairsOptions{.image_folder = fs::path(".")}), lfw_expected(""));
  check_pairs(read_lfw_pairs(dir.path(), LfwPairsOptions{.image_folder = fs::path("a/./b/")}), lfw_expected("a/b/"));
  CHECK_THROWS_WITH(
      read_lfw_pairs(dir.path(), LfwPairsOptions{.image_folder = fs::path("/data/lfw")}),
      Contains("LFW image_folder: expected a folder relative to") && Contains("found the absolute path /data/lfw"));
}

TEST_CASE("LFW pairs.txt errors name the file and line", "[datasets]") {
  TempDir dir("pair-lists-lfw-errors");
  using ff::datasets::read_lfw_pairs;
  const std::string file = (dir / "pairs.txt").string();
  CHECK_THROWS_WITH(read_lfw_pairs(dir.path()), Contains(file + ": expected LFW's pair list, found no such file"));
  const auto error_for = [&](const std::string& text) {
    write_text(dir / "pairs.txt", text);
    return ff::test::error_of([&] { read_lfw_pairs(dir.path()); });
  };
  CHECK_THAT(error_for("\n\n"), Contains(file + ": expected a header `folds<TAB>pairs_per_half`, found an empty file"));
  CHECK_THAT(
      error_for("1100\n"),
      Contains(file + ":1: expected a header of 2 fields `folds<TAB>pairs_per_half` (LFW: 10 300), found '1100'"));
  CHECK_THAT(error_for("10\tx\n"),
             Contains(file + ":1: expected an integer pairs per half-fold (header field 2), found 'x'"));
  CHECK_THAT(error_for("0\t300\n"),
             Contains(file + ":1: expected a header of two counts in [1, 1000000], found '0\t300'"));
  CHECK_THAT(error_for("1\t1\nA\t1\tB\t2\nA\t1\tB\t2\n"),
             Contains(file + ":2: expected 3 fields `name n1 n2` (matched pair 1 of fold 1), found 4 in 'A\t1\tB\t2'"));
  CHECK_THAT(
      error_for("2\t1\nA\t1\t2\nA\t1\tB\t2\n\nA 1 2\nA 1 3\n"),
      Contains(file + ":6: expected 4 fields `name1 n1 name2 n2` (mismatched pair 1 of fold 2), found 3 in 'A 1 3'"));
  CHECK_THAT(error_for("1\t1\nA\t0\t2\nA\t1\tB\t2\n"),
             Contains(file + ":2: expected a positive image number, found '0'"));
  CHECK_THAT(error_for("1\t1\nA\t1\t2\nA\t1\tB\tx2\n"),
             Contains(file + ":3: expected a positive image number, found 'x2'"));
  CHECK_THAT(error_for("1\t1\nA\t1\t2\nA\t1\tA\t3\n"),
             Contains(file + ":3: expected two different names in a mismatched pair, found 'A' twice in 'A\t1\tA\t3'"));
  CHECK_THAT(error_for("1\t1\nA\t1\t2\n\n"),
             Contains(file + ":3: expected 2 pair lines (1 folds x 2 x 1) as the header states, found 1"));
  CHECK_THAT(error_for("1\t1\nA\t1\t2\nA\t1\tB\t2\nC 1 2\n"),
             Contains(file + ":4: expected 2 pair lines (1 folds x 2 x 1) as the header states, found more: 'C 1 2'"));
}

// A CALFW-style list of 2P pairs: positive k shows P<k> twice with the number 1000 + k on both lines;
// negative j shows P<j> (again) and N<j>, labelled 0 and 0 for even j and two different numbers for
// odd j, the two ways a negative pair can be written.
std::string calfw_text(int positives) {
  std::string text;
  for (int k = 0; k < positives; ++k) {
    text += fmt::format("P{:02d}_0001.jpg {}\n", k, 1000 + k);
    text += fmt::format("P{:02d}_0002.jpg\t{}\r\n", k, 1000 + k);
  }
  text += "\n";
  for (int j = 0; j < positives; ++j) {
    if (j % 2 == 0) {
      text += fmt::format("P{:02d}_0001.jpg 0\nN{:02d}_0001.jpg 0\n", j, j);
    } else {
      text += fmt::format("P{:02d}_0001.jpg {}\nN{:02d}_0001.jpg 7\n", j, 1000 + j, j);
    }
  }
  return text;
}

TEST_CASE("CALFW pairs take genuine from equal non-zero labels and folds from the two halves", "[datasets]") {
  TempDir dir("pair-lists-calfw");
  write_text(dir / "pairs_CALFW.txt", calfw_text(20));
  const PairList list = ff::datasets::read_calfw_pairs(dir / "pairs_CALFW.txt");
  CHECK(list.layout == "calfw");
  CHECK(list.root == dir / "aligned images");
  CHECK(list.landmarks.empty());
  REQUIRE(list.images.size() == 60);
  REQUIRE(list.pairs.size() == 40);
  for (int k = 0; k < 20; ++k) {
    CHECK(list.images[2 * k] == fmt::format("P{:02d}_0001.jpg", k));
    CHECK(list.images[2 * k + 1] == fmt::format("P{:02d}_0002.jpg", k));
    CHECK(list.images[40 + k] == fmt::format("N{:02d}_0001.jpg", k));
    CHECK(list.pairs[k].first == 2 * k);
    CHECK(list.pairs[k].second == 2 * k + 1);
    CHECK(list.pairs[k].genuine);
    CHECK(list.pairs[20 + k].first == 2 * k);
    CHECK(list.pairs[20 + k].second == 40 + k);
    CHECK_FALSE(list.pairs[20 + k].genuine);
  }
  for (const PairList::Pair& p : list.pairs) CHECK(p.group.empty());
  // PROTOCOLS.md scaled to P = 20: fold f = positives {2f, 2f + 1} and negatives {20 + 2f, 21 + 2f}.
  for (int fold = 0; fold < 10; ++fold) {
    std::set<int> members;
    for (size_t i = 0; i < list.pairs.size(); ++i) {
      if (list.pairs[i].fold == fold) members.insert(static_cast<int>(i));
    }
    CHECK(members == std::set<int>{2 * fold, 2 * fold + 1, 20 + 2 * fold, 21 + 2 * fold});
  }
  const PairList given = ff::datasets::read_calfw_pairs(dir / "pairs_CALFW.txt", dir / "images");
  CHECK(given.root == dir / "images");
  CHECK(given.images == list.images);
}

TEST_CASE("CALFW list errors name the file and line", "[datasets]") {
  TempDir dir("pair-lists-calfw-errors");
  using ff::datasets::read_calfw_pairs;
  const fs::path path = dir / "pairs.txt";
  const std::string file = path.string();
  CHECK_THROWS_WITH(read_calfw_pairs(path), Contains(file + ": expected a CALFW/CPLFW pair list, found no such file"));
  const auto error_for = [&](const std::string& text) {
    write_text(path, text);
    return ff::test::error_of([&] { read_calfw_pairs(path); });
  };
  CHECK_THAT(error_for(" \n"), Contains(file + ": expected `img label` lines, two per pair, found none"));
  CHECK_THAT(error_for("a.jpg 1 2\n"), Contains(file + ":1: expected 2 fields `img label`, found 3 in 'a.jpg 1 2'"));
  CHECK_THAT(error_for("a.jpg 1\nb.jpg x\n"), Contains(file + ":2: expected an integer label (field 2), found 'x'"));
  CHECK_THAT(
      error_for("a.jpg 1\nb.jpg 1\n\nc.jpg 2\n"),
      Contains(file +
               ":4: expected two lines per pair, found an odd number of lines (3): this last one has no partner"));
  CHECK_THAT(error_for(calfw_text(15)),
             Contains(file + ": expected 2P pairs, P positive then P negative with P a multiple "
                             "of 10 (10 folds; CALFW: 6000 pairs), found 30 pairs"));
  // Positive 3 (lines 7-8) written 0 and 0.
  std::string text = calfw_text(10);
  const std::string positive = "P03_0001.jpg 1003\nP03_0002.jpg\t1003\r\n";
  REQUIRE(text.find(positive) != std::string::npos);
  text.replace(text.find(positive), positive.size(), "P03_0001.jpg 0\nP03_0002.jpg 0\n");
  CHECK_THAT(error_for(text),
             Contains(file + ":7: expected a positive pair (pairs 1..10 are positive: labels equal and "
                             "non-zero), found labels 0 and 0"));
  // Negative 1 (pair 12, lines 24-25 after the blank line 21) written with one number twice.
  text = calfw_text(10);
  const std::string negative = "P01_0001.jpg 1001\nN01_0001.jpg 7\n";
  REQUIRE(text.find(negative) != std::string::npos);
  text.replace(text.find(negative), negative.size(), "P01_0001.jpg 1001\nN01_0001.jpg 1001\n");
  CHECK_THAT(error_for(text),
             Contains(file + ":24: expected a negative pair (pairs 11..20 are negative: labels differing "
                             "or 0), found labels 1001 and 1001"));
}

// An RFW pair as written: genuine when id2 is empty.
struct RfwLine {
  std::string id1;
  int n1;
  std::string id2;
  int n2;
};

// 20 pairs of one race: fold f holds one genuine then one impostor line, images repeated across folds.
std::vector<RfwLine> rfw_lines(const std::vector<std::string>& ids) {
  std::vector<RfwLine> lines;
  for (int fold = 0; fold < 10; ++fold) {
    lines.push_back({ids[fold % 3], 1 + fold % 2, "", 2 + fold % 2});
    lines.push_back({ids[fold % 3], 1, ids[(fold + 1) % 3], 1 + fold % 4});
  }
  return lines;
}

std::string rfw_text(const std::vector<RfwLine>& lines) {
  std::string text;
  for (const RfwLine& l : lines) {
    text += l.id2.empty() ? fmt::format("{}\t{}\t{}\n", l.id1, l.n1, l.n2)
                          : fmt::format("{}\t{}\t{}\t{}\n", l.id1, l.n1, l.id2, l.n2);
  }
  return text;
}

std::string rfw_image(const std::string& race, const std::string& id, int n) {
  return "test/data/" + race + "/" + id + "/" + id + "_000" + std::to_string(n) + ".jpg";  // n < 10 here
}

std::vector<Expected> rfw_expected(const std::string& race, const std::vector<RfwLine>& lines) {
  std::vector<Expected> expected;
  for (size_t i = 0; i < lines.size(); ++i) {
    const RfwLine& l = lines[i];
    const bool genuine = l.id2.empty();
    expected.push_back({rfw_image(race, l.id1, l.n1), rfw_image(race, genuine ? l.id1 : l.id2, l.n2), genuine,
                        static_cast<int>(i / 2), race});
  }
  return expected;
}

// Landmarks of an image as the fixtures write them: distinct per image and per coordinate.
std::array<float, 10> points_of(size_t image) {
  std::array<float, 10> p{};
  for (int k = 0; k < 10; ++k) p[k] = static_cast<float>(image) * 16.0f + static_cast<float>(k) + 0.25f;
  return p;
}

std::string points_text(const std::array<float, 10>& p, char separator) {
  std::string text;
  for (float v : p) text += fmt::format("{}{}", separator, v);
  return text;
}

// An RFW tree with African and Indian only; lmk lines prefix paths in every way copies do.
struct RfwTree {
  TempDir dir{"pair-lists-rfw"};
  std::vector<RfwLine> african = rfw_lines({"m.0a1", "m.0a2", "m.0a3"});
  std::vector<RfwLine> indian = rfw_lines({"m.0i1", "m.0i2", "m.0i3"});
  std::vector<std::string> african_images, indian_images;

  fs::path txts(const std::string& race) const { return dir / "test" / "txts" / race; }

  RfwTree() {
    write_text(txts("African") / "African_pairs.txt", rfw_text(african));
    write_text(txts("Indian") / "Indian_pairs.txt", rfw_text(indian));
    african_images = first_appearance(rfw_expected("African", african));
    indian_images = first_appearance(rfw_expected("Indian", indian));
    // African: four path styles in turn, written in reverse image order, plus a line no pair uses.
    std::string lmk = "m.0zz/m.0zz_0001.jpg\t9\t1\t2\t3\t4\t5\t6\t7\t8\t9\t10\n";
    for (size_t k = african_images.size(); k-- > 0;) {
      const std::string& path = african_images[k];
      const std::string tail = path.substr(std::string("test/data/African/").size());
      const std::string styles[4] = {path, "./" + path, "/African/" + tail, tail};
      lmk += styles[k % 4] + "\t" + std::to_string(k % 3) + points_text(points_of(k), '\t') + "\n";
    }
    write_text(txts("African") / "African_lmk.txt", lmk);
    // Indian: space separated, CRLF, one identical repeat, global image indices after African's.
    lmk.clear();
    for (size_t k = 0; k < indian_images.size(); ++k) {
      const std::string line =
          indian_images[k] + " 0" + points_text(points_of(african_images.size() + k), ' ') + "\r\n";
      lmk += line;
      if (k == 2) lmk += line;
    }
    write_text(txts("Indian") / "Indian_lmk.txt", lmk);
  }
};

TEST_CASE("RFW races give per-race folds, race groups and landmarks matched by path", "[datasets]") {
  RfwTree tree;
  const PairList list = ff::datasets::read_rfw(tree.dir.path());
  CHECK(list.layout == "rfw");
  CHECK(list.root == tree.dir.path());
  std::vector<Expected> expected = rfw_expected("African", tree.african);
  for (const Expected& e : rfw_expected("Indian", tree.indian)) expected.push_back(e);
  check_pairs(list, expected);
  REQUIRE(list.images.size() == tree.african_images.size() + tree.indian_images.size());
  CHECK(list.images.front() == "test/data/African/m.0a1/m.0a1_0001.jpg");
  REQUIRE(list.landmarks.size() == list.images.size());
  for (size_t i = 0; i < list.images.size(); ++i) {
    INFO(list.images[i]);
    CHECK(list.landmarks[i] == points_of(i));
  }

  using ff::datasets::RfwReadOptions;
  const PairList indian = ff::datasets::read_rfw(tree.dir.path(), RfwReadOptions{.races = {"Indian"}});
  CHECK(indian.images == tree.indian_images);
  REQUIRE(indian.landmarks.size() == tree.indian_images.size());
  CHECK(indian.landmarks.front() == points_of(tree.african_images.size()));
  const PairList bare = ff::datasets::read_rfw(tree.dir.path(), RfwReadOptions{.races = {}, .landmarks = false});
  CHECK(bare.landmarks.empty());
  CHECK(bare.images == list.images);
  CHECK(bare.pairs.size() == 40);
}

TEST_CASE("RFW errors name the race, file and line", "[datasets]") {
  RfwTree tree;
  using ff::datasets::read_rfw;
  using ff::datasets::RfwReadOptions;
  const std::string african = (tree.txts("African") / "African_pairs.txt").string();
  const std::string african_lmk = (tree.txts("African") / "African_lmk.txt").string();
  const auto error_of = [&](const RfwReadOptions& options = {}) {
    return ff::test::error_of([&] { read_rfw(tree.dir.path(), options); });
  };

  TempDir empty("pair-lists-rfw-empty");
  CHECK_THROWS_WITH(read_rfw(empty.path()), Contains((empty / "test" / "txts").string() +
                                                     ": expected <Race>/<Race>_pairs.txt for at least one of "
                                                     "African, Asian, Caucasian, Indian, found none (no such folder)"));
  CHECK_THAT(error_of({.races = {"Asain"}}),
             Contains("RFW race: expected one of African, Asian, Caucasian, Indian, found 'Asain'"));
  CHECK_THAT(error_of({.races = {"Asian"}}), Contains((tree.txts("Asian") / "Asian_pairs.txt").string() +
                                                      ": expected the pair list of race Asian, found no such file"));

  const std::string good_lmk = read_text(tree.txts("African") / "African_lmk.txt");
  fs::rename(tree.txts("Indian") / "Indian_lmk.txt", tree.txts("Indian") / "lmk.bak");
  CHECK_THAT(error_of(),
             Contains((tree.dir / "test" / "txts").string() + ": expected <Race>_lmk.txt for every race read or "
                                                              "for none, found it for African, missing for Indian"));
  CHECK(read_rfw(tree.dir.path(), {.races = {"Indian"}}).landmarks.empty());
  fs::rename(tree.txts("Indian") / "lmk.bak", tree.txts("Indian") / "Indian_lmk.txt");

  const auto with_pairs = [&](const std::string& text) {
    write_text(african, text);
    return error_of();
  };
  CHECK_THAT(
      with_pairs("a 1 b 2 3\n"),
      Contains(african +
               ":1: expected 3 fields `id n1 n2` (genuine) or 4 `id1 n1 id2 n2` (impostor), found 5 in 'a 1 b 2 3'"));
  std::vector<RfwLine> lines = tree.african;
  lines.pop_back();
  lines.pop_back();
  CHECK_THAT(
      with_pairs(rfw_text(lines)),
      Contains(african + ": expected a positive multiple of 20 pairs (10 folds, each half genuine then half impostor; "
                         "RFW: 6000), found 18"));
  CHECK_THAT(with_pairs("\n"), Contains(african + ": expected a positive multiple of 20 pairs"));
  lines = tree.african;
  std::swap(lines[4], lines[5]);  // fold 3 starts with its impostor
  CHECK_THAT(
      with_pairs(rfw_text(lines)),
      Contains(african + ":5: expected a genuine `id n1 n2` pair (fold 3: pairs 5..5 genuine, then 6..6 impostor), "
                         "found an impostor one"));
  lines = tree.african;
  lines[7] = lines[6];  // fold 4 ends with a second genuine pair
  CHECK_THAT(with_pairs(rfw_text(lines)),
             Contains(african + ":8: expected an impostor `id1 n1 id2 n2` pair (fold 4: pairs 7..7 genuine, then 8..8 "
                                "impostor), found a genuine one"));
  lines = tree.african;
  lines[1].id2 = lines[1].id1;
  CHECK_THAT(with_pairs(rfw_text(lines)),
             Contains(african + ":2: expected two different names in a mismatched pair, found 'm.0a1' twice"));
  write_text(african, rfw_text(tree.african));

  const auto with_lmk = [&](const std::string& text) {
    write_text(african_lmk, text);
    return error_of();
  };
  CHECK_THAT(
      with_lmk("a/a_0001.jpg 0 1 2 3 4 5 6 7 8 9\n"),
      Contains(african_lmk +
               ":1: expected 12 fields `path label x1 y1 ... x5 y5`, found 11 in 'a/a_0001.jpg 0 1 2 3 4 5 6 7 8 9'"));
  CHECK_THAT(with_lmk("\na/a_0001.jpg 0 1 2 3 4 nan 6 7 8 9 10\n"),
             Contains(african_lmk + ":2: expected a finite number for a landmark coordinate, found 'nan'"));
  CHECK_THAT(with_lmk("a_0001.jpg 0 1 2 3 4 5 6 7 8 9 10\n"),
             Contains(african_lmk + ":1: expected an image path ending in <id>/<file>, found 'a_0001.jpg'"));
  CHECK_THAT(with_lmk("/a_0001.jpg 0 1 2 3 4 5 6 7 8 9 10\n"),
             Contains(african_lmk + ":1: expected an image path ending in <id>/<file>, found '/a_0001.jpg'"));
  CHECK_THAT(with_lmk("x/a/ 0 1 2 3 4 5 6 7 8 9 10\n"),
             Contains(african_lmk + ":1: expected an image path ending in <id>/<file>, found 'x/a/'"));
  CHECK_THAT(with_lmk("a/a_0001.jpg 0 1 2 3 4 5 6 7 8 9 10\n./a/a_0001.jpg 0 1 2 3 4 5 6 7 8 9 11\n"),
             Contains(african_lmk + ":2: expected one set of landmarks per image, found a second, different one for "
                                    "a/a_0001.jpg (first at line 1)"));
  // Every line but the one for the first image.
  std::string lmk = good_lmk;
  const size_t at = lmk.find("m.0a1/m.0a1_0001.jpg");
  REQUIRE(at != std::string::npos);
  const size_t start = lmk.rfind('\n', at) + 1;
  lmk.erase(start, lmk.find('\n', at) + 1 - start);
  CHECK_THAT(with_lmk(lmk), Contains(african_lmk +
                                     ": expected a landmark line for test/data/African/m.0a1/m.0a1_0001.jpg "
                                     "(used at " +
                                     african + ":1), found none"));
  write_text(african_lmk, good_lmk);
  CHECK_NOTHROW(read_rfw(tree.dir.path()));
}

TEST_CASE("RFW reader reads the synthetic RFW writer's tree", "[datasets]") {
  TempDir dir("pair-lists-rfw-synthetic");
  ff::datasets::SyntheticOptions options;
  options.identities = 20;
  options.images_per_identity = 2;
  options.pair_identities = 8;
  options.pairs = 40;
  options.seed = 5;
  ff::datasets::SyntheticRfwOptions rfw;
  rfw.identities_per_race = 4;
  rfw.images_per_identity = 4;
  rfw.pairs = 20;
  ff::datasets::write_synthetic_rfw(options, rfw, dir / "rfw");
  const PairList list = ff::datasets::read_rfw(dir / "rfw");
  REQUIRE(list.pairs.size() == 80);
  REQUIRE(list.landmarks.size() == list.images.size());

  // Recomputed from the writer's files with streams: each race's pairs and its landmarks by path.
  std::vector<Expected> expected;
  std::map<std::string, std::array<float, 10>> landmarks;
  for (const std::string& race : ff::datasets::kSyntheticRfwRaces) {
    const fs::path txts = dir / "rfw" / "test" / "txts" / race;
    std::ifstream pairs(txts / (race + "_pairs.txt"));
    std::string line;
    for (int i = 0; std::getline(pairs, line); ++i) {
      std::istringstream in(line);
      std::vector<std::string> f;
      for (std::string field; in >> field;) f.push_back(field);
      REQUIRE((f.size() == 3 || f.size() == 4));
      const bool genuine = f.size() == 3;
      const auto image = [&](const std::string& id, const std::string& n) {
        return fmt::format("test/data/{}/{}/{}_{:04d}.jpg", race, id, id, std::stoi(n));
      };
      expected.push_back({image(f[0], f[1]), genuine ? image(f[0], f[2]) : image(f[2], f[3]), genuine, i / 2, race});
    }
    std::ifstream lmk(txts / (race + "_lmk.txt"));
    while (std::getline(lmk, line)) {
      std::istringstream in(line);
      std::string path, label;
      std::array<float, 10> p{};
      in >> path >> label;
      for (float& v : p) in >> v;
      REQUIRE(in);
      landmarks[path] = p;
    }
  }
  check_pairs(list, expected);
  for (size_t i = 0; i < list.images.size(); ++i) {
    INFO(list.images[i]);
    CHECK(fs::is_regular_file(list.root / list.images[i]));
    REQUIRE(landmarks.count(list.images[i]) == 1);
    CHECK(list.landmarks[i] == landmarks[list.images[i]]);
  }
}

TEST_CASE("Pair layout detection names lfw or rfw from what exists", "[datasets]") {
  TempDir dir("pair-lists-detect");
  using ff::datasets::detect_pair_layout;
  CHECK(detect_pair_layout(dir.path()).empty());
  write_text(dir / "pairs.txt", "10\t300\n");
  CHECK(detect_pair_layout(dir.path()) == "lfw");
  fs::create_directories(dir / "test" / "txts");
  CHECK_THROWS_WITH(
      detect_pair_layout(dir.path()),
      Contains(dir.path().string() + ": expected one pair layout, found both pairs.txt (LFW) and test/txts (RFW)"));
  fs::remove(dir / "pairs.txt");
  CHECK(detect_pair_layout(dir.path()) == "rfw");
}

}  // namespace
