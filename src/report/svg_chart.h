// Inline SVG charts for the HTML report: line, scatter and grouped bar charts with axes, ticks,
// labels and a legend. Plain strings in, one <svg> element out; no scripts, no external resources.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ff::report {

struct Series {
  std::string name;                               // legend entry
  std::vector<std::pair<double, double>> points;  // (x, y); non-finite points are skipped
};

struct ChartOptions {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::string css_class;          // added to the <svg> (tests and styling find charts by it)
  bool log_x = false;             // decades on x (x must be > 0; other points are skipped)
  bool y_from_zero = false;       // include 0 in the y range
  std::vector<std::pair<double, std::string>> x_marks;  // vertical reference lines with labels
  int width = 640;
  int height = 340;
};

std::string line_chart(const std::vector<Series>& series, const ChartOptions& options);
std::string scatter_chart(const std::vector<Series>& series, const ChartOptions& options);

// Bars grouped by category: values[s] is series s's bar in that category (NaN = no bar).
struct BarCategory {
  std::string label;
  std::vector<double> values;
};
std::string bar_chart(const std::vector<std::string>& series_names, const std::vector<BarCategory>& categories,
                      const ChartOptions& options);

// &, <, >, " and ' as entities: safe in element text and attribute values.
std::string html_escape(std::string_view text);

// "Nice" tick values (1, 2, 5 x 10^k steps) covering [lo, hi], about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target = 5);

}  // namespace ff::report
