// capgraph/render/map.hpp — hierarchical capability maps (`capgraph render`).
//
// A map draws a model's skills and tasks at one scale point: prerequisites
// below the tasks that need them (dot layout, tasks ranked by dependency
// depth), a cluster per `group`, "×n" on edges with several uses, every
// node filled with viridis(P) and labelled "label / gate / P = 0.42", a
// tooltip with the full numbers, and a colour legend. Optionally the
// bottleneck overlay of one task (edge widths by Birnbaum or improvement
// potential, the critical path bold in vermillion), and a focus on one
// task's cone with a depth limit.
//
// Large maps never run for minutes: when the drawing would exceed
// MapOptions::node_limit nodes, or dot's estimated work (nodes plus the
// virtual nodes of long edges) exceeds MapOptions::dot_work_limit, groups
// are collapsed into single nodes; if that is not enough (or there are no
// groups) the layout switches to sfdp (force-directed, ~0.5-1.5 s for 3,000
// nodes). Either way MapResult::notes says so, for the CLI to print.
//
// Presentation lives in MapStyle (map_style.hpp); Graphviz is driven by
// graphviz_writer.hpp. Text from the spec is escaped (escape.hpp); the SVG
// holds no script, no event handlers and no links.
//
// Errors: ModelError from evaluation (e.g. shared skills, not yet
// evaluable), std::invalid_argument for bad options (unknown focus index,
// overlay sized for another model), MapTooLarge beyond MapOptions::max_nodes,
// GraphvizError when Graphviz fails or PNG is unavailable (the message says
// what to do instead).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../graph/evaluation.hpp"
#include "../graph/importance.hpp"
#include "../graph/model.hpp"
#include "graphviz_writer.hpp"
#include "map_style.hpp"

namespace capgraph::render {

enum class MapFormat { svg, dot, png, pdf };

/// Where prerequisites go relative to the tasks that use them.
enum class MapDirection {
  bottom_to_top,  ///< Graphviz rankdir=BT: prerequisites below (default)
  top_to_bottom,  ///< TB: prerequisites above
  left_to_right,  ///< LR: prerequisites on the left
  right_to_left,  ///< RL
};

/// What the bottleneck overlay's edge widths show.
enum class BottleneckMeasure {
  birnbaum,   ///< B_i = dP_T/dP_i (docs/measures.md §6)
  potential,  ///< improvement potential IP_i = P_T(P_i = 1) - P_T
};

/// "svg" | "dot" | "png" | "pdf" (case-sensitive); nullopt otherwise.
std::optional<MapFormat> parse_map_format(std::string_view text);
/// "BT" | "TB" | "LR" | "RL" (any case); nullopt otherwise.
std::optional<MapDirection> parse_map_direction(std::string_view text);
/// "birnbaum" | "potential" (also "improvement"); nullopt otherwise.
std::optional<BottleneckMeasure> parse_bottleneck_measure(std::string_view text);

/// The bottleneck overlay of one task, per model node. Build it from the
/// bottleneck query's table with overlay_from_importance(), or by hand.
struct BottleneckOverlay {
  std::size_t task = 0;
  BottleneckMeasure measure = BottleneckMeasure::potential;
  /// Indexed by model node; nullopt outside the task's cone (and for the task).
  std::vector<std::optional<double>> birnbaum, improvement;
  /// task, ..., leaf (ImportanceTable::critical_path).
  std::vector<std::size_t> critical_path;
};

/// The overlay for `table` (from importance(model, task, x)), for a model
/// of `num_nodes` nodes. O(rows + nodes).
BottleneckOverlay overlay_from_importance(const ImportanceTable& table, BottleneckMeasure measure,
                                          std::size_t num_nodes);

/// The map would be too large to draw in reasonable time even with the
/// large-map strategy (more than MapOptions::max_nodes nodes after
/// collapsing groups). The message suggests --focus.
class MapTooLarge : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MapOptions {
  MapFormat format = MapFormat::svg;
  MapDirection direction = MapDirection::bottom_to_top;
  /// Draw only this node's cone (it and its prerequisites, transitively).
  std::optional<std::size_t> focus;
  /// With `focus`: levels of prerequisites below it to draw (-1 = all).
  /// Nodes whose prerequisites are cut are dashed and say "+n hidden".
  int focus_depth = -1;
  /// Draw only the nodes of this group ("" = the nodes without a group),
  /// one page of a map split by group. Prerequisites from other groups are
  /// not drawn; the nodes that use them say "+n hidden".
  std::optional<std::string> group;
  /// Bottleneck overlay of one task (see overlay_from_importance).
  std::optional<BottleneckOverlay> overlay;
  /// Above this many drawn nodes, collapse groups or switch to sfdp.
  std::size_t node_limit = 1500;
  /// Above this estimated dot work (nodes + virtual nodes of edges spanning
  /// several ranks), do the same: keeps `dot` within about 2 s here.
  std::size_t dot_work_limit = 6000;
  /// Hard limit: above this many nodes (after collapsing groups), even sfdp
  /// takes too long (~1 s per 1,500 nodes here): throw MapTooLarge.
  std::size_t max_nodes = 15000;
  /// The page the map is laid out for, in pt (default: a portrait text
  /// block of 16 x 24 cm). Rows of boxes (one dependency depth each) wider
  /// than the page allows are spread over several rows, so that the drawing
  /// fits the page at the largest scale (estimated before layout).
  double page_width = 16 / 2.54 * 72, page_height = 24 / 2.54 * 72;
  /// Aim at this width : height ratio instead of the page's.
  std::optional<double> aspect;
  /// At most this many boxes in one row (0: as the page decides).
  std::size_t max_skill_row = 0;
  /// Above this many edges, edges are drawn thinner and paler.
  std::size_t busy_edges = 60;
  /// PNG resolution (dots per inch).
  double dpi = 150;
  bool clusters = true;  ///< a box per `group` (dot layout only)
  bool legend = true;    ///< colour bar (SVG) / swatches (PNG, DOT) and keys
  /// Title drawn above the map; empty = "<spec name> — P at <scale>".
  std::string title;
  MapStyle style;
  /// Passed to evaluate() by render_map(model, x, ...) (shared-skill limits).
  EvalOptions evaluation;
};

struct MapResult {
  std::string data;                ///< the SVG / DOT text or PNG / PDF bytes
  std::vector<std::string> notes;  ///< what the CLI should tell the user (stderr)
  std::string engine;              ///< layout engine used: "dot" or "sfdp"
  std::size_t nodes = 0;           ///< drawn model nodes (after collapsing; no legend)
  std::size_t edges = 0;           ///< drawn edges (no legend)
  std::size_t clusters = 0;        ///< drawn group boxes
  bool collapsed_groups = false;   ///< the large-map strategy collapsed groups
  /// SVG: the node labels' size in pt once the whole drawing (legend
  /// included) is scaled to fit the page, in either orientation, never
  /// enlarged (what scripts/check-maps.sh measures). 0 for other formats.
  double smallest_label_at_page = 0;
};

/// The groups of the model's nodes in order of first appearance, "" last
/// when some node has no group: the pages of a map split by group.
std::vector<std::string> map_groups(const Model& model);

/// Evaluates `model` at axis value `x` (> 0) and draws the map.
/// Time: O(nodes + uses) plus the layout (dot: ~0.1 s for 100 nodes).
MapResult render_map(const Model& model, double x, const MapOptions& options = {});

/// Draws the map from an existing evaluation, at its point `point`.
MapResult render_map(const Evaluation& evaluation, std::size_t point, const MapOptions& options = {});

}  // namespace capgraph::render
