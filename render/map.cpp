// capgraph/render/map.cpp — the traversal side of a capability map: which
// nodes and edges are drawn, with which facts; the large-map strategy; the
// legend. Looks come from MapStyle, layout from graphviz_writer.
#include "render/map.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "render/escape.hpp"
#include "text/number_format.hpp"

namespace capgraph::render {

namespace {

using text::fixed;  // coordinates and sizes in the DOT attributes and the legend

// Spacing, in inches (Graphviz's unit): tight, so that a map of 50-200
// boxes still fits a page at a readable size. The label margins are about
// the least at which text stays inside rounded boxes (corners) and ellipses
// (which circumscribe the label box) in Chromium (scripts/check-maps.sh).
constexpr double kNodeSep = 0.1, kRankSep = 0.22, kMarginX = 0.1, kMarginY = 0.06;
// Drawn rows come out about this much wider than the sum of their boxes:
// edges passing through a row take room (dot's virtual nodes), and boxes
// do not pack perfectly (measured on the examples' maps).
constexpr double kSpread = 1.35;

// ---- small helpers ----------------------------------------------------------

bool is_spec_id(const std::string& s) {
  if (s.empty()) return false;
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!alpha(s[0])) return false;
  for (char c : s)
    if (!alpha(c) && !(c >= '0' && c <= '9') && c != '.' && c != '-') return false;
  return true;
}

std::string label_attr(const std::vector<std::string>& lines) {
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) out += (i ? "\\n" : "") + gv_label_text(lines[i]);
  return out;
}

std::string scale_text(const Model& m, const ScalePoint& pt) {
  if (m.axis().spec().axis == Axis::compute)
    return "C = " + text::compact(pt.C, 3) + " FLOPs (N = " + text::compact(pt.N, 3) + ")";
  return "N = " + text::compact(pt.N, 3);
}

const char* rankdir(MapDirection d) {
  switch (d) {
    case MapDirection::bottom_to_top: return "BT";
    case MapDirection::top_to_bottom: return "TB";
    case MapDirection::left_to_right: return "LR";
    case MapDirection::right_to_left: return "RL";
  }
  return "BT";
}

