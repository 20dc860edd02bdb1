// SVG chart drawing: value ranges, ticks, axes, the plotted marks and the legend.
#include "src/report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace ff::report {

namespace {

constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                    "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};
const char* colour(size_t i) { return kPalette[i % (sizeof kPalette / sizeof kPalette[0])]; }

// Plot area inside the SVG: room for the title, axis labels and the legend on the right.
struct Frame {
  double left = 64, top = 34, right, bottom;
  double x0, x1, y0, y1;  // data ranges (x in log10 when log_x)
  bool log_x;
  double px(double x) const {
    const double v = log_x ? std::log10(x) : x;
    return left + (x1 == x0 ? 0.5 : (v - x0) / (x1 - x0)) * (right - left);
  }
  double py(double y) const { return bottom - (y1 == y0 ? 0.5 : (y - y0) / (y1 - y0)) * (bottom - top); }
};

std::string tick_label(double v) {
  if (v == 0) return "0";
  if (std::abs(v) >= 1e4 || std::abs(v) < 1e-3) return fmt::format("{:.0e}", v);
  return fmt::format("{:g}", v);
}

bool usable(const ChartOptions& o, double x, double y) {
  return std::isfinite(x) && std::isfinite(y) && (!o.log_x || x > 0);
}

std::string open_svg(const ChartOptions& o) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart {}\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "role=\"img\" aria-label=\"{}\"><title>{}</title>"
      "<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"white\"/>"
      "<text x=\"{}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">{}</text>",
      html_escape(o.css_class), o.width, o.height, o.width, o.height, html_escape(o.title), html_escape(o.title),
      o.width, o.height, o.width / 2, html_escape(o.title));
}

std::string legend(const std::vector<std::string>& names, const Frame& f) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    const double y = f.top + 8 + 18.0 * static_cast<double>(i);
    out += fmt::format(
        "<g class=\"legend-entry\"><rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"12\" height=\"12\" fill=\"{}\"/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\">{}</text></g>",
        f.right + 14, y - 10, colour(i), f.right + 30, y, html_escape(names[i]));
  }
  return out;
}

// Axes, grid, ticks and labels for a numeric frame.
std::string axes(const Frame& f, const ChartOptions& o) {
  std::string out = fmt::format(
      "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"black\"/>"
      "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{3:.1f}\" stroke=\"black\"/>",
      f.left, f.bottom, f.right, f.top);
  std::vector<double> xt;
  if (f.log_x) {
    for (double d = std::ceil(f.x0 - 1e-9); d <= f.x1 + 1e-9; d += 1) xt.push_back(std::pow(10.0, d));
  } else {
    xt = nice_ticks(f.x0, f.x1);
  }
  const double x_eps = 1e-9 * std::max(1.0, std::abs(f.x1 - f.x0));
  for (double x : xt) {
    const double v = f.log_x ? std::log10(x) : x;
    if (v < f.x0 - x_eps || v > f.x1 + x_eps) continue;
    const double px = f.px(x);
    out += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#e5e5e5\"/>"
        "<text x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"middle\" font-size=\"11\">{4}</text>",
        px, f.bottom, f.top, f.bottom + 15, html_escape(tick_label(x)));
  }
  for (double y : nice_ticks(f.y0, f.y1)) {
    if (y < f.y0 - 1e-9 * std::abs(f.y1 - f.y0) || y > f.y1 + 1e-9 * std::abs(f.y1 - f.y0)) continue;
    const double py = f.py(y);
    out += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#e5e5e5\"/>"
        "<text x=\"{3:.1f}\" y=\"{4:.1f}\" text-anchor=\"end\" font-size=\"11\">{5}</text>",
        f.left, py, f.right, f.left - 6, py + 4, html_escape(tick_label(y)));
  }
  out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"12\">{}</text>",
                     (f.left + f.right) / 2, f.bottom + 32, html_escape(o.x_label));
  out += fmt::format(
      "<text x=\"16\" y=\"{0:.1f}\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 16 {0:.1f})\">{1}</text>",
      (f.top + f.bottom) / 2, html_escape(o.y_label));
  for (const auto& [x, label] : o.x_marks) {
    if (!usable(o, x, 0)) continue;
    const double px = f.px(x);
    if (px < f.left - 0.5 || px > f.right + 0.5) continue;
    out += fmt::format(
        "<line class=\"mark\" x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#888\" "
        "stroke-dasharray=\"4 3\"/><text x=\"{3:.1f}\" y=\"{4:.1f}\" font-size=\"11\" fill=\"#555\">{5}</text>",
        px, f.bottom, f.top, px + 3, f.top + 12, html_escape(label));
  }
  return out;
}

