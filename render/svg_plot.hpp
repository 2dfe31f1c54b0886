// capgraph/render/svg_plot.hpp — a small, deterministic SVG line-plot writer.
//
// Knows panels, log-x / linear-y axes, lines, dashed reference lines,
// markers and a legend; knows nothing of capability models (plot.cpp turns
// a model's sweep into a Figure). Output: SVG 1.1 with real <text>
// elements, numbers printed with fixed decimals (std::to_chars: locale
// independent), ids numbered in drawing order, so the same Figure always
// gives the same bytes. Text is XML-escaped here; callers pass plain UTF-8.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace capgraph::render {

/// One line in a panel.
struct PlotLine {
  std::string label;                 ///< legend: first line (task name)
  std::string detail;                ///< legend: second line (measures); may hold
                                     ///< "{x:<value>}" which prints as a×10^b
  std::size_t color = 0;             ///< index into the Okabe-Ito line palette
  std::vector<double> x, y;          ///< x > 0; non-finite y break the line
  std::optional<double> crossing;    ///< x where it crosses the panel's threshold
  std::optional<double> crossing_y;  ///< the threshold it crosses
};

/// Observed points in a panel (hollow markers).
struct PlotPoints {
  std::string label;
  std::size_t color = 0;
  std::size_t marker = 0;            ///< 0 circle, 1 square, 2 triangle, 3 diamond, ...
  std::vector<double> x, y;
  std::vector<double> lo, hi;        ///< per point, an interval drawn as a whisker; empty = none
};

/// A dashed horizontal reference line (a threshold).
struct PlotHLine {
  double y = 0;
  std::string label;                 ///< e.g. "threshold 0.5"
};

struct PlotPanel {
  std::string title;                 ///< above the panel
  std::string y_label;               ///< rotated, left of the axis
  /// y range; unset = from the data (nice rounded).
  std::optional<double> y_min, y_max;
  std::vector<PlotLine> lines;
  std::vector<PlotPoints> points;
  std::vector<PlotHLine> hlines;
};

struct PlotFigure {
  std::string title;
  std::string x_label;               ///< e.g. "parameters N"
  double x_min = 1, x_max = 10;      ///< log axis range (> 0)
  /// Optional second tick row under the x axis: the value shown at each
  /// major tick (e.g. N at a given C), with its name ("N").
  std::function<double(double)> secondary;
  std::string secondary_label;
  std::vector<PlotPanel> panels;
  double panel_width = 300, panel_height = 220;
};

/// The Okabe-Ito colours in the order used for lines (blue, vermillion,
/// bluish green, reddish purple, orange, sky blue, black, yellow).
const std::vector<std::string>& plot_palette();

/// Writes the figure as a standalone SVG document.
std::string write_svg_plot(const PlotFigure& figure);

// ---- pieces, exposed for tests --------------------------------------------

/// Major ticks of a log axis over [lo, hi]: powers of ten (every k-th when
/// there are many decades), or 1-2-5 steps when the range spans < 1.5 decades.
std::vector<double> log_ticks(double lo, double hi);
/// 3-7 "nice" (1, 2, 2.5, 5 × 10^k) ticks covering [lo, hi].
std::vector<double> linear_ticks(double lo, double hi);
/// SVG markup for a number as "a×10<tspan …>b</tspan>" (or "10^b" when a is
/// 1, plain digits when 0.01 <= |v| < 1e4); `digits` significant digits.
std::string sci_markup(double v, int digits = 2);

}  // namespace capgraph::render