// `want`, or `want_2`, `want_3`, ... if taken; recorded in `used`.
std::string unique_name(std::unordered_set<std::string>& used, const std::string& want) {
  std::string name = want;
  for (int k = 2; !used.insert(name).second; ++k) name = want + "_" + std::to_string(k);
  return name;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

// ---- what is drawn ------------------------------------------------------------

// One drawn box: a model node, or a collapsed group of model nodes.
struct Box {
  std::optional<std::size_t> node;  // model node, or nullopt for a group
  std::string group;                // group name (collapsed group)
  std::vector<std::size_t> members; // collapsed group members
  int depth = 0;
  std::size_t hidden = 0;
};

struct Link {
  std::size_t tail = 0, head = 0;  // boxes: prerequisite -> task
  double uses = 0;
  std::size_t merged = 0;
  std::size_t task_node = 0;       // model task (first reference, for the gate)
  std::size_t child_node = 0;      // model prerequisite (first reference)
};

struct Scene {
  std::vector<Box> boxes;
  std::vector<Link> links;
  bool collapsed = false;
};

// The model nodes in the focus cone (or all), and per node how many of its
// prerequisites are not drawn.
std::vector<char> select_nodes(const Model& m, const MapOptions& o, std::vector<std::size_t>& hidden) {
  const std::size_t n = m.size();
  std::vector<char> sel(n, 0);
  hidden.assign(n, 0);
  if (o.group) {
    for (std::size_t v = 0; v < n; ++v) sel[v] = m.node(v).group == *o.group;
  } else if (!o.focus) {
    std::fill(sel.begin(), sel.end(), 1);
    return sel;
  } else {
    std::vector<int> dist(n, -1);
    std::deque<std::size_t> queue{*o.focus};
    dist[*o.focus] = 0;
    while (!queue.empty()) {
      const std::size_t v = queue.front();
      queue.pop_front();
      if (o.focus_depth >= 0 && dist[v] >= o.focus_depth) continue;
      for (std::size_t u = m.use_begin(v); u < m.use_end(v); ++u) {
        const std::size_t c = m.use_child(u);
        if (dist[c] < 0) {
          dist[c] = dist[v] + 1;
          queue.push_back(c);
        }
      }
    }
    for (std::size_t v = 0; v < n; ++v) sel[v] = dist[v] >= 0;
  }
  for (std::size_t v = 0; v < n; ++v) {
    if (!sel[v]) continue;
    std::set<std::size_t> cut;
    for (std::size_t u = m.use_begin(v); u < m.use_end(v); ++u)
      if (!sel[m.use_child(u)]) cut.insert(m.use_child(u));
    hidden[v] = cut.size();
  }
  return sel;
}

Scene full_scene(const Model& m, const std::vector<char>& sel, const std::vector<std::size_t>& hidden) {
  Scene s;
  std::vector<std::size_t> box_of(m.size(), SIZE_MAX);
  for (std::size_t v = 0; v < m.size(); ++v) {
    if (!sel[v]) continue;
    box_of[v] = s.boxes.size();
    Box b;
    b.node = v;
    b.depth = m.depth(v);
    b.hidden = hidden[v];
    s.boxes.push_back(std::move(b));
  }
  for (std::size_t v = 0; v < m.size(); ++v) {
    if (!sel[v] || !m.node(v).is_task) continue;
    std::map<std::size_t, std::size_t> link_of_child;  // merge repeated references
    for (const Use& u : m.node(v).uses) {
      if (!sel[u.node]) continue;
      auto [it, fresh] = link_of_child.try_emplace(u.node, s.links.size());
      if (fresh) s.links.push_back(Link{box_of[u.node], box_of[v], 0, 0, v, u.node});
      s.links[it->second].uses += u.count;
      s.links[it->second].merged += 1;
    }
  }
  for (Link& l : s.links) l.merged = 1;  // one reference target: show the summed count
  return s;
}

Scene collapsed_scene(const Model& m, const std::vector<char>& sel, const std::vector<std::size_t>& hidden) {
  Scene s;
  s.collapsed = true;
  std::vector<std::size_t> box_of(m.size(), SIZE_MAX);
  std::unordered_map<std::string, std::size_t> group_box;
  for (std::size_t v = 0; v < m.size(); ++v) {
    if (!sel[v]) continue;
    const std::string& g = m.node(v).group;
    if (g.empty()) {
      box_of[v] = s.boxes.size();
      Box b;
      b.node = v;
      b.depth = m.depth(v);
      b.hidden = hidden[v];
      s.boxes.push_back(std::move(b));
      continue;
    }
    auto [it, fresh] = group_box.try_emplace(g, s.boxes.size());
    if (fresh) {
      Box b;
      b.group = g;
      s.boxes.push_back(std::move(b));
    }
    s.boxes[it->second].members.push_back(v);
    box_of[v] = it->second;
  }
  for (Box& b : s.boxes) {
    if (b.node) continue;
    std::vector<double> depths;
    for (std::size_t v : b.members) depths.push_back(m.depth(v));
    b.depth = static_cast<int>(std::lround(median(std::move(depths))));
  }
  std::map<std::pair<std::size_t, std::size_t>, std::size_t> link_of;
  for (std::size_t v = 0; v < m.size(); ++v) {
    if (!sel[v] || !m.node(v).is_task) continue;
    for (const Use& u : m.node(v).uses) {
      if (!sel[u.node]) continue;
      const std::size_t t = box_of[u.node], h = box_of[v];
      if (t == h) continue;  // inside one group
      auto [it, fresh] = link_of.try_emplace({t, h}, s.links.size());
      if (fresh) s.links.push_back(Link{t, h, 0, 0, v, u.node});
      s.links[it->second].uses += u.count;
      s.links[it->second].merged += 1;
    }
  }
  return s;
}

// An edge of a collapsed scene that goes against the depth order (groups
// can depend on each other both ways) does not constrain the ranking.
bool constrains(const Scene& s, const Link& l) {
  return !s.collapsed || s.boxes[l.tail].depth < s.boxes[l.head].depth;
}

// dot's work: nodes, plus per edge one unit and one virtual node per rank
// it crosses (boxes are ranked by dependency depth).
std::size_t dot_work(const Scene& s) {
  std::size_t work = s.boxes.size();
  for (const Link& l : s.links) {
    const int span = std::abs(s.boxes[l.head].depth - s.boxes[l.tail].depth);
    work += static_cast<std::size_t>(std::max(0, span - 1)) + 1;
  }
  return work;
}

bool has_groups(const Model& m, const std::vector<char>& sel) {
  for (std::size_t v = 0; v < m.size(); ++v)
    if (sel[v] && !m.node(v).group.empty()) return true;
  return false;
}

// ---- building the Graphviz graph ------------------------------------------

// How the row plan's size estimates are scaled: along the rows (edges
// passing through a row take room: dot's virtual nodes) and across them.
// render_map calibrates both on a first layout.
struct Tuning {
  double along = kSpread, across = 1;
};

struct Built {
  GvGraph graph;
  std::size_t clusters = 0;
  // The row plan (dot): its estimated drawing size in pt, rows along `est_along`.
  double est_along = 0, est_across = 0, budget = 0;
  std::map<std::string, std::size_t> shelf_of;
};

void add_look(GvAttrs& a, const NodeLook& look) {
  a.emplace_back("label", label_attr(look.label_lines));
  a.emplace_back("tooltip", gv_tooltip_text(look.tooltip));
  a.emplace_back("shape", look.shape);
  a.emplace_back("style", look.style);
  a.emplace_back("fillcolor", look.fill.hex());
  a.emplace_back("fontcolor", look.font_color.hex());
  a.emplace_back("color", look.outline.hex());
  a.emplace_back("penwidth", fixed(look.penwidth, 2));
  if (!look.css_class.empty()) a.emplace_back("class", look.css_class);
}

struct Context {
  const Evaluation& ev;
  std::size_t j;
  const MapOptions& o;
  std::string scale;
};

// The bottleneck overlay, indexed for drawing.
struct OverlayIndex {
  const BottleneckOverlay* ov = nullptr;
  std::vector<char> on_path;
  std::set<std::pair<std::size_t, std::size_t>> path_edges;  // (child, task)
  double measure_max = 0;

  std::optional<double> measure_of(std::size_t v) const {
    if (!ov) return std::nullopt;
    return (ov->measure == BottleneckMeasure::birnbaum ? ov->birnbaum : ov->improvement)[v];
  }
};

OverlayIndex index_overlay(const Context& cx, const Scene& s) {
  OverlayIndex x;
  x.ov = (cx.o.overlay && !s.collapsed) ? &*cx.o.overlay : nullptr;
  x.on_path.assign(cx.ev.model().size(), 0);
  if (!x.ov) return x;
  const auto& path = x.ov->critical_path;
  for (std::size_t i = 0; i < path.size(); ++i) {
    x.on_path[path[i]] = 1;
    if (i + 1 < path.size()) x.path_edges.insert({path[i + 1], path[i]});
  }
  for (const Box& bx : s.boxes)
    if (bx.node)
      if (auto mv = x.measure_of(*bx.node)) x.measure_max = std::max(x.measure_max, std::abs(*mv));
  if (x.measure_max == 0) x.measure_max = 1;  // keep the overlay active (all zero)
  return x;
}

void set_graph_attrs(GvGraph& g, const Context& cx, const Scene& s, bool dot, const std::string& title) {
  const MapStyle& st = cx.o.style;
  g.graph_attrs = {{"fontname", st.font}, {"fontsize", fixed(st.font_size + 3, 1)}, {"label", gv_label_text(title)},
                   {"labelloc", "t"}, {"outputorder", "edgesfirst"}, {"pad", "0.2"}};
  if (dot) {
    g.graph_attrs.insert(g.graph_attrs.end(), {{"rankdir", rankdir(cx.o.direction)}, {"newrank", "true"},
                                               {"nodesep", fixed(kNodeSep, 2)}, {"ranksep", fixed(kRankSep, 2)}});
    if (s.collapsed) g.graph_attrs.emplace_back("splines", "line");
    const std::size_t work = dot_work(s);
    if (!s.collapsed && work > 1500) {
      // Cheaper crossing minimisation and positioning for big drawings
      // (measured: 1,000 deep nodes 5 s -> 0.9 s), straight edge segments.
      const double f = std::clamp(1500.0 / static_cast<double>(work), 0.1, 1.0);
      g.graph_attrs.insert(g.graph_attrs.end(), {{"mclimit", fixed(f, 2)}, {"nslimit", fixed(f, 2)},
                                                 {"nslimit1", fixed(f, 2)}, {"splines", "polyline"}});
    }
  } else {
    g.graph_attrs.insert(g.graph_attrs.end(), {{"overlap", "prism"}, {"splines", "false"}, {"outputorder", "edgesfirst"}});
  }
  const std::string fs = fixed(st.font_size, 1);
  // sfdp keeps roomier margins: with the tight ones its overlap removal
  // (prism) took a fifth longer on 3,000 nodes.
  const std::string margin = dot ? fixed(kMarginX, 3) + "," + fixed(kMarginY, 3) : std::string("0.12,0.06");
  g.node_defaults = {{"fontname", st.font}, {"fontsize", fs}, {"margin", margin}, {"height", "0.3"}};
  g.edge_defaults = {{"fontname", st.font}, {"fontsize", fixed(st.font_size - 1, 1)}, {"arrowsize", "0.6"},
                     {"fontcolor", "#333333"}};
}

// The facts of one drawn box, for MapStyle::node().
NodeFacts box_facts(const Context& cx, const OverlayIndex& ox, const Box& bx) {
  const Model& m = cx.ev.model();
  NodeFacts f;
  f.scale_text = cx.scale;
  if (!bx.node) {
    std::vector<double> ps;
    for (std::size_t v : bx.members) ps.push_back(cx.ev.p(v, cx.j));
    f.p = median(ps);
    f.p_min = *std::min_element(ps.begin(), ps.end());
    f.p_max = *std::max_element(ps.begin(), ps.end());
    f.group = bx.group;
    f.members = bx.members.size();
    return f;
  }
  const std::size_t v = *bx.node;
  const NodeSpec& n = m.node(v);
  f.index = v;
  f.spec = &n;
  f.p = cx.ev.p(v, cx.j);
  f.log_p = cx.ev.log_p(v, cx.j);
  f.group = n.group;
  f.hidden_children = bx.hidden;
  if (n.is_task) {
    for (const Metric& mt : m.metrics(v)) {
      f.metrics.emplace_back(metric_label(mt), cx.ev.metric(v, mt, cx.j));
      if (mt.kind == MetricKind::log_likelihood)
        f.metrics.emplace_back("log_likelihood per step", cx.ev.log_likelihood_per_step(v, cx.j));
    }
    f.threshold = m.threshold(v);
    for (const Use& u : n.uses) {
      std::string c = m.node(u.node).display_name();
      if (u.count != 1) c += (n.gate == GateKind::mean ? " (w " : " (\u00d7") + text::compact(u.count, 4) + ")";
      f.children.push_back(std::move(c));
    }
  }
  if (ox.ov) {
    f.overlay_task = v == ox.ov->task;
    f.on_critical_path = ox.on_path[v] != 0;
    f.birnbaum = ox.ov->birnbaum[v];
    f.improvement = ox.ov->improvement[v];
  }
  return f;
}

// A box's size before layout, in pt, from its label: an estimate (DejaVu
// Sans averages about 0.6 em per character) used only to plan rows; the
// layout itself measures the text.
struct BoxSize {
  double w = 0, h = 0;
};

BoxSize estimate_size(const NodeLook& look, double font_size) {
  std::size_t longest = 0;
  for (const std::string& line : look.label_lines) longest = std::max(longest, line.size());
  double w = 0.6 * font_size * static_cast<double>(longest) + 2 * kMarginX * 72;
  double h = 1.2 * font_size * static_cast<double>(look.label_lines.size()) + 2 * kMarginY * 72;
  if (look.shape == "ellipse") {  // Graphviz circumscribes the text box
    w *= std::sqrt(2.0);
    h *= std::sqrt(2.0);
  }
  return {w, h};
}

// Adds a node per box; returns each box's estimated size.
std::vector<BoxSize> add_nodes(GvGraph& g, const Context& cx, const Scene& s, const OverlayIndex& ox,
                               std::unordered_set<std::string>& used,
                               std::map<std::string, std::vector<std::size_t>>& cluster_members,
                               std::vector<std::string>& cluster_order, bool dot) {
  const Model& m = cx.ev.model();
  std::vector<BoxSize> sizes;
  for (std::size_t bi = 0; bi < s.boxes.size(); ++bi) {
    const Box& bx = s.boxes[bi];
    GvNode gn;
    if (bx.node) {
      const NodeSpec& n = m.node(*bx.node);
      gn.name = unique_name(used, is_spec_id(n.id) ? n.id : "_node" + std::to_string(*bx.node));
      if (dot && cx.o.clusters && !n.group.empty()) {
        auto [it, fresh] = cluster_members.try_emplace(n.group);
        if (fresh) cluster_order.push_back(n.group);
        it->second.push_back(bi);
      }
    } else {
      gn.name = unique_name(used, "_group" + std::to_string(bi));
    }
    const NodeLook look = cx.o.style.node(box_facts(cx, ox, bx));
    sizes.push_back(estimate_size(look, cx.o.style.font_size));
    add_look(gn.attrs, look);
    g.nodes.push_back(std::move(gn));
  }
  return sizes;
}

void add_edges(GvGraph& g, const Context& cx, const Scene& s, const OverlayIndex& ox, bool dot) {
  const Model& m = cx.ev.model();
  // Many edges: thinner and paler, so that crossings do not turn to ink.
  const bool busy = s.links.size() > cx.o.busy_edges;
  for (const Link& l : s.links) {
    EdgeFacts f;
    const Box& tb = s.boxes[l.tail];
    const Box& hb = s.boxes[l.head];
    f.task = hb.node ? &m.node(*hb.node) : nullptr;
    f.uses = l.uses;
    f.merged = l.merged;
    f.tail_name = tb.node ? m.node(*tb.node).display_name() : tb.group;
    f.head_name = hb.node ? m.node(*hb.node).display_name() : hb.group;
    f.between_groups = !tb.node || !hb.node;
    f.busy = busy;
    if (ox.ov && tb.node && hb.node) {
      const std::size_t c = *tb.node, t = *hb.node;
      f.measure_max = ox.measure_max;
      f.measure = ox.measure_of(c);
      f.in_overlay = f.measure.has_value() && (t == ox.ov->task || ox.measure_of(t).has_value());
      f.on_critical_path = ox.path_edges.count({c, t}) > 0;
    } else if (ox.ov) {
      f.measure_max = ox.measure_max;
    }
    const EdgeLook look = cx.o.style.edge(f);
    GvEdge e{l.tail, l.head, {}};
    // Use counts as xlabels (placed after layout: a plain edge label would
    // be a node of its own and double every rank); only on full layered
    // maps; elsewhere the text stays in the tooltip.
    if (!look.label.empty() && dot && !s.collapsed) e.attrs.emplace_back("xlabel", gv_label_text(look.label));
    if (dot && !constrains(s, l)) e.attrs.emplace_back("constraint", "false");
    e.attrs.emplace_back("tooltip", gv_tooltip_text(look.tooltip));
    e.attrs.emplace_back("color", look.color.hex());
    e.attrs.emplace_back("penwidth", fixed(look.penwidth, 2));
    if (busy) e.attrs.emplace_back("arrowsize", "0.45");
    if (!look.style.empty()) e.attrs.emplace_back("style", look.style);
    if (!look.css_class.empty()) e.attrs.emplace_back("class", look.css_class);
    g.edges.push_back(std::move(e));
  }
}

void add_clusters(GvGraph& g, const Context& cx, const std::map<std::string, std::vector<std::size_t>>& members,
                  const std::vector<std::string>& order) {
  const MapStyle& st = cx.o.style;
  for (const std::string& name : order) {
    GvCluster c;
    c.attrs = {{"label", gv_label_text(name)}, {"style", "rounded"}, {"color", st.cluster_color.hex()},
               {"fontcolor", "#555555"}, {"fontsize", fixed(st.font_size, 1)}, {"labeljust", "l"},
               // rankdir=BT turns "b" into the top edge of the box
               {"labelloc", cx.o.direction == MapDirection::bottom_to_top ? "b" : "t"}, {"class", "group"},
               {"margin", "6"}};
    c.nodes = members.at(name);
    g.clusters.push_back(std::move(c));
  }
}

// More sub-rows than this only add long edges (each a column of virtual
// nodes in dot) and empty space.
constexpr std::size_t kMaxStagger = 3;

// Rows and shelves for the page. Every box gets its rank explicitly:
//  - within its group, by its local depth: the longest path to it from
//    prerequisites of the same group, so that a group that builds on
//    another need not start where that one ends;
//  - a (group, depth) row wider than the page allows is spread over up to
//    kMaxStagger rows (Graphviz's unflatten idea: its k-th box goes
//    k mod L rows up);
//  - groups (cluster boxes) sit side by side on shelves, bottom-aligned,
//    and the shelves are stacked, so that groups use both directions
//    instead of one long strip; a group that others build on goes lower.
// Rows are rank=same sets chained by invisible edges; an edge that would
// run against the rows (between groups) does not constrain the ranking.
// The row budget and the shelf count are those for which the estimated
// drawing fits the page (or aspect) at the largest scale.
struct RowPlan {
  std::vector<std::string> group_of;            // per box: its group ("" = none)
  std::vector<int> depth;                       // per box: its depth within its group
  std::vector<std::string> groups;              // in shelf order
  std::map<std::string, std::size_t> shelf_of;  // group -> shelf
  double budget = 0;
  double est_along = 0, est_across = 0;         // the estimated drawing, pt
};

// Groups in dependency order: a group before every group that uses it
// (Kahn's algorithm, ties and cycles broken by first appearance).
std::vector<std::string> groups_in_dependency_order(const Scene& s, const std::vector<std::string>& group_of) {
  std::vector<std::string> order;
  std::map<std::string, std::size_t> index;
  for (const std::string& gname : group_of)
    if (index.try_emplace(gname, order.size()).second) order.push_back(gname);
  const std::size_t n = order.size();
  std::vector<std::set<std::size_t>> uses(n);  // uses[b] = groups b builds on
  for (const Link& l : s.links) {
    const std::size_t a = index[group_of[l.tail]], b = index[group_of[l.head]];
    if (a != b) uses[b].insert(a);
  }
  std::vector<char> placed(n, 0);
  std::vector<std::string> out;
  while (out.size() < n) {
    std::size_t pick = n;
    for (std::size_t i = 0; i < n && pick == n; ++i) {
      if (placed[i]) continue;
      bool ready = true;
      for (std::size_t a : uses[i]) ready = ready && placed[a];
      if (ready) pick = i;
    }
    if (pick == n)  // a cycle between groups: take the first left
      for (std::size_t i = 0; i < n && pick == n; ++i)
        if (!placed[i]) pick = i;
    placed[pick] = 1;
    out.push_back(order[pick]);
  }
  return out;
}

// Per box, the longest path to it from boxes of its own group. Boxes are
// visited by their depth in the model, which every constraining link
// increases, so a tail is always done before its head.
std::vector<int> local_depths(const Scene& s, const std::vector<std::string>& group_of) {
  const std::size_t n = s.boxes.size();
  std::vector<std::vector<std::size_t>> tails(n);
  for (const Link& l : s.links)
    if (group_of[l.tail] == group_of[l.head] && constrains(s, l)) tails[l.head].push_back(l.tail);
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return s.boxes[a].depth < s.boxes[b].depth; });
  std::vector<int> depth(n, 0);
  for (std::size_t b : order)
    for (std::size_t t : tails[b]) depth[b] = std::max(depth[b], depth[t] + 1);
  return depth;
}

