// capgraph/render/map_style.hpp — how a capability map looks, decided from
// the evaluated numbers alone.
//
// The map code (map.cpp) walks the model and, for every node and edge it
// draws, hands the numbers to a MapStyle, which answers with a NodeLook /
// EdgeLook: plain text (not yet escaped), colours, shapes, widths. The
// Graphviz writer never sees a number. To change the look of every map,
// change this object (or pass a configured one in MapOptions::style).
//
// Colour: fill = viridis(P) (van der Walt & Smith; perceptually uniform,
// readable in greyscale and by the common colour-vision deficiencies), text
// black or white, whichever has the higher WCAG contrast on the fill.
// Shapes: skills ellipses, tasks rounded boxes, collapsed groups folders.
// Bottleneck overlay: edge width grows with the child's measure for the
// chosen task; the critical path in Okabe-Ito vermillion (#D55E00).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../graph/model_spec.hpp"

namespace capgraph::render {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
  /// "#rrggbb", lower case.
  std::string hex() const;
  friend bool operator==(const Rgb&, const Rgb&) = default;
};

/// Viridis at t in [0, 1] (clamped; NaN gives 0): the 256-entry table of
/// matplotlib's viridis (CC0), linear interpolation between entries.
Rgb viridis(double t);

/// WCAG 2 relative luminance in [0, 1].
double relative_luminance(Rgb c);
/// WCAG 2 contrast ratio (1..21) of two colours.
double contrast_ratio(Rgb a, Rgb b);
/// Black or white, whichever contrasts more with `fill`.
Rgb readable_text_on(Rgb fill);

/// The Okabe & Ito (2008) colour-blind-safe palette, in its published
/// order: black, orange, sky blue, bluish green, yellow, blue, vermillion,
/// reddish purple.
const std::vector<Rgb>& okabe_ito();

/// `text` broken at spaces into lines of at most `width` bytes, balanced
/// (the widest line as narrow as the line count allows); more than
/// `max_lines` lines only when words are longer than `width`: then lines
/// widen instead. width 0 or a short text: one line.
std::vector<std::string> wrap_words(const std::string& text, std::size_t width, std::size_t max_lines);

/// "all of 3", "any of 2", "at least 2 of 5", "best of 10", "mean of 4"
/// (counts include multiplicities; `mean` counts references).
std::string gate_text(const NodeSpec& task);
/// "logistic(mid = 2e9, slope = 1.2)", "points(4 knots: 1e8 → 0.05, …)", …
std::string curve_text(const Curve& curve);

/// The numbers a style sees for one drawn node.
struct NodeFacts {
  std::size_t index = 0;               ///< node index in the model (unused for groups)
  const NodeSpec* spec = nullptr;      ///< nullptr for a collapsed group
  double p = 0;                        ///< P at the map's scale point (group: median)
  double log_p = 0;                    ///< ln P (group: unused)
  std::string scale_text;              ///< "N = 1e10" (or "C = 1e22 FLOPs (N = …)")
  /// Every metric the task reports, as (label, value); empty for skills.
  std::vector<std::pair<std::string, double>> metrics;
  std::optional<double> threshold;     ///< tasks
  std::vector<std::string> children;   ///< display names of the references, spec order
  std::size_t hidden_children = 0;     ///< prerequisites cut off by a focus depth limit

  // bottleneck overlay
  bool overlay_task = false;           ///< the task whose bottlenecks are shown
  bool on_critical_path = false;
  std::optional<double> birnbaum, improvement;  ///< of this node for the overlay task

  // collapsed group
  std::string group;                   ///< group name (for a collapsed group: its name)
  std::size_t members = 0;             ///< collapsed group: nodes inside
  double p_min = 0, p_max = 0;         ///< collapsed group: range of P
};

/// How a node is drawn. Text is plain UTF-8; the map code escapes it.
struct NodeLook {
  std::vector<std::string> label_lines;
  std::string tooltip;                 ///< multi-line
  std::string shape;                   ///< Graphviz shape name
  std::string style;                   ///< Graphviz style list, e.g. "filled,rounded"
  Rgb fill, font_color, outline;
  double penwidth = 1;
  std::string css_class;               ///< SVG class: "skill", "task", "group", "critical", …
};

/// The numbers a style sees for one drawn edge (prerequisite -> task).
struct EdgeFacts {
  const NodeSpec* task = nullptr;      ///< nullptr if the task is a collapsed group
  double uses = 1;                     ///< total use count (or weight under `mean`)
  std::size_t merged = 1;              ///< collapsed groups: references merged in this edge
  bool in_overlay = false;             ///< edge lies in the overlay task's cone
  bool on_critical_path = false;
  std::optional<double> measure;       ///< overlay measure of the prerequisite
  double measure_max = 0;              ///< largest measure over the cone (for scaling)
  std::string tail_name, head_name;    ///< display names (tooltip)
  bool between_groups = false;         ///< an end is a collapsed group
  bool busy = false;                   ///< the map has many edges: draw them light
};

struct EdgeLook {
  std::string label;                   ///< "×3", "w 2", "" (plain text)
  std::string tooltip;
  Rgb color;
  double penwidth = 1;
  std::string style;                   ///< "", "bold", "dashed"
  std::string css_class;
};

/// The map's look. Small and copyable; every member documented here is a
/// knob the CLI may expose.
class MapStyle {
 public:
  /// A CSS font stack. Labels are measured with its first font that is
  /// installed (Graphviz's pango text layout, through fontconfig), so that
  /// font must be the one viewers draw with: DejaVu Sans ships with Debian
  /// (fonts-dejavu-core) and most Linux desktops; Verdana, its close
  /// relative in width, stands in elsewhere.
  std::string font = "DejaVu Sans,Verdana,Geneva,sans-serif";
  double font_size = 11;
  /// Node names longer than this many characters wrap at spaces onto up to
  /// three lines, so a long name makes a taller node, not a wide one. 0
  /// (the library's default): names stay on one line, as written; the CLI
  /// wraps at 18 (`render --wrap`).
  std::size_t wrap_chars = 0;
  /// Digits after the point for P in labels (tooltips always show 4 sig. digits).
  int p_digits = 2;
  bool show_gate = true;               ///< gate text on task labels
  Rgb edge_color{0x55, 0x55, 0x55};
  Rgb faded_edge_color{0xbb, 0xbb, 0xbb};  ///< edges outside the overlay cone
  Rgb critical_color{0xd5, 0x5e, 0x00};    ///< Okabe-Ito vermillion
  Rgb cluster_color{0x99, 0x99, 0x99};
  Rgb busy_edge_color{0x88, 0x88, 0x88};   ///< edges of a busy map (many edges)
  double busy_edge_width = 0.6;
  double max_edge_width = 7;           ///< overlay: width of the largest measure

  /// Fill for a probability: viridis(P).
  Rgb fill_for(double p) const { return viridis(p); }
  /// "P = 0.42", "P = 3.1e-07", "P = 0", "P = 1", "P > 0.9999".
  std::string p_text(double p) const;

  NodeLook node(const NodeFacts& facts) const;
  EdgeLook edge(const EdgeFacts& facts) const;
};

}  // namespace capgraph::render
