// capgraph/render/plot.hpp — metric curves over scale (`capgraph plot`).
//
// One panel per metric, side by side, each with its own y range (the
// log-likelihood panel has its own scale); in each panel one line per task
// (Okabe-Ito colours, the same task the same colour in every panel) over a
// log x axis of the scale (N on the params axis; C with a second tick row
// giving N on the compute axis). Probability panels draw the task's
// threshold as a dashed line and mark where each curve crosses it. The
// legend under each panel gives every line's emergence measures
// (docs/measures.md §5): breakthroughness B, transition width in decades, and the
// threshold crossing. Observed points (e.g. from --data) are drawn as
// hollow markers on the panel of their metric.
//
// The SVG is written by hand (svg_plot.hpp): real <text>, deterministic
// bytes, no run-time dependency; see docs/decisions.md "Curve plots:
// hand-written SVG". Text from the spec is XML-escaped.
//
// Errors: ModelError from evaluation; std::invalid_argument for options
// that name no task, a task index out of range, or a bad range.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "../graph/evaluation.hpp"
#include "../graph/model.hpp"

namespace capgraph::render {

/// Observed data drawn over the curves (e.g. published benchmark scores).
struct ObservedSeries {
  std::string label;          ///< legend text, e.g. "Pythia (word_unscrambling)"
  std::vector<double> x, y;   ///< x on the plot's axis (N, or C on a compute axis); x > 0
  /// The panel it belongs to; nullopt = the first panel. A metric no panel
  /// shows also goes to the first panel, with a note.
  std::optional<Metric> metric;
  /// The spec node the series measures ("" = none): when that task is
  /// plotted, its points take the task's line colour (marker shapes tell
  /// the series apart); otherwise a colour of their own.
  std::string node;
  /// Per point, the 95 % prediction interval of a fit (`fit --predictions`),
  /// drawn as a whisker; empty = none.
  std::vector<double> lo, hi;
};

struct PlotOptions {
  /// Tasks (node indices) to draw, in this order; empty = every task.
  std::vector<std::size_t> tasks;
  /// Metrics, one panel each, in this order. Empty = the union of the
  /// tasks' metrics in order of first appearance, and a task is drawn in a
  /// panel only if it reports that metric. Given explicitly, every task is
  /// drawn in every panel.
  std::vector<Metric> metrics;
  /// Sweep range and points along the axis; unset = the spec's scale block.
  /// The emergence measures use exactly this grid (as `capgraph sweep`
  /// does); the lines are drawn on a grid at least 241 points dense.
  std::optional<double> from, to;
  std::optional<int> points;
  std::vector<ObservedSeries> observed;
  /// Log-likelihood panel: ln P / steps instead of ln P.
  bool log_likelihood_per_step = false;
  std::string title;              ///< empty = the spec's name
  double panel_width = 300;       ///< plot area of one panel, px
  double panel_height = 220;
  EvalOptions evaluation;         ///< passed to evaluate()
};

struct PlotResult {
  std::string svg;
  std::vector<std::string> notes;  ///< for the CLI to print (stderr)
  std::size_t panels = 0;
  std::size_t lines = 0;           ///< task × metric curves drawn
};

/// Evaluates the model over the sweep and writes the figure. Time:
/// O((nodes + uses) * points) for the evaluation, O(lines * points) output.
PlotResult render_plot(const Model& model, const PlotOptions& options = {});

}  // namespace capgraph::render