// Per (group, depth): extent along the row, box count, thickest box.
struct Cell {
  double along = 0, thick = 0;
  std::size_t count = 0;
};
using Cells = std::map<std::string, std::map<int, Cell>>;

std::size_t sub_rows(const Cell& c, double budget, std::size_t max_row) {
  std::size_t n = static_cast<std::size_t>(std::ceil(c.along / budget - 1e-9));
  if (max_row > 0) n = std::max(n, (c.count + max_row - 1) / max_row);
  return std::clamp<std::size_t>(n, 1, std::min(c.count, kMaxStagger));
}

// Chooses the row budget and the shelves (see RowPlan).
RowPlan plan_rows(const Context& cx, const Scene& s, const std::vector<BoxSize>& sizes, const Tuning& tune,
                  Cells& cells) {
  const MapOptions& o = cx.o;
  const bool across = o.direction == MapDirection::left_to_right || o.direction == MapDirection::right_to_left;
  double page_w = o.aspect ? *o.aspect * o.page_height : o.page_width, page_h = o.page_height;
  if (across) std::swap(page_w, page_h);  // rows run down the page
  const double nodesep = kNodeSep * 72, ranksep = kRankSep * 72, pad = 16;
  // The title and the legend (SVG) take a band of the page.
  const double band = 30 + (o.legend ? 130 : 0);

  RowPlan plan;
  for (const Box& bx : s.boxes)
    plan.group_of.push_back(bx.node && o.clusters ? cx.ev.model().node(*bx.node).group : std::string());
  plan.groups = groups_in_dependency_order(s, plan.group_of);
  plan.depth = local_depths(s, plan.group_of);
  for (std::size_t bi = 0; bi < s.boxes.size(); ++bi) {
    Cell& c = cells[plan.group_of[bi]][plan.depth[bi]];
    c.along += (across ? sizes[bi].h : sizes[bi].w) + nodesep;
    c.thick = std::max(c.thick, across ? sizes[bi].w : sizes[bi].h);
    ++c.count;
  }
  // A group's estimated width and height for a budget.
  auto group_size = [&](const std::string& gname, double budget) {
    double w = 0, h = 0;
    for (const auto& [d, c] : cells[gname]) {
      const std::size_t n = sub_rows(c, budget, o.max_skill_row);
      w = std::max(w, tune.along * c.along / static_cast<double>(n));
      h += tune.across * static_cast<double>(n) * (c.thick + ranksep);
    }
    return std::pair<double, double>{w + (gname.empty() ? 0 : pad), h + (gname.empty() ? 0 : pad)};
  };
  // Shelves: groups in order, a new shelf when the current one would pass `limit`.
  auto shelve = [&](double budget, double limit, std::map<std::string, std::size_t>& shelf_of, double& w, double& h) {
    double shelf_w = 0, shelf_h = 0;
    w = h = 0;
    std::size_t shelf = 0;
    for (const std::string& gname : plan.groups) {
      const auto [gw, gh] = group_size(gname, budget);
      if (shelf_w > 0 && shelf_w + gw > limit) {
        w = std::max(w, shelf_w);
        h += shelf_h;
        shelf_w = shelf_h = 0;
        ++shelf;
      }
      shelf_of[gname] = shelf;
      shelf_w += gw + nodesep;
      shelf_h = std::max(shelf_h, gh);
    }
    w = std::max(w, shelf_w);
    h += shelf_h;
    if (across) return std::min(page_w / (w + band), page_h / h);
    return std::min(page_w / w, page_h / (h + band));
  };
  double best_scale = -1;
  for (const auto& [gname, by_depth] : cells)
    for (const auto& [d, c] : by_depth)
      for (std::size_t k = 1; k <= std::min(c.count, kMaxStagger); ++k) {
        const double budget = c.along / static_cast<double>(k);
        double total = 0;
        for (const std::string& gn : plan.groups) total += group_size(gn, budget).first + nodesep;
        for (std::size_t shelves = 1; shelves <= plan.groups.size(); ++shelves) {
          std::map<std::string, std::size_t> shelf_of;
          double w = 0, h = 0;
          const double scale = shelve(budget, total / static_cast<double>(shelves) + 1e-6, shelf_of, w, h);
          if (scale > best_scale * (1 + 1e-9)) {
            best_scale = scale;
            plan.budget = budget;
            plan.shelf_of = std::move(shelf_of);
            plan.est_along = w;
            plan.est_across = h;
          }
        }
      }
  return plan;
}

