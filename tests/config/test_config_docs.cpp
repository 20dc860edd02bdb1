// docs/config.md must document every key the schema accepts (and no key it does not).
#include <catch2/catch.hpp>

#include <regex>
#include <set>

#include "src/train/run_config.h"
#include "src/util/atomic_file.h"
#include "support.h"

TEST_CASE("docs/config.md lists exactly the schema's keys", "[config][docs]") {
  ff::train::RunConfig config;
  auto schema = ff::train::make_schema(config);
  std::string doc = ff::read_file(ff::test::source_dir() / "docs" / "config.md");
  std::set<std::string> documented;
  std::regex row(R"(^\| `([a-z0-9_.\[\]]+)` \|)");  // list elements: data.sources[].format
  std::istringstream lines(doc);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_search(line, m, row)) documented.insert(m[1]);
  }
  auto keys = schema.keys();
  std::set<std::string> known(keys.begin(), keys.end());
  for (const auto& key : keys) {
    INFO("key " << key);
    CHECK(documented.count(key) == 1);
  }
  for (const auto& key : documented) {
    INFO("documented key " << key);
    CHECK(known.count(key) == 1);
  }
}
