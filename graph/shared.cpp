// capgraph/graph/shared.cpp — Shannon expansion over shared skills (docs/measures.md §4).
#include "graph/shared.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "graph/curve_eval.hpp"

namespace capgraph::detail {

namespace {
constexpr double kNegInf = -std::numeric_limits<double>::infinity();
}

double SharedExpansion::cost() const { return std::ldexp(static_cast<double>(affected.size()), static_cast<int>(shared.size())); }

namespace {

// The scan behind plan_expansion: per node, whether a shared skill lies
// below, and scratch arrays for one task's cone, cleared after each task.
struct ExpansionScan {
  const Model& model;
  const std::vector<std::uint8_t>* cut;
  std::vector<std::size_t> pos;  // topological position
  std::vector<char> below;       // a shared skill at or below the node
  std::vector<double> count;     // use paths from the task, saturated at 2
  std::vector<char> seen, mark;
  std::vector<std::size_t> cone, stack;

  ExpansionScan(const Model& m, const std::vector<std::uint8_t>* c)
      : model(m), cut(c), pos(m.size()), below(m.size(), 0), count(m.size(), 0.0), seen(m.size(), 0), mark(m.size(), 0) {
    const auto& order = model.topological_order();
    for (std::size_t i = 0; i < order.size(); ++i) pos[order[i]] = i;
    for (std::size_t v : order) {
      const NodeSpec& node = model.node(v);
      if (!is_task(v)) {
        below[v] = node.shared;
        continue;
      }
      for (std::size_t u = model.use_begin(v); u < model.use_end(v); ++u) below[v] |= below[model.use_child(u)];
    }
  }

  bool is_task(std::size_t v) const { return model.node(v).is_task && !(cut && (*cut)[v]); }

  // The part of v's cone that leads to shared skills, v first.
  void collect_cone(std::size_t v) {
    cone.clear();
    stack.assign(1, v);
    seen[v] = 1;
    while (!stack.empty()) {
      const std::size_t x = stack.back();
      stack.pop_back();
      cone.push_back(x);
      if (!is_task(x)) continue;
      for (std::size_t u = model.use_begin(x); u < model.use_end(x); ++u) {
        const std::size_t c = model.use_child(u);
        if (below[c] && !seen[c]) {
          seen[c] = 1;
          stack.push_back(c);
        }
      }
    }
    std::sort(cone.begin(), cone.end(), [&](std::size_t a, std::size_t b) { return pos[a] > pos[b]; });  // v first
  }

  // The skills of the cone reached by two use paths or more from v: K(v).
  std::vector<std::size_t> shared_skills(std::size_t v) {
    count[v] = 1;
    for (std::size_t x : cone) {
      if (!is_task(x)) continue;
      const NodeSpec& xn = model.node(x);
      for (std::size_t u = model.use_begin(x); u < model.use_end(x); ++u) {
        const std::size_t c = model.use_child(u);
        if (!below[c]) continue;
        const double times = xn.gate == GateKind::best_of ? xn.best_n : model.use_count(u);
        count[c] = std::min(2.0, count[c] + count[x] * (times > 1 ? 2.0 : 1.0));
      }
    }
    std::vector<std::size_t> shared;
    for (std::size_t x : cone)
      if (!is_task(x) && count[x] >= 2) shared.push_back(x);
    std::sort(shared.begin(), shared.end());
    return shared;
  }

  // The tasks of the cone above a member of e.shared, and their other children.
  void affected_and_inputs(SharedExpansion& e) {
    for (std::size_t s : e.shared) mark[s] = 1;
    for (auto it = cone.rbegin(); it != cone.rend(); ++it) {  // prerequisites first
      const std::size_t x = *it;
      if (!is_task(x)) continue;
      for (std::size_t u = model.use_begin(x); u < model.use_end(x); ++u) mark[x] |= mark[model.use_child(u)];
      if (mark[x]) e.affected.push_back(x);
    }
    for (std::size_t x : e.affected)
      for (std::size_t u = model.use_begin(x); u < model.use_end(x); ++u) {
        const std::size_t c = model.use_child(u);
        if (!mark[c]) {
          mark[c] = 2;  // an input, recorded once
          e.inputs.push_back(c);
        }
      }
    for (std::size_t x : e.inputs) mark[x] = 0;
    for (std::size_t x : e.affected) mark[x] = 0;
    for (std::size_t s : e.shared) mark[s] = 0;
  }