// Ranks every box (see RowPlan): rank=same rows, chained bottom to top.
RowPlan add_rows(GvGraph& g, const Context& cx, const Scene& s, const std::vector<BoxSize>& sizes, const Tuning& tune) {
  Cells cells;
  const RowPlan plan = plan_rows(cx, s, sizes, tune, cells);
  const std::size_t max_row = cx.o.max_skill_row;
  // Within each group: the first row of each depth, and the group's rows.
  std::map<std::string, std::map<int, std::size_t>> first_row;
  std::map<std::size_t, std::size_t> shelf_rows;
  for (const auto& [gname, by_depth] : cells) {
    std::size_t rows = 0;
    for (const auto& [d, c] : by_depth) {
      first_row[gname][d] = rows;
      rows += sub_rows(c, plan.budget, max_row);
    }
    std::size_t& sr = shelf_rows[plan.shelf_of.at(gname)];
    sr = std::max(sr, rows);
  }
  std::map<std::size_t, std::size_t> shelf_base;
  std::size_t base = 0;
  for (const auto& [shelf, rows] : shelf_rows) {
    shelf_base[shelf] = base;
    base += rows;
  }
  std::vector<std::size_t> rank(s.boxes.size());
  std::vector<std::vector<std::size_t>> rows(base);
  std::map<std::pair<std::string, int>, std::size_t> seen;  // stagger counted per cell
  for (std::size_t bi = 0; bi < s.boxes.size(); ++bi) {
    const std::string& gname = plan.group_of[bi];
    const int d = plan.depth[bi];
    const std::size_t n = sub_rows(cells[gname][d], plan.budget, max_row);
    rank[bi] = shelf_base[plan.shelf_of.at(gname)] + first_row[gname][d] + seen[{gname, d}]++ % n;
    rows[rank[bi]].push_back(bi);
  }
  for (std::size_t i = 0; i < s.links.size(); ++i) {
    const Link& l = s.links[i];
    if (constrains(s, l) && rank[l.head] <= rank[l.tail]) g.edges[i].attrs.emplace_back("constraint", "false");
    // Edges between groups do not pull the groups sideways: the shelves decide where groups go.
    if (plan.group_of[l.tail] != plan.group_of[l.head]) g.edges[i].attrs.emplace_back("weight", "0");
  }
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (rows[r].empty()) continue;
    g.ranks.push_back(GvRank{"same", rows[r]});
    if (r + 1 < rows.size() && !rows[r + 1].empty())
      g.edges.push_back(GvEdge{rows[r].front(), rows[r + 1].front(), {{"style", "invis"}, {"weight", "0"}, {"class", "row"}}});
  }
  // Groups in the same column of consecutive shelves are pulled on top of
  // each other (the top box of one to the lowest box of the next), so that
  // the shelves stack instead of drifting apart.
  std::map<std::size_t, std::vector<std::string>> shelves;
  for (const std::string& gname : plan.groups) shelves[plan.shelf_of.at(gname)].push_back(gname);
  auto extreme_box = [&](const std::string& gname, bool top) {
    std::size_t pick = SIZE_MAX;
    for (std::size_t bi = 0; bi < s.boxes.size(); ++bi)
      if (plan.group_of[bi] == gname && (pick == SIZE_MAX || (top ? rank[bi] > rank[pick] : rank[bi] < rank[pick])))
        pick = bi;
    return pick;
  };
  for (auto it = shelves.begin(); it != shelves.end() && std::next(it) != shelves.end(); ++it) {
    const std::vector<std::string>& below = it->second;
    const std::vector<std::string>& above = std::next(it)->second;
    for (std::size_t c = 0; c < std::max(below.size(), above.size()); ++c)
      g.edges.push_back(GvEdge{extreme_box(below[std::min(c, below.size() - 1)], true),
                               extreme_box(above[std::min(c, above.size() - 1)], false),
                               {{"style", "invis"}, {"weight", "3"}, {"class", "shelf"}}});
  }
  return plan;
}

