// capgraph/graph/overrides.cpp — the program of a model under Overrides.
#include "graph/overrides.hpp"

#include <stdexcept>
#include <string>

#include "graph/detail/program.hpp"

namespace capgraph {

namespace {

void check_index(std::size_t v, std::size_t n) {
  if (v >= n)
    throw std::out_of_range("capgraph::Overrides: node index " + std::to_string(v) + " of a model with " +
                            std::to_string(n) + " nodes");
}

}  // namespace

Overrides& Overrides::force(std::size_t v, double p) {
  Curve c;
  c.kind = CurveKind::constant;
  c.value = p;
  return set_curve(v, std::move(c), 0.0, 1.0);
}

Overrides& Overrides::set_curve(std::size_t v, Curve curve, double floor, double ceiling) {
  leaves_.push_back(Leaf{v, std::move(curve), floor, ceiling});
  return *this;
}

ModelSpec Overrides::apply(ModelSpec spec) const {
  for (const Leaf& l : leaves_) {
    check_index(l.node, spec.nodes.size());
    NodeSpec& n = spec.nodes[l.node];
    n.is_task = false;
    n.uses.clear();
    n.curve = l.curve;
    n.floor = l.floor;
    n.ceiling = l.ceiling;
  }
  return spec;
}

namespace detail {

namespace {

// Node l.node as Overrides::apply declares it, for the fields that
// check_leaf and fill_leaf_op read (not its uses or metrics).
NodeSpec as_skill(const NodeSpec& declared, const Overrides::Leaf& l) {
  NodeSpec leaf;
  leaf.id = declared.id;
  leaf.loc = declared.loc;
  leaf.is_task = false;
  leaf.gate = declared.gate;
  leaf.k = declared.k;
  leaf.best_n = declared.best_n;
  leaf.guess = declared.guess;
  leaf.curve = l.curve;
  leaf.floor = l.floor;
  leaf.ceiling = l.ceiling;
  return leaf;
}

}  // namespace

void check_overrides(const Model& model, const Overrides& overrides) {
  for (const Overrides::Leaf& l : overrides.leaves()) {
    check_index(l.node, model.size());
    check_leaf(as_skill(model.node(l.node), l));
  }
}

PatchedProgram patch_program(const Model& model, const Overrides& overrides) {
  check_overrides(model, overrides);
  const Program& prog = program(model);
  const std::size_t n = model.size();
  PatchedProgram p;
  p.ops = prog.ops;
  p.has_shared = model.has_shared();
  bool any_cut = false, any_points = false;
  for (const Overrides::Leaf& l : overrides.leaves()) {
    any_cut |= model.node(l.node).is_task;
    any_points |= l.curve.kind == CurveKind::points;
  }
  if (any_points) p.knots = prog.knots;
  if (any_cut) p.cut.assign(n, 0);
  std::vector<std::pair<double, double>> no_knots;
  for (const Overrides::Leaf& l : overrides.leaves()) {
    const NodeSpec& declared = model.node(l.node);
    EvalOp& op = p.ops[prog.pos[l.node]];
    fill_leaf_op(as_skill(declared, l), op, any_points ? p.knots : no_knots);
    op.use_end = op.use_begin;  // a skill reads no children
    op.total_uses = 0;
    if (declared.is_task) {
      p.cut[l.node] = 1;
      p.has_shared |= declared.shared;
    }
  }
  if (!any_cut) return p;

  // A task evaluated as a skill is one atomic step (docs/measures.md §3),
  // and so changes the step counts of the `all` tasks above it: recounted
  // as Model::compile counts them, in the same order.
  p.steps.assign(n, 1.0);
  for (std::size_t v : model.topological_order()) {
    const NodeSpec& node = model.node(v);
    if (!node.is_task || p.cut[v] || node.gate != GateKind::all) continue;
    double steps = 0;
    for (std::size_t u = model.use_begin(v); u < model.use_end(v); ++u)
      steps += model.use_count(u) * p.steps[model.use_child(u)];
    p.steps[v] = steps;
  }
  p.use_steps.resize(prog.use_pos.size());
  for (std::size_t u = 0; u < prog.use_pos.size(); ++u)
    p.use_steps[u] = prog.use_count[u] * p.steps[prog.ops[prog.use_pos[u]].node];
  p.flags = prog.flags;
  for (std::size_t v = 0; v < n; ++v)
    if (p.cut[v]) p.flags[prog.pos[v]] = 0;
  return p;
}

}  // namespace detail

}  // namespace capgraph
