// capgraph/graph/model.cpp — compiling a ModelSpec into an immutable Model.
#include "graph/model.hpp"

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/depth_first_search.hpp>
#include <cmath>
#include <limits>
#include <iterator>
#include <unordered_map>

#include "graph/buffer_rows.hpp"
#include "graph/detail/program.hpp"

namespace capgraph {

namespace {

// Edge property: how many independent uses (or the mean weight).
struct UseEdge {
  double count = 1;
};

// The declared dependencies as a Boost graph (edge task -> prerequisite),
// for the depth-first search that finds a cycle.
using CapabilityGraph =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, boost::no_property, UseEdge>;

// Adds the spec's nodes and use edges to g, which must be empty. Fills a
// graph in place: Boost 1.74's adjacency_list has no move operations, and
// its swap() is three whole copies (at 100,000 nodes, 0.2 s of allocation
// with one list node per edge), so a graph is never returned or swapped.
void fill_graph(const ModelSpec& spec, CapabilityGraph& g) {
  for (std::size_t v = 0; v < spec.nodes.size(); ++v) boost::add_vertex(g);
  for (std::size_t v = 0; v < spec.nodes.size(); ++v) {
    const NodeSpec& n = spec.nodes[v];
    if (!n.is_task) continue;
    for (const Use& u : n.uses) {
      if (u.node >= spec.nodes.size())
        throw ModelError("task `" + n.id + "` refers to node index " + std::to_string(u.node) + " out of range", u.loc);
      boost::add_edge(v, u.node, UseEdge{u.count}, g);
    }
  }
}

// DFS visitor that stops at the first back edge (a cycle) and remembers it.
struct CycleFinder : boost::default_dfs_visitor {
  std::vector<std::size_t>* pred;
  std::vector<std::size_t>* cycle;
  struct Found {};
  void tree_edge(boost::graph_traits<CapabilityGraph>::edge_descriptor e, const CapabilityGraph& g) const {
    (*pred)[boost::target(e, g)] = boost::source(e, g);
  }
  void back_edge(boost::graph_traits<CapabilityGraph>::edge_descriptor e, const CapabilityGraph& g) const {
    const std::size_t from = boost::source(e, g), to = boost::target(e, g);
    // The path to -> ... -> from follows the DFS tree; then the edge from -> to.
    std::vector<std::size_t> path{from};
    for (std::size_t v = from; v != to; v = (*pred)[v]) path.push_back((*pred)[v]);
    std::reverse(path.begin(), path.end());
    path.push_back(to);
    *cycle = std::move(path);
    throw Found{};
  }
};

std::vector<std::size_t> find_cycle_in(const CapabilityGraph& g) {
  std::vector<std::size_t> pred(boost::num_vertices(g)), cycle;
  std::vector<boost::default_color_type> color(boost::num_vertices(g));
  CycleFinder vis;
  vis.pred = &pred;
  vis.cycle = &cycle;
  try {
    boost::depth_first_search(
        g, boost::visitor(vis).color_map(boost::make_iterator_property_map(color.begin(), boost::get(boost::vertex_index, g))));
  } catch (const CycleFinder::Found&) {
  }
  return cycle;
}

bool is_probability(double p) { return std::isfinite(p) && p >= 0 && p <= 1; }

void check_node(const ModelSpec& spec, const NodeSpec& n) {
  auto fail = [&](const std::string& what) { throw ModelError("node `" + n.id + "`: " + what, n.loc); };
  if (!n.is_task) {
    if (!is_probability(n.floor) || !is_probability(n.ceiling) || n.floor > n.ceiling)
      fail("floor and ceiling must satisfy 0 <= floor <= ceiling <= 1");
    const Curve& c = n.curve;
    switch (c.kind) {
      case CurveKind::logistic:
        if (!(c.mid > 0) || !std::isfinite(c.mid) || !std::isfinite(c.slope)) fail("logistic needs mid > 0 and a finite slope");
        break;
      case CurveKind::power_law:
        if (!(c.c > 0) || !(c.alpha > 0) || !std::isfinite(c.c) || !std::isfinite(c.alpha)) fail("power_law needs c > 0 and alpha > 0");
        break;
      case CurveKind::chinchilla:
        if (!(c.weight > 0) || !std::isfinite(c.weight)) fail("chinchilla needs weight > 0");
        break;
      case CurveKind::points:
        if (c.knots.empty()) fail("points needs at least one point");
        for (std::size_t i = 0; i < c.knots.size(); ++i) {
          const auto& [N, p] = c.knots[i];
          if (!(N > 0) || !std::isfinite(N) || !(p > 0 && p < 1)) fail("points need N > 0 and 0 < p < 1");
          if (i > 0 && !(N > c.knots[i - 1].first)) fail("points must be strictly increasing in N");
        }
        break;
      case CurveKind::constant:
        if (!is_probability(c.value)) fail("constant must be in [0, 1]");
        break;
    }
    return;
  }
  if (n.uses.empty()) fail(std::string("gate `") + gate_kind_name(n.gate) + "` has no references");
  if (!(n.guess >= 0 && n.guess < 1)) fail("guess must be in [0, 1)");
  if (n.threshold && !is_probability(*n.threshold)) fail("threshold must be in [0, 1]");
  double total = 0;
  for (const Use& u : n.uses) {
    if (!std::isfinite(u.count)) fail("use counts must be finite");
    if (n.gate == GateKind::mean ? !(u.count > 0) : !(u.count >= 1)) fail("use count out of range");
    if (n.gate == GateKind::at_least && u.count != std::floor(u.count)) fail("at_least needs integer uses");
    total += u.count;
  }
  if (n.gate == GateKind::at_least && (n.k < 1 || n.k > total)) fail("at_least needs 1 <= k <= number of uses");
  if (n.gate == GateKind::best_of && (n.uses.size() != 1 || n.uses[0].count != 1 || n.best_n < 1))
    fail("best_of needs one reference and n >= 1");
  for (const Metric& m : n.metrics) {
    if (m.kind == MetricKind::multiple_choice && m.k < 2) fail("multiple_choice needs K >= 2");
    if (m.kind == MetricKind::pass_at && m.k < 1) fail("pass_at needs k >= 1");
  }
  (void)spec;
}

}  // namespace

std::vector<std::size_t> find_cycle(const ModelSpec& spec) {
  CapabilityGraph g;
  fill_graph(spec, g);
  return find_cycle_in(g);
}

Model::Model(ModelSpec spec) : spec_(std::move(spec)), axis_(spec_.scale) {}

namespace {

void check_spec(const ModelSpec& s) {
  if (s.nodes.empty()) throw ModelError("the model has no nodes");
  if (!(s.scale.from > 0) || !(s.scale.to >= s.scale.from) || !std::isfinite(s.scale.to) || s.scale.points < 1)
    throw ModelError("scale range must satisfy 0 < from <= to and points >= 1");
  if (!(s.scale.tokens_per_param > 0) || (s.scale.data_limit && !(*s.scale.data_limit > 0)))
    throw ModelError("tokens_per_param and data_limit must be positive");
  for (const NodeSpec& node : s.nodes) check_node(s, node);
  CapabilityGraph g;
  fill_graph(s, g);
  if (auto cycle = find_cycle_in(g); !cycle.empty()) {
    std::string path;
    for (std::size_t i = 0; i < cycle.size(); ++i) path += (i ? " -> " : "") + s.nodes[cycle[i]].id;
    throw ModelError("cycle: " + path, s.nodes[cycle.front()].loc);
  }
}

// Evaluation order: depth-first from the tasks nothing uses (in spec
// order), each node after its prerequisites (post-order). Any such order is
// topological; this one also puts most prerequisites just before the task
// that first needs them, which keeps evaluate()'s reads of children close
// in memory. (Boost's topological_sort starts from vertex 0 and so follows
// spec order, scattering children across the whole model.)
std::vector<std::size_t> evaluation_order(std::size_t n, const std::vector<std::size_t>& use_offset,
                                          const std::vector<std::size_t>& use_child) {
  std::vector<std::size_t> order;
  std::vector<char> used(n, 0), state(n, 0);  // state: 0 new, 1 on the stack, 2 done
  for (std::size_t c : use_child) used[c] = 1;
  std::vector<std::pair<std::size_t, std::size_t>> stack;  // (node, next use)
  order.reserve(n);
  auto visit = [&](std::size_t root) {
    if (state[root]) return;
    state[root] = 1;
    stack.emplace_back(root, use_offset[root]);
    while (!stack.empty()) {
      auto& [v, next] = stack.back();
      if (next < use_offset[v + 1]) {
        const std::size_t c = use_child[next++];
        if (!state[c]) {
          state[c] = 1;
          stack.emplace_back(c, use_offset[c]);
        }
        continue;
      }
      state[v] = 2;
      order.push_back(v);
      stack.pop_back();
    }
  };
  for (std::size_t v = 0; v < n; ++v)
    if (!used[v]) visit(v);
  for (std::size_t v = 0; v < n; ++v) visit(v);  // unreachable only through a cycle, which check_spec excludes
  return order;
}

}  // namespace

namespace detail {

void check_leaf(const NodeSpec& leaf) { check_node(ModelSpec{}, leaf); }

namespace {

// The fields a skill's and a task's operation both take from the spec.
void fill_node_fields(const NodeSpec& node, EvalOp& op) {
  op.is_task = node.is_task;
  op.gate = node.gate;
  op.curve = node.curve.kind;
  op.k = node.k;
  op.best_n = node.best_n;
  op.guess = node.guess;
  op.floor = node.floor;
  op.ceiling = node.ceiling;
}

}  // namespace

void fill_leaf_op(const NodeSpec& node, EvalOp& op, std::vector<std::pair<double, double>>& knots) {
  fill_node_fields(node, op);
  op.is_task = false;
  op.reports_partial_credit = false;
  op.c0 = op.c1 = 0;
  op.knot_begin = op.knot_end = 0;
  switch (node.curve.kind) {
    case CurveKind::logistic: op.c0 = std::log10(node.curve.mid), op.c1 = node.curve.slope; break;
    case CurveKind::power_law: op.c0 = std::log(node.curve.c), op.c1 = node.curve.alpha; break;
    case CurveKind::constant:
      op.c0 = node.curve.value > 0 ? std::log(node.curve.value) : -std::numeric_limits<double>::infinity();
      break;
    case CurveKind::chinchilla: op.c0 = node.curve.weight; break;
    case CurveKind::points:
      op.knot_begin = static_cast<std::uint32_t>(knots.size());
      for (const auto& [x, p] : node.curve.knots) knots.emplace_back(std::log10(x), std::log(p) - std::log1p(-p));
      op.knot_end = static_cast<std::uint32_t>(knots.size());
      break;
  }
  op.ln_floor = node.floor > 0 ? std::log(node.floor) : -std::numeric_limits<double>::infinity();
  op.ln_ceiling = std::log(node.ceiling);
  op.ln_span = node.ceiling > node.floor ? std::log(node.ceiling - node.floor) : 0.0;
}

}  // namespace detail

// The evaluation program (graph/detail/program.hpp) of a model whose
// structure, order and step counts are laid out.
void Model::build_program() {
  const std::size_t n = size();
  // Positions must fit the 32-bit fields (node positions signed: evaluate()
  // marks "no row" with -1).
  if (n >= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()) ||
      use_offset_[n] >= std::numeric_limits<std::uint32_t>::max())
    throw ModelError("the model has more than 2^31 nodes or 2^32 uses");
  auto prog = std::make_shared<detail::Program>();
  detail::Program& p = *prog;
  p.pos.resize(n);
  for (std::size_t i = 0; i < n; ++i) p.pos[order_[i]] = static_cast<std::uint32_t>(i);
  p.ops.resize(n);
  p.use_pos.reserve(use_offset_[n]);
  p.use_count.reserve(use_offset_[n]);
  p.use_steps.reserve(use_offset_[n]);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t v = order_[i];
    const NodeSpec& node = spec_.nodes[v];
    detail::EvalOp& op = p.ops[i];
    op.node = static_cast<std::uint32_t>(v);
    if (!node.is_task) {
      detail::fill_leaf_op(node, op, p.knots);
    } else {
      detail::fill_node_fields(node, op);
      for (const Metric& mt : metrics(v)) op.reports_partial_credit |= mt.kind == MetricKind::partial_credit;
    }
    op.use_begin = static_cast<std::uint32_t>(p.use_pos.size());
    for (std::size_t u = use_begin(v); u < use_end(v); ++u) {
      p.use_pos.push_back(p.pos[use_child_[u]]);
      p.use_count.push_back(use_count_[u]);
      p.use_steps.push_back(use_count_[u] * steps_[use_child_[u]]);
      op.total_uses += use_count_[u];
    }
    op.use_end = static_cast<std::uint32_t>(p.use_pos.size());
  }

  // Buffer rows by liveness (graph/buffer_rows.hpp): every position has one
  // and reads its children's.
  std::vector<std::int32_t> last_read(n, -1);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t u = p.ops[i].use_begin; u < p.ops[i].use_end; ++u)
      last_read[p.use_pos[u]] = static_cast<std::int32_t>(i);
  p.row.assign(n, 0);
  p.rows = detail::assign_rows_by_liveness(
      n, [](std::size_t) { return true; },
      [&](std::size_t i, auto&& f) {
        for (std::size_t u = p.ops[i].use_begin; u < p.ops[i].use_end; ++u) f(p.use_pos[u]);
      },
      last_read, p.row);
  p.use_offset.resize(n + 1);
  p.flags.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const detail::EvalOp& op = p.ops[i];
    p.use_offset[i] = op.use_begin;
    p.flags[i] = static_cast<std::uint8_t>((op.is_task && op.gate == GateKind::all ? detail::Program::kAllTask : 0) |
                                           (op.reports_partial_credit ? detail::Program::kReportsPartial : 0));
  }
  p.use_offset[n] = static_cast<std::uint32_t>(p.use_pos.size());
  p.use_row.resize(p.use_pos.size());
  for (std::size_t u = 0; u < p.use_pos.size(); ++u) p.use_row[u] = p.row[p.use_pos[u]];
  program_ = std::move(prog);
}