void add_legend_swatches(GvGraph& g, const Context& cx, std::unordered_set<std::string>& used) {
  const MapStyle& st = cx.o.style;
  std::vector<std::size_t> row;
  GvNode cap{unique_name(used, "_legend_caption"),
             {{"label", gv_label_text("P at " + cx.scale)}, {"shape", "plaintext"}, {"class", "legend"}}};
  row.push_back(g.nodes.size());
  g.nodes.push_back(std::move(cap));
  for (int i = 0; i <= 4; ++i) {
    const double p = i / 4.0;
    const Rgb fill = st.fill_for(p);
    GvNode sw{unique_name(used, "_legend_" + std::to_string(i)),
              {{"label", fixed(p, 2)}, {"shape", "box"}, {"style", "filled"}, {"fillcolor", fill.hex()},
               {"fontcolor", readable_text_on(fill).hex()}, {"color", fill.hex()}, {"width", "0.5"},
               {"height", "0.25"}, {"fixedsize", "true"}, {"class", "legend"}}};
    row.push_back(g.nodes.size());
    g.nodes.push_back(std::move(sw));
  }
  g.ranks.push_back(GvRank{"same", row});  // one row, in input order
}

Built build_graph(const Context& cx, const Scene& s, const std::string& engine, bool legend_nodes,
                  const std::string& title, const Tuning& tune = {}) {
  const bool dot = engine == "dot";
  Built b;
  GvGraph& g = b.graph;
  set_graph_attrs(g, cx, s, dot, title);
  const OverlayIndex ox = index_overlay(cx, s);
  // Node names: the spec id when it is a valid id, else a generated one.
  std::unordered_set<std::string> used;
  std::map<std::string, std::vector<std::size_t>> cluster_members;
  std::vector<std::string> cluster_order;
  const std::vector<BoxSize> sizes = add_nodes(g, cx, s, ox, used, cluster_members, cluster_order, dot);
  add_edges(g, cx, s, ox, dot);
  add_clusters(g, cx, cluster_members, cluster_order);
  b.clusters = g.clusters.size();
  if (dot) {
    RowPlan plan = add_rows(g, cx, s, sizes, tune);
    b.est_along = plan.est_along;
    b.est_across = plan.est_across;
    b.budget = plan.budget;
    b.shelf_of = std::move(plan.shelf_of);
  }
  if (legend_nodes && dot) add_legend_swatches(g, cx, used);  // PNG / DOT (SVG gets a drawn colour bar)
  return b;
}

// ---- SVG legend ------------------------------------------------------------

// Reads `name="<number>..."` in the <svg> header.
bool read_attr_number(const std::string& svg, std::size_t from, const std::string& name, double& value,
                      std::size_t& pos, std::size_t& end) {
  pos = svg.find(name + "=\"", from);
  if (pos == std::string::npos) return false;
  const char* begin = svg.data() + pos + name.size() + 2;
  auto res = std::from_chars(begin, svg.data() + svg.size(), value);
  if (res.ec != std::errc()) return false;
  end = static_cast<std::size_t>(res.ptr - svg.data());
  return true;
}

// What the map shows, so that the legend explains exactly that.
struct LegendFacts {
  std::string overlay_task;   // display name; empty without the overlay
  bool hidden = false;        // some node says "+n hidden"
  bool busy = false;          // edges drawn thin and pale
  bool collapsed = false;     // groups drawn as folders
  bool tasks = false;         // some task is drawn (gate text)
};