  void clear_cone() {
    for (std::size_t x : cone) {
      seen[x] = 0;
      count[x] = 0;
    }
  }
};

// Whether expansion e of task v stays within the limits, `work` the running
// total; over a limit, a ModelError, or false with `only` >= 0.
bool within_limits(const Model& model, const SharedExpansion& e, std::size_t v, std::size_t points, const SharedLimits& limits,
                   int max_expanded, std::ptrdiff_t only, double& work) {
  auto too_much = [&](const std::string& why) {
    if (only >= 0) return false;
    std::string names;
    for (std::size_t i = 0; i < e.shared.size() && i < 6; ++i) names += (i ? ", " : "") + model.node(e.shared[i]).id;
    if (e.shared.size() > 6) names += ", ...";
    throw ModelError("exact evaluation of shared skills is too costly: task `" + model.node(v).id + "` correlates " +
                         std::to_string(e.shared.size()) + " shared skills (" + names + "), " + why +
                         "; estimate it with --monte-carlo N instead, or raise the limit",
                     model.node(v).loc);
  };
  bool ok = true;
  if (static_cast<int>(e.shared.size()) > max_expanded)
    ok = too_much("more than the " + std::to_string(max_expanded) +
                  " that can be expanded exactly (--max-shared-expanded; the cost doubles with each)");
  work += e.cost() * static_cast<double>(points);
  if (ok && work > limits.max_work)
    ok = too_much("the expansion needs about " + std::to_string(static_cast<long long>(work)) +
             " node evaluations, over the limit of " + std::to_string(static_cast<long long>(limits.max_work)) +
             " (--max-shared-work)");
  return ok;
}

}  // namespace

// The expansion plan (docs/measures.md §4); with `only` >= 0 just that task's
// expansion, and none (no error) where it would pass a limit. `cut` (by
// node; null: none) marks tasks evaluated as skills (graph/overrides.hpp):
// their uses are not read.
static SharedPlan plan_expansion(const Model& model, std::size_t points, const SharedLimits& limits,
                                 std::ptrdiff_t only = -1, bool* correlated = nullptr,
                                 const std::vector<std::uint8_t>* cut = nullptr) {
  const int max_expanded = limits.max_expanded > 0 ? std::min(limits.max_expanded, 62) : 62;
  SharedPlan plan;
  plan.index.assign(model.size(), -1);
  ExpansionScan scan(model, cut);
  double work = 0;
  for (std::size_t v : model.topological_order()) {
    if (!scan.is_task(v) || !scan.below[v] || (only >= 0 && v != static_cast<std::size_t>(only))) continue;
    scan.collect_cone(v);
    SharedExpansion e;
    e.task = v;
    e.shared = scan.shared_skills(v);
    if (!e.shared.empty()) {
      if (correlated) *correlated = true;
      scan.affected_and_inputs(e);
      const bool ok = within_limits(model, e, v, points, limits, max_expanded, only, work);
      if (ok) plan.index[v] = static_cast<std::ptrdiff_t>(plan.expansions.size());
      if (ok) plan.expansions.push_back(std::move(e));
    }
    scan.clear_cone();
  }
  return plan;
}

SharedPlan plan_shared(const Model& model, std::size_t points, const SharedLimits& limits,
                       const std::vector<std::uint8_t>* cut) {
  if (limits.expansion) return plan_expansion(model, points, limits, -1, nullptr, cut);
  // --max-shared-expanded still bounds the shared skills one task may
  // correlate when the user sets it (the expansion's K(v), above).
  if (limits.max_expanded > 0) {
    SharedLimits only_count = limits;
    only_count.max_work = std::numeric_limits<double>::infinity();
    (void)plan_expansion(model, points, only_count, -1, nullptr, cut);
  }
  SharedPlan plan;
  auto diagram = std::make_shared<DiagramPlan>(plan_diagram(model, limits.max_nodes, cut));
  plan.index.assign(model.size(), -1);
  std::size_t last = 0;
  for (std::size_t v = 0; v < model.size(); ++v) {
    if (diagram->root[v] >= 0 || diagram->offset[v + 1] > diagram->offset[v]) plan.index[v] = 0;  // owns items
    if (diagram->root[v] >= 0 && model.node(v).is_task) last = v;
  }
  const double work = static_cast<double>(diagram->diagram->size()) * static_cast<double>(points);
  if (work > limits.max_work)
    throw ModelError("exact evaluation of shared skills is too costly: the decision diagram needs about " +
                         std::to_string(static_cast<long long>(work)) + " node evaluations (" +
                         std::to_string(diagram->diagram->size()) + " nodes x " + std::to_string(points) +
                         " points), over the limit of " + std::to_string(static_cast<long long>(limits.max_work)) +
                         " (--max-shared-work); estimate it with --monte-carlo N instead, or raise the limit",
                     model.node(last).loc);
  plan.diagram = std::move(diagram);
  return plan;
}

std::optional<SharedExpansion> small_expansion(const Model& model, std::size_t task, double max_cost, bool& needed) {
  SharedLimits limits;
  limits.max_work = max_cost;
  needed = false;
  SharedPlan plan = plan_expansion(model, 1, limits, static_cast<std::ptrdiff_t>(task), &needed);
  if (plan.index[task] < 0) return std::nullopt;
  return std::move(plan.expansions[static_cast<std::size_t>(plan.index[task])]);
}

void run_shared(const Model& model, const SharedPlan& plan, std::size_t v, double* rows, std::size_t stride,
                std::size_t len, Workspace& ws, std::vector<double>& scratch) {
  if (plan.diagram) {
    eval_diagram(model, *plan.diagram, v, rows, stride, len, ws, scratch);
    return;
  }
  expand_shared(model, plan.expansions[static_cast<std::size_t>(plan.index[v])], rows, stride, 0, len, ws, scratch);
}

double log_weight(const SharedExpansion& e, std::uint64_t a, const double* rows, std::size_t stride, std::size_t j) {
  double lw = 0;
  for (std::size_t i = 0; i < e.shared.size(); ++i) {
    const double l = rows[e.shared[i] * stride + j];
    lw += (a >> i) & 1 ? l : log1mexp(l);
  }
  return lw;
}

void expand_shared(const Model& model, const SharedExpansion& e, double* rows, std::size_t stride, std::size_t j0,
                   std::size_t j1, Workspace& ws, std::vector<double>& scratch) {
  constexpr std::size_t kBlock = 64;
  const std::size_t B = std::min(kBlock, j1 - j0);
  if (B == 0) return;
  scratch.resize(model.size() * B);
  if (ws.acc.size() < B) ws.acc.resize(B);
  double* S = scratch.data();
  const std::uint64_t assignments = std::uint64_t{1} << e.shared.size();
  std::vector<double> acc(B);
  for (std::size_t a0 = j0; a0 < j1; a0 += B) {
    const std::size_t len = std::min(B, j1 - a0);
    for (std::size_t c : e.inputs) std::copy(rows + c * stride + a0, rows + c * stride + a0 + len, S + c * B);
    std::fill(acc.begin(), acc.end(), kNegInf);
    for (std::uint64_t a = 0; a < assignments; ++a) {
      for (std::size_t i = 0; i < e.shared.size(); ++i)
        std::fill(S + e.shared[i] * B, S + e.shared[i] * B + len, (a >> i) & 1 ? 0.0 : kNegInf);
      for (std::size_t u : e.affected) eval_task(model, u, S, B, S + u * B, 0, len, ws);
      const double* cond = S + e.task * B;
      for (std::size_t j = 0; j < len; ++j) {
        const double lw = log_weight(e, a, rows, stride, a0 + j);
        if (lw != kNegInf && cond[j] != kNegInf) acc[j] = logaddexp(acc[j], lw + cond[j]);
      }
    }
    for (std::size_t j = 0; j < len; ++j) rows[e.task * stride + a0 + j] = std::min(acc[j], 0.0);
  }
}

}  // namespace capgraph::detail
