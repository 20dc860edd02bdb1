// Checks src/report/: chart geometry and ticks worked by hand, and the whole report of a fixture
// store rendered by headless Chromium (Debian's chromium) to a PNG screenshot and to its DOM.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "../store/fixture_store.h"
#include "src/report/html_report.h"
#include "src/report/svg_chart.h"
#include "src/util/atomic_file.h"
#include "support.h"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

TEST_CASE("svg charts: ticks, escaping and the data-to-pixel mapping worked by hand", "[report]") {
  auto ticks_equal = [](const std::vector<double>& got, const std::vector<double>& want) {
    if (got.size() != want.size()) return false;
    for (size_t i = 0; i < got.size(); ++i)
      if (std::abs(got[i] - want[i]) > 1e-12) return false;
    return true;
  };
  CHECK(ticks_equal(ff::report::nice_ticks(0, 1), {0, 0.2, 0.4, 0.6, 0.8, 1}));
  CHECK(ticks_equal(ff::report::nice_ticks(0, 10), {0, 2, 4, 6, 8, 10}));
  // (47 - 3) / 4 = 11 per tick wanted: the next 1-2-5 step is 20, from 0 (below 3) to 60 (above 47).
  CHECK(ticks_equal(ff::report::nice_ticks(3, 47, 4), {0, 20, 40, 60}));
  // 0.0032 / 5 = 0.00064 wanted: 5e-4 is too small, so 1e-3 steps, ending at the first tick >= 0.0042.
  CHECK(ticks_equal(ff::report::nice_ticks(0.001, 0.0042), {0.001, 0.002, 0.003, 0.004, 0.005}));
  CHECK(ff::report::html_escape("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
  // 640 x 340: the plot area is x in [64, 470], y in [34, 292]; (0, 0) is its bottom-left corner
  // and (10, 1) its top-right.
  std::string svg = ff::report::line_chart({{"run <1>", {{0, 0}, {5, 0.5}, {10, 1}}}},
                                           {.title = "T & U", .x_label = "step", .y_label = "acc", .css_class = "roc"});
  CHECK_THAT(svg, Contains("d=\"M64.0,292.0 L267.0,163.0 L470.0,34.0\""));
  CHECK_THAT(svg, Contains("class=\"chart roc\"") && Contains("T &amp; U") && Contains("run &lt;1&gt;"));
  // Log x: decades 1e-3 .. 1 over the same width; 1e-2 sits a third of the way.
  svg = ff::report::line_chart({{"r", {{1e-3, 0}, {1e-2, 0.5}, {1, 1}}}}, {.log_x = true});
  CHECK_THAT(svg, Contains("d=\"M64.0,292.0 L199.3,163.0 L470.0,34.0\""));
  // Bars: two series over two categories, heights proportional to the values from 0.
  svg = ff::report::bar_chart({"a", "b"}, {{"x", {1, 0.5}}, {"y", {0.25, std::nan("")}}}, {});
  CHECK(std::count(svg.begin(), svg.end(), '<') > 0);
  size_t bars = 0;
  for (size_t at = svg.find("class=\"bar\""); at != std::string::npos; at = svg.find("class=\"bar\"", at + 1)) ++bars;
  CHECK(bars == 3);  // the NaN draws no bar
  CHECK_THAT(svg, Contains("height=\"258.0\""));  // value 1 spans the whole plot height
  CHECK_THAT(svg, Contains("height=\"129.0\""));  // 0.5: half of it
}

TEST_CASE("report: one self-contained page with leaderboards, ROC, fairness and latency, rendered by Chromium",
          "[report][slow]") {
  ff::test::TempDir dir("report");
  const std::string db = (dir / "results.db").string();
  ff::test::write_fixture_store(db);
  const fs::path html = dir / "report.html";
  auto run = ff::test::run_command(ff::test::faceforge_binary() + " report --db " + db + " --out " + html.string());
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  const std::string page = ff::read_file(html);
  // Self-contained: no scripts, no fetched resources (the SVG namespace URI is a name, not a fetch).
  CHECK(page.find("<script") == std::string::npos);
  CHECK(page.find(" src=") == std::string::npos);
  CHECK(page.find(" href=") == std::string::npos);
  CHECK(page.find("https://") == std::string::npos);

  const std::string chromium = ff::test::run_command("command -v chromium || command -v chromium-browser").output;
  INFO("chromium: " << chromium);
  REQUIRE_FALSE(chromium.empty());  // scripts/setup.sh installs Debian's chromium
  const std::string browser = chromium.substr(0, chromium.find('\n'));
  const std::string flags = " --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking"
                            " --user-data-dir=" + (dir / "profile").string() + " ";
  auto dom = ff::test::run_command(browser + flags + "--dump-dom file://" + html.string() + " 2>/dev/null");
  REQUIRE(dom.exit_code == 0);
  const std::string& d = dom.output;
  // Leaderboard: IJB-C 1:1 ranked by TAR@FAR=1e-4, cosface (0.962) above arcface (0.955).
  const size_t board = d.find("data-target=\"ijbc\"");
  REQUIRE(board != std::string::npos);
  const size_t cos = d.find("r50_cosface", board), arc = d.find("r50_arcface", board);
  CHECK(cos < arc);
  CHECK_THAT(d, Contains("96.20%") && Contains("95.50%"));
  // At least one ROC chart with a drawn curve, and the fairness table with its groups.
  const size_t roc = d.find("class=\"chart roc\"");
  REQUIRE(roc != std::string::npos);
  CHECK(d.find("class=\"series\"", roc) != std::string::npos);
  const size_t fairness = d.find("class=\"fairness\"");
  REQUIRE(fairness != std::string::npos);
  CHECK(d.find("African", fairness) != std::string::npos);
  CHECK(d.find("8.00%", fairness) != std::string::npos);  // arcface's African FNMR
  CHECK_THAT(d, Contains("class=\"chart fairness-bars\"") && Contains("class=\"chart latency-chart\"") &&
                    Contains("class=\"chart curve\"") && Contains("dcface"));

  const fs::path png = dir / "report.png";
  auto shot = ff::test::run_command(browser + flags + "--window-size=1200,3000 --screenshot=" + png.string() +
                                    " file://" + html.string() + " 2>&1");
  INFO(shot.output);
  REQUIRE(fs::exists(png));
  // The screenshot is a 1200 x 3000 image with drawn content: more than 3% of it is not white.
  cv::Mat image = cv::imread(png.string(), cv::IMREAD_GRAYSCALE);
  REQUIRE_FALSE(image.empty());
  CHECK(image.cols == 1200);
  CHECK(image.rows == 3000);
  const double inked = static_cast<double>(cv::countNonZero(image < 250)) / static_cast<double>(image.total());
  CHECK(inked > 0.03);
}