std::string legend_fragment(const MapOptions& o, const std::string& scale, const LegendFacts& facts,
                            const std::vector<std::string>& extra, double& width, double& height) {
  const std::string& overlay_task = facts.overlay_task;
  const MapStyle& st = o.style;
  const std::string font = " font-family=\"" + xml_escape(st.font) + "\"";
  std::string s;
  const double bar_x = 20, bar_y = 26, bar_w = 220, bar_h = 12;
  s += "<defs><linearGradient id=\"capgraph-viridis\" x1=\"0\" y1=\"0\" x2=\"1\" y2=\"0\">";
  for (int i = 0; i <= 16; ++i)
    s += "<stop offset=\"" + fixed(i / 16.0, 4) + "\" stop-color=\"" + st.fill_for(i / 16.0).hex() + "\"/>";
  s += "</linearGradient></defs>\n";
  s += "<text x=\"" + fixed(bar_x, 2) + "\" y=\"18\"" + font + " font-size=\"10.00\" fill=\"#222222\">" +
       xml_escape("P (success) at " + scale) + "</text>\n";
  s += "<rect x=\"" + fixed(bar_x, 2) + "\" y=\"" + fixed(bar_y, 2) + "\" width=\"" + fixed(bar_w, 2) +
       "\" height=\"" + fixed(bar_h, 2) + "\" fill=\"url(#capgraph-viridis)\" stroke=\"#333333\" stroke-width=\"0.5\"/>\n";
  for (int i = 0; i <= 4; ++i) {
    const double x = bar_x + bar_w * i / 4.0;
    s += "<line x1=\"" + fixed(x, 2) + "\" y1=\"" + fixed(bar_y + bar_h, 2) + "\" x2=\"" + fixed(x, 2) + "\" y2=\"" +
         fixed(bar_y + bar_h + 3, 2) + "\" stroke=\"#333333\" stroke-width=\"0.5\"/>";
    s += "<text x=\"" + fixed(x, 2) + "\" y=\"" + fixed(bar_y + bar_h + 13, 2) + "\" text-anchor=\"middle\"" + font +
         " font-size=\"9.00\" fill=\"#222222\">" + fixed(i / 4.0, 2) + "</text>\n";
  }
  // Shape key.
  const double kx = bar_x + bar_w + 28;
  s += "<ellipse cx=\"" + fixed(kx + 12, 2) + "\" cy=\"" + fixed(bar_y + 6, 2) +
       "\" rx=\"12.00\" ry=\"7.00\" fill=\"#dddddd\" stroke=\"#333333\" stroke-width=\"0.75\"/>";
  s += "<text x=\"" + fixed(kx + 30, 2) + "\" y=\"" + fixed(bar_y + 9.5, 2) + "\"" + font +
       " font-size=\"10.00\" fill=\"#222222\">skill</text>\n";
  s += "<rect x=\"" + fixed(kx + 64, 2) + "\" y=\"" + fixed(bar_y - 1, 2) +
       "\" width=\"24.00\" height=\"14.00\" rx=\"3.00\" fill=\"#dddddd\" stroke=\"#333333\" stroke-width=\"0.75\"/>";
  s += "<text x=\"" + fixed(kx + 94, 2) + "\" y=\"" + fixed(bar_y + 9.5, 2) + "\"" + font +
       " font-size=\"10.00\" fill=\"#222222\">task</text>\n";
  width = kx + 130;
  double y = bar_y + bar_h + 30;
  if (!overlay_task.empty()) {
    const std::string what =
        o.overlay->measure == BottleneckMeasure::birnbaum ? "Birnbaum importance" : "improvement potential";
    s += "<line x1=\"" + fixed(bar_x, 2) + "\" y1=\"" + fixed(y - 4, 2) + "\" x2=\"" + fixed(bar_x + 28, 2) + "\" y2=\"" +
         fixed(y - 4, 2) + "\" stroke=\"" + st.critical_color.hex() + "\" stroke-width=\"3.00\"/>";
    const std::string text = "critical path of " + overlay_task + "; edge width: " + what + " for " + overlay_task;
    s += "<text x=\"" + fixed(bar_x + 36, 2) + "\" y=\"" + fixed(y, 2) + "\"" + font +
         " font-size=\"10.00\" fill=\"#222222\">" + xml_escape(text) + "</text>\n";
    width = std::max(width, bar_x + 36 + 6.2 * static_cast<double>(text.size()));
    y += 16;
  }
  // The key: every mark on the map that the colour bar does not explain.
  std::vector<std::string> key;
  key.push_back("arrow: prerequisite \u2192 the task that uses it");
  if (!facts.collapsed) key.push_back("\u00d7n on an arrow: used n times; w n: its weight in a mean");
  if (facts.tasks) {
    key.push_back("task: name, gate, P. Gates: all of n (every use succeeds), any of n (one does),");
    key.push_back("at least k of n, best of n (independent attempts), mean of n (weighted mean score)");
  }
  if (facts.collapsed) key.push_back("folder: a collapsed group, its node count and median P");
  if (!overlay_task.empty()) key.push_back("grey edges: outside the prerequisites of " + overlay_task);
  if (facts.busy) key.push_back("edges drawn thin and grey: the map has many edges");
  if (facts.hidden) key.push_back("dashed outline, +n hidden: n prerequisites not drawn on this map");
  for (const std::string& line : key) {
    s += "<text x=\"" + fixed(bar_x, 2) + "\" y=\"" + fixed(y, 2) + "\"" + font +
         " font-size=\"10.00\" fill=\"#222222\">" + xml_escape(line) + "</text>\n";
    width = std::max(width, bar_x + 6.2 * static_cast<double>(line.size()));
    y += 14;
  }
  for (const std::string& line : extra) {
    s += "<text x=\"" + fixed(bar_x, 2) + "\" y=\"" + fixed(y, 2) + "\"" + font +
         " font-size=\"10.00\" font-style=\"italic\" fill=\"#222222\">" + xml_escape(line) + "</text>\n";
    width = std::max(width, bar_x + 6.2 * static_cast<double>(line.size()));
    y += 16;
  }
  height = y - 4;
  return s;
}

// Appends the legend below Graphviz's drawing: grows width/height/viewBox of
// the <svg> element and adds <g id="legend"> before </svg>. On very wide
// drawings the legend is scaled up so that it stays readable at fit-to-page.
std::string add_svg_legend(const std::string& svg, const std::string& fragment, double lw, double lh) {
  std::size_t p0, e0, p1, e1;
  double w, h;
  const std::size_t svg_at = svg.find("<svg ");
  if (svg_at == std::string::npos || !read_attr_number(svg, svg_at, "width", w, p0, e0) ||
      !read_attr_number(svg, svg_at, "height", h, p1, e1))
    return svg;
  // viewBox="0.00 0.00 W H"
  const std::size_t vpos = svg.find("viewBox=\"", svg_at);
  const std::size_t close = svg.rfind("</svg>");
  if (vpos == std::string::npos || close == std::string::npos) return svg;
  const std::size_t vend = svg.find('"', vpos + 9);
  const std::string vbtext = svg.substr(vpos + 9, vend - vpos - 9);
  double vals[4];
  const char* ptr = vbtext.data();
  const char* end = vbtext.data() + vbtext.size();
  for (double& v : vals) {
    while (ptr < end && *ptr == ' ') ++ptr;
    auto res = std::from_chars(ptr, end, v);
    if (res.ec != std::errc()) return svg;
    ptr = res.ptr;
  }
  const double vw = vals[2], vh = vals[3];
  const double k = std::clamp(vw / 1200.0, 1.0, 8.0);
  const double nw = std::max(vw, lw * k), nh = vh + lh * k;
  std::string out;
  out.reserve(svg.size() + fragment.size() + 256);
  out += svg.substr(0, p0);
  out += "width=\"" + fixed(std::ceil(std::max(w, nw)), 0) + "pt\" height=\"" + fixed(std::ceil(h + lh * k), 0) + "pt\"";
  out += svg.substr(e1 + 3, vpos - (e1 + 3));  // skip `pt"` after height
  out += "viewBox=\"0.00 0.00 " + fixed(nw, 2) + " " + fixed(nh, 2) + "\"";
  out += svg.substr(vend + 1, close - (vend + 1));
  out += "<g id=\"legend\" class=\"legend\" transform=\"translate(0 " + fixed(vh, 2) + ") scale(" + fixed(k, 3) + ")\">\n";
  out += "<rect x=\"0\" y=\"0\" width=\"" + fixed(nw / k, 2) + "\" height=\"" + fixed(lh, 2) + "\" fill=\"white\"/>\n";
  out += fragment;
  out += "</g>\n";
  out += svg.substr(close);
  return out;
}