Model Model::compile(ModelSpec spec) {
  Model m(std::move(spec));
  check_spec(m.spec_);
  const ModelSpec& s = m.spec_;
  const std::size_t n = s.nodes.size();
  m.use_offset_.assign(n + 1, 0);
  for (std::size_t v = 0; v < n; ++v) m.use_offset_[v + 1] = m.use_offset_[v] + (s.nodes[v].is_task ? s.nodes[v].uses.size() : 0);
  m.use_child_.reserve(m.use_offset_[n]);
  m.use_count_.reserve(m.use_offset_[n]);
  for (std::size_t v = 0; v < n; ++v) {
    if (!s.nodes[v].is_task) continue;
    for (const Use& u : s.nodes[v].uses) {
      m.use_child_.push_back(u.node);
      m.use_count_.push_back(u.count);
    }
  }
  m.order_ = evaluation_order(n, m.use_offset_, m.use_child_);

  m.steps_.assign(n, 1.0);
  m.depth_.assign(n, 0);
  for (std::size_t v : m.order_) {
    const NodeSpec& node = s.nodes[v];
    if (!node.is_task) {
      m.has_shared_ = m.has_shared_ || node.shared;
      continue;
    }
    m.tasks_.push_back(v);
    int depth = 0;
    double steps = 0;
    for (std::size_t u = m.use_begin(v); u < m.use_end(v); ++u) {
      depth = std::max(depth, m.depth_[m.use_child_[u]]);
      steps += m.use_count_[u] * m.steps_[m.use_child_[u]];
    }
    m.depth_[v] = depth + 1;
    if (node.gate == GateKind::all) m.steps_[v] = steps;
  }
  std::sort(m.tasks_.begin(), m.tasks_.end());

  m.default_metrics_ = default_metrics();
  m.build_program();
  return m;
}

std::optional<std::size_t> Model::find(const std::string& id) const {
  for (std::size_t v = 0; v < spec_.nodes.size(); ++v)
    if (spec_.nodes[v].id == id) return v;
  return std::nullopt;
}

const std::vector<Metric>& Model::metrics(std::size_t v) const& {
  const auto& own = spec_.nodes[v].metrics;
  return own.empty() ? default_metrics_ : own;
}

double Model::threshold(std::size_t v) const { return spec_.nodes[v].threshold.value_or(spec_.threshold); }

}  // namespace capgraph