Frame frame_for(const std::vector<Series>& series, const ChartOptions& o) {
  Frame f;
  f.log_x = o.log_x;
  f.right = o.width - 170;
  f.bottom = o.height - 48;
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const auto& s : series)
    for (const auto& [x, y] : s.points) {
      if (!usable(o, x, y)) continue;
      const double vx = o.log_x ? std::log10(x) : x;
      x0 = std::min(x0, vx), x1 = std::max(x1, vx), y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  for (const auto& [x, label] : o.x_marks)
    if (usable(o, x, 0)) {
      const double vx = o.log_x ? std::log10(x) : x;
      x0 = std::min(x0, vx), x1 = std::max(x1, vx);
    }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (o.y_from_zero) y0 = std::min(y0, 0.0), y1 = std::max(y1, 0.0);
  if (o.log_x) x0 = std::floor(x0), x1 = std::ceil(x1);
  if (x1 == x0) x0 -= 0.5, x1 += 0.5;
  if (y1 == y0) y0 -= 0.5, y1 += 0.5;
  // Round the y range out to the ticks so marks never sit on the frame's edge unlabelled.
  auto yt = nice_ticks(y0, y1);
  f.x0 = x0, f.x1 = x1, f.y0 = std::min(y0, yt.front()), f.y1 = std::max(y1, yt.back());
  if (!o.log_x) {
    auto xt = nice_ticks(x0, x1);
    f.x0 = std::min(x0, xt.front()), f.x1 = std::max(x1, xt.back());
  }
  return f;
}

std::string xy_chart(const std::vector<Series>& series, const ChartOptions& o, bool lines) {
  const Frame f = frame_for(series, o);
  std::string out = open_svg(o) + axes(f, o);
  std::vector<std::string> names;
  for (size_t i = 0; i < series.size(); ++i) {
    names.push_back(series[i].name);
    std::string path;
    for (const auto& [x, y] : series[i].points) {
      if (!usable(o, x, y)) continue;
      if (lines) path += fmt::format("{}{:.1f},{:.1f}", path.empty() ? "M" : " L", f.px(x), f.py(y));
      // Every point is marked, so a series of one point (one logged step) still shows.
      out += fmt::format("<circle class=\"point\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" fill=\"{}\"/>", f.px(x),
                         f.py(y), lines ? 2.5 : 4, colour(i));
    }
    if (lines && !path.empty())
      out += fmt::format("<path class=\"series\" d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>", path,
                         colour(i));
  }
  return out + legend(names, f) + "</svg>";
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / std::max(1, target);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * magnitude >= raw) {
      step = m * magnitude;
      break;
    }
  std::vector<double> ticks;
  for (double t = std::floor(lo / step) * step; t <= hi + step * 0.999; t += step) {
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
    if (t >= hi - step * 1e-9) break;
  }
  return ticks;
}

std::string line_chart(const std::vector<Series>& series, const ChartOptions& options) {
  return xy_chart(series, options, true);
}

std::string scatter_chart(const std::vector<Series>& series, const ChartOptions& options) {
  return xy_chart(series, options, false);
}

std::string bar_chart(const std::vector<std::string>& series_names, const std::vector<BarCategory>& categories,
                      const ChartOptions& o) {
  Frame f;
  f.log_x = false;
  f.right = o.width - 170;
  f.bottom = o.height - 48;
  double y0 = 0, y1 = 0;
  for (const auto& c : categories)
    for (double v : c.values)
      if (std::isfinite(v)) y0 = std::min(y0, v), y1 = std::max(y1, v);
  if (y1 == y0) y1 = y0 + 1;
  auto yt = nice_ticks(y0, y1);
  f.x0 = 0, f.x1 = 1, f.y0 = std::min(y0, yt.front()), f.y1 = std::max(y1, yt.back());
  std::string out = open_svg(o);
  out += fmt::format(
      "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"black\"/>"
      "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{3:.1f}\" stroke=\"black\"/>",
      f.left, f.py(0), f.right, f.top);
  for (double y : nice_ticks(f.y0, f.y1))
    out += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#e5e5e5\"/>"
        "<text x=\"{3:.1f}\" y=\"{4:.1f}\" text-anchor=\"end\" font-size=\"11\">{5}</text>",
        f.left, f.py(y), f.right, f.left - 6, f.py(y) + 4, html_escape(tick_label(y)));
  const double slot = (f.right - f.left) / std::max<size_t>(1, categories.size());
  const double bar = slot * 0.8 / std::max<size_t>(1, series_names.size());
  for (size_t c = 0; c < categories.size(); ++c) {
    const double x = f.left + slot * static_cast<double>(c) + slot * 0.1;
    for (size_t s = 0; s < categories[c].values.size(); ++s) {
      const double v = categories[c].values[s];
      if (!std::isfinite(v)) continue;
      const double top = std::min(f.py(v), f.py(0)), height = std::abs(f.py(v) - f.py(0));
      out += fmt::format(
          "<rect class=\"bar\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\">"
          "<title>{}: {}</title></rect>",
          x + bar * static_cast<double>(s), top, std::max(1.0, bar - 1), height, colour(s),
          html_escape(series_names[s] + " / " + categories[c].label), html_escape(fmt::format("{:.4g}", v)));
    }
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"11\">{}</text>", x + slot * 0.4,
                       f.bottom + 15, html_escape(categories[c].label));
  }
  out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"12\">{}</text>",
                     (f.left + f.right) / 2, f.bottom + 32, html_escape(o.x_label));
  out += fmt::format(
      "<text x=\"16\" y=\"{0:.1f}\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 16 {0:.1f})\">{1}</text>",
      (f.top + f.bottom) / 2, html_escape(o.y_label));
  return out + legend(series_names, f) + "</svg>";
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace ff::report