// Above this many boxes a map is laid out once: a calibrating layout would
// double a layout time that already approaches a second.
constexpr std::size_t kCalibrateBoxes = 100;

// The width and height in pt of an SVG (its root element's attributes).
bool svg_size(const std::string& svg, double& w, double& h) {
  std::size_t p0, e0;
  const std::size_t at = svg.find("<svg ");
  return at != std::string::npos && read_attr_number(svg, at, "width", w, p0, e0) &&
         read_attr_number(svg, at, "height", h, p0, e0) && w > 0 && h > 0;
}

// The scale at which a drawing of w x h pt, the legend below it, fits the
// page in either orientation.
double page_fit(const MapOptions& o, double w, double h) {
  const double band = o.legend ? 150 : 0;
  const double pw = o.aspect ? *o.aspect * o.page_height : o.page_width, ph = o.page_height;
  return std::max(std::min(pw / w, ph / (h + band)), std::min(ph / w, pw / (h + band)));
}

// Lays the map out as planned, measures the drawing against the plan's
// estimate, and plans again with the measured spread along and across the
// rows; of the two layouts the one that fits the page better is kept in
// `built`. Returns its SVG (reused when SVG is asked for), or nullopt when
// there was nothing to calibrate or Graphviz failed (the main layout then
// reports the failure).
std::optional<GvRendered> calibrate(Built& built, const Context& cx, const Scene& s, const std::string& engine,
                                    bool legend_nodes, const std::string& title) {
  if (engine != "dot" || !(built.est_along > 0) || !(built.est_across > 0) || s.boxes.size() > kCalibrateBoxes)
    return std::nullopt;
  const bool across = cx.o.direction == MapDirection::left_to_right || cx.o.direction == MapDirection::right_to_left;
  try {
    GvRendered first = graphviz_render(built.graph, engine, GvOutput::svg);
    double w = 0, h = 0;
    if (!svg_size(first.data, w, h)) return std::nullopt;
    const double pad = 2 * 0.2 * 72, title_h = 1.6 * (cx.o.style.font_size + 3);
    const double dw = std::max(1.0, w - pad), dh = std::max(1.0, h - pad - title_h);
    const Tuning first_tune;
    const Tuning tune{first_tune.along * (across ? dh : dw) / built.est_along,
                      first_tune.across * (across ? dw : dh) / built.est_across};
    Built second = build_graph(cx, s, engine, legend_nodes, title, tune);
    if (second.budget == built.budget && second.shelf_of == built.shelf_of) return first;
    GvRendered again = graphviz_render(second.graph, engine, GvOutput::svg);
    double w2 = 0, h2 = 0;
    if (svg_size(again.data, w2, h2) && page_fit(cx.o, w2, h2) > page_fit(cx.o, w, h)) {
      built = std::move(second);
      return again;
    }
    return first;
  } catch (const GraphvizError&) {
    return std::nullopt;
  }
}

}  // namespace

std::vector<std::string> map_groups(const Model& model) {
  std::vector<std::string> groups;
  bool ungrouped = false;
  for (std::size_t v = 0; v < model.size(); ++v) {
    const std::string& g = model.node(v).group;
    if (g.empty()) ungrouped = true;
    else if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
  }
  if (ungrouped) groups.emplace_back();
  return groups;
}

std::optional<MapFormat> parse_map_format(std::string_view t) {
  if (t == "svg") return MapFormat::svg;
  if (t == "dot") return MapFormat::dot;
  if (t == "png") return MapFormat::png;
  if (t == "pdf") return MapFormat::pdf;
  return std::nullopt;
}

std::optional<MapDirection> parse_map_direction(std::string_view t) {
  std::string u(t);
  for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (u == "BT") return MapDirection::bottom_to_top;
  if (u == "TB") return MapDirection::top_to_bottom;
  if (u == "LR") return MapDirection::left_to_right;
  if (u == "RL") return MapDirection::right_to_left;
  return std::nullopt;
}

std::optional<BottleneckMeasure> parse_bottleneck_measure(std::string_view t) {
  if (t == "birnbaum") return BottleneckMeasure::birnbaum;
  if (t == "potential" || t == "improvement") return BottleneckMeasure::potential;
  return std::nullopt;
}

BottleneckOverlay overlay_from_importance(const ImportanceTable& table, BottleneckMeasure measure,
                                          std::size_t num_nodes) {
  BottleneckOverlay o;
  o.task = table.task;
  o.measure = measure;
  o.birnbaum.assign(num_nodes, std::nullopt);
  o.improvement.assign(num_nodes, std::nullopt);
  for (const Prerequisite& r : table.rows) {
    if (r.node >= num_nodes) throw std::invalid_argument("importance table row outside the model");
    o.birnbaum[r.node] = r.birnbaum;
    o.improvement[r.node] = r.improvement;
  }
  o.critical_path = table.critical_path;
  return o;
}

MapResult render_map(const Model& model, double x, const MapOptions& options) {
  const double xs[1] = {x};
  const Evaluation ev = evaluate(model, xs, options.evaluation);
  return render_map(ev, 0, options);
}

