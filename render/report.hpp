// capgraph/render/report.hpp — the interactive report (`capgraph report`).
//
// One self-contained HTML file: the capability map of render_map() (same
// layout, so its legibility carries over), a scale slider over the sweep
// that recolours every node by its P at that point, a side panel with a
// node's metrics, curves and (for a task) its bottleneck table, search, and
// a cone filter. Every script, style and datum is inline; the page fetches
// nothing (docs/report.md).
//
// What the page shows is computed here, not in the browser: P, the label
// text and the colours of every node at every sweep point (by the map's
// own MapStyle), every task's metrics, and the top rows of its bottleneck
// table (importance()) at every point. P and the metrics are embedded at
// full precision (shortest round-trip decimal), so they equal the CLI's
// `sweep` at each point; bottleneck values at the 4 significant digits the
// CLI's tables print, which is what the page shows.
//
// Safety: a spec is untrusted input. The map's SVG escapes its text
// (escape.hpp); the data travel as gzipped JSON in base64 inside a
// <script type="application/octet-stream"> element, so no string can close
// the element; the page's script inflates and parses it (JSON.parse) and
// writes strings into the DOM as text only. The page has no eval and no
// handler attributes.
//
// Output is deterministic: the same model and options give the same bytes.
//
// Errors: what evaluate(), importance() and render_map() throw (ModelError,
// MapTooLarge, GraphvizError); std::invalid_argument for an empty or
// non-positive sweep.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "../graph/evaluation.hpp"
#include "../graph/model.hpp"
#include "map.hpp"
#include "plot.hpp"

namespace capgraph::render {

struct ReportOptions {
  /// Sweep points along the axis (increasing, > 0); empty = the spec's
  /// scale block (range and points).
  std::vector<double> xs;
  /// Bottleneck rows kept per task and sweep point (the table's top rows).
  std::size_t bottleneck_rows = 5;
  /// The map's layout and look (format is always SVG here). Its overlay
  /// and title are set by the report.
  MapOptions map;
  /// Observed scores drawn over a node's curves (ObservedSeries::node names
  /// the task; metric nullopt = exact match).
  std::vector<ObservedSeries> observed;
  /// Passed to evaluate() and importance() (threads, shared-skill limits).
  EvalOptions evaluation;
  /// Uncertainty bands around every node's P and every task's probability
  /// metrics (a fitted spec's intervals): each entry is one draw of the
  /// fitted skills' curves. The band at a point holds the central
  /// `band_level` share of the draws' values there (order statistics).
  /// Empty: no bands. `band_source` says on the page where they come from.
  std::vector<Overrides> band_draws;
  double band_level = 0.95;
  std::string band_source;
};

struct ReportResult {
  std::string html;
  /// The page's data as JSON text (docs/report.md), before it is gzipped
  /// and base64-encoded into the page.
  std::string data;
  std::vector<std::string> notes;  ///< for the CLI to print (stderr), also shown on the page
  std::size_t points = 0;          ///< sweep points embedded
  std::size_t nodes = 0;           ///< model nodes with data
  std::size_t bottleneck_tables = 0;  ///< (task, point) tables embedded
};

/// Evaluates the model over the sweep, lays the map out once and writes
/// the page. Time: one evaluation over the sweep (and one per band draw),
/// one bottleneck query per task and point (O(cone) each), one map layout.
ReportResult render_report(const Model& model, const ReportOptions& options = {});

}  // namespace capgraph::render