namespace {

// The request's own consistency: a wrong index or overlay is a caller's bug.
void check_request(const Evaluation& ev, std::size_t j, const MapOptions& o) {
  const Model& m = ev.model();
  if (j >= ev.num_points()) throw std::invalid_argument("render_map: scale point index out of range");
  if (o.focus && *o.focus >= m.size()) throw std::invalid_argument("render_map: focus node out of range");
  if (o.group && o.focus) throw std::invalid_argument("render_map: a group page and a focus cannot be combined");
  if (o.group) {
    const std::vector<std::string> groups = map_groups(m);
    if (std::find(groups.begin(), groups.end(), *o.group) == groups.end())
      throw std::invalid_argument("render_map: no node has the group `" + *o.group + "`");
  }
  if (o.overlay) {
    const BottleneckOverlay& ov = *o.overlay;
    if (ov.task >= m.size() || ov.birnbaum.size() != m.size() || ov.improvement.size() != m.size())
      throw std::invalid_argument("render_map: the bottleneck overlay does not belong to this model");
    for (std::size_t v : ov.critical_path)
      if (v >= m.size()) throw std::invalid_argument("render_map: critical path node out of range");
  }
}

// The large-map strategy, for `selected` nodes over the node limit or a
// layered layout too costly: collapse the groups, else lay out with sfdp,
// else refuse (MapTooLarge). Updates the scene and engine, and says what it
// did in the result's notes and the legend's.
void fit_large_map(const Model& m, const std::vector<char>& sel, const std::vector<std::size_t>& hidden, const MapOptions& o,
                   std::size_t selected, std::size_t work, Scene& scene, std::string& engine,
                   std::vector<std::string>& legend_notes, MapResult& result) {
  const std::string why = selected > o.node_limit
                              ? std::to_string(selected) + " nodes exceed the node limit of " +
                                    std::to_string(o.node_limit)
                              : "the layered layout of " + std::to_string(selected) + " nodes (estimated work " +
                                    std::to_string(work) + " > " + std::to_string(o.dot_work_limit) +
                                    ") would take too long";
  bool done = false;
  if (has_groups(m, sel)) {
    Scene c = collapsed_scene(m, sel, hidden);
    if (c.boxes.size() <= o.node_limit && dot_work(c) <= o.dot_work_limit) {
      result.notes.push_back(why + ": collapsed each group into one node (" + std::to_string(selected) +
                             " nodes drawn as " + std::to_string(c.boxes.size()) +
                             "); use --focus TASK --depth K to see a part in full");
      if (o.overlay) result.notes.push_back("the bottleneck overlay is not drawn on a collapsed map; add --focus TASK");
      legend_notes.push_back("groups collapsed: " + std::to_string(selected) + " nodes drawn as " +
                             std::to_string(c.boxes.size()));
      scene = std::move(c);
      result.collapsed_groups = true;
      done = true;
    }
  }
  if (!done && selected > o.max_nodes) {
    if (has_groups(m, sel)) {
      Scene c = collapsed_scene(m, sel, hidden);
      if (c.boxes.size() <= o.max_nodes) {
        engine = "sfdp";
        result.notes.push_back(why + ": collapsed each group into one node (" + std::to_string(selected) +
                               " nodes drawn as " + std::to_string(c.boxes.size()) +
                               ") and laid out with sfdp; use --focus TASK --depth K to see a part in full");
        legend_notes.push_back("groups collapsed, force-directed layout (sfdp)");
        scene = std::move(c);
        result.collapsed_groups = true;
        done = true;
      }
    }
    if (!done)
      throw MapTooLarge("the map would have " + std::to_string(selected) + " nodes, more than can be laid out in "
                        "reasonable time (limit " + std::to_string(o.max_nodes) +
                        "); draw a part with --focus TASK --depth K, or give nodes groups to collapse");
  }
  if (!done) {
    engine = "sfdp";
    result.notes.push_back(why + ": laid out with sfdp (force-directed; no ranks or group boxes) instead of dot; "
                           "use --focus TASK --depth K for a layered map of a part");
    legend_notes.push_back("force-directed layout (sfdp): " + std::to_string(selected) + " nodes");
  }
}

std::string map_title(const Model& m, const MapOptions& o, const std::string& scale) {
  std::string title = o.title.empty() ? m.spec().name + " \u2014 P at " + scale : o.title;
  if (o.title.empty() && o.group)
    title = m.spec().name + " \u2014 " + (o.group->empty() ? std::string("nodes without a group") : *o.group) +
            " \u2014 P at " + scale;
  return title;
}

// Lays out and renders the built graph (an SVG reuses the calibration's
// layout), retrying without group boxes where dot's ranking fails on them.
GvRendered lay_out(Built& built, const Context& cx, const Scene& scene, const std::string& engine, const std::string& title,
                   MapResult& result) {
  const MapOptions& o = cx.o;
  const bool svg = o.format == MapFormat::svg;
  const GvOutput out = svg                             ? GvOutput::svg
                       : o.format == MapFormat::png ? GvOutput::png
                       : o.format == MapFormat::pdf ? GvOutput::pdf
                                                    : GvOutput::dot;
  std::optional<GvRendered> laid_out =
      o.format == MapFormat::dot ? std::nullopt : calibrate(built, cx, scene, engine, o.legend && !svg, title);
  if (o.format == MapFormat::png) built.graph.graph_attrs.emplace_back("dpi", fixed(o.dpi, 0));
  GvRendered r;
  try {
    r = svg && laid_out ? std::move(*laid_out) : graphviz_render(built.graph, engine, out);
  } catch (const GraphvizError& e) {
    // dot's ranking can fail on some cluster/rank combinations: retry plainly.
    if (engine != "dot" || built.graph.clusters.empty() || std::string(e.what()).find(" output is unavailable") != std::string::npos)
      throw;
    built.graph.clusters.clear();
    built.clusters = 0;
    result.notes.push_back(std::string("group boxes dropped: ") + e.what());
    r = graphviz_render(built.graph, engine, out);
  }
  return r;
}

// An SVG's legend, and the smallest label's size once fitted to the page.
void finish_svg(std::string& data, const Model& m, const MapOptions& o, const std::string& scale, const Scene& scene,
                const std::vector<std::string>& legend_notes, MapResult& result) {
  if (o.legend) {
    LegendFacts facts;
    if (o.overlay && !scene.collapsed) facts.overlay_task = m.node(o.overlay->task).display_name();
    facts.busy = scene.links.size() > o.busy_edges;
    facts.collapsed = scene.collapsed;
    for (const Box& bx : scene.boxes) {
      facts.hidden = facts.hidden || bx.hidden > 0;
      facts.tasks = facts.tasks || (bx.node && m.node(*bx.node).is_task);
    }
    double lw = 0, lh = 0;
    const std::string frag = legend_fragment(o, scale, facts, legend_notes, lw, lh);
    data = add_svg_legend(data, frag, lw, lh);
  }
  std::size_t p0, e0;
  double w = 0, h = 0;
  const std::size_t at = data.find("<svg ");
  if (at != std::string::npos && read_attr_number(data, at, "width", w, p0, e0) &&
      read_attr_number(data, at, "height", h, p0, e0) && w > 0 && h > 0) {
    const double fit = std::max(std::min(o.page_width / w, o.page_height / h),
                                std::min(o.page_height / w, o.page_width / h));
    result.smallest_label_at_page = o.style.font_size * std::min(1.0, fit);
  }
}

}  // namespace

// One pass from options to bytes: checks, the large-map strategy, layout,
// legend.
MapResult render_map(const Evaluation& ev, std::size_t j, const MapOptions& o) {
  check_request(ev, j, o);
  const Model& m = ev.model();
  MapResult result;
  const std::string scale = scale_text(m, ev.points()[j]);
  std::vector<std::size_t> hidden;
  const std::vector<char> sel = select_nodes(m, o, hidden);
  std::size_t selected = 0;
  for (char c : sel) selected += c != 0;

  Scene scene = full_scene(m, sel, hidden);
  std::string engine = "dot";
  std::vector<std::string> legend_notes;
  const std::size_t work = dot_work(scene);
  if (selected > o.node_limit || work > o.dot_work_limit)
    fit_large_map(m, sel, hidden, o, selected, work, scene, engine, legend_notes, result);

  const std::string title = map_title(m, o, scale);
  const Context cx{ev, j, o, scale};
  const bool svg = o.format == MapFormat::svg;
  Built built = build_graph(cx, scene, engine, o.legend && !svg, title);
  GvRendered r = lay_out(built, cx, scene, engine, title, result);
  for (const std::string& w : r.warnings) result.notes.push_back("graphviz: " + w);
  if (svg) finish_svg(r.data, m, o, scale, scene, legend_notes, result);
  result.data = std::move(r.data);
  result.engine = engine;
  result.nodes = scene.boxes.size();
  result.edges = scene.links.size();
  result.clusters = built.clusters;
  return result;
}

}  // namespace capgraph::render
