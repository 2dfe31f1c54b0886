// capgraph/graph/importance.cpp — docs/measures.md §6: the bottleneck
// query's driver (the parts: importance_detail.hpp).
//
// Birnbaum by one reverse (adjoint) pass over T's cone
// (importance_measures.cpp). Improvement potential: P_T with P_i := 1,
// minus P_T, exact. When i reaches T by a single path of single uses, P_T
// is affine in P_i and IP_i = B_i (1 - P_i); otherwise i's ancestors inside
// the cone are updated incrementally (ImprovementSweep: node-major, every
// query's changes of a node together), the queries split over
// options.threads workers. With shared skills that T correlates, both come
// from the Shannon expansion instead (docs/measures.md §4).
#include "graph/importance.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <optional>

#include "graph/curve_eval.hpp"
#include "graph/evaluation.hpp"
#include "graph/importance_detail.hpp"
#include "graph/improvement_sweep.hpp"
#include "graph/node_kernels.hpp"
#include "graph/shared.hpp"
#include "graph/workers.hpp"

namespace capgraph {

namespace {

using namespace importance_detail;

// What the query needs from the model alone, by position: T's cone (T
// first, children after their tasks: descending position), the number of
// uses (paths weighted by counts; best_of n: n attempts of its one
// reference; mean: weights are not uses), the cone's skills in spec order;
// and the prerequisites whose improvement potential needs their ancestors
// updated (ImprovementSweep: those reached by more than one path or use;
// P_T is affine in the others' P).
struct Cone {
  Cone(std::size_t n, std::uint32_t tpos) : uses(tpos + 1, 0.0), has_drive(tpos + 1, 0), leaf_at(n, kNone) {}
  static constexpr std::uint32_t kNone = ImprovementPlan::kNone;
  std::vector<std::uint32_t> cone;
  std::vector<double> uses;
  std::vector<char> has_drive;         // by position: a skill of the cone
  std::vector<std::uint32_t> leaf_at;  // by node: its position, for the cone's skills
  std::vector<std::uint32_t> leaves;   // the cone's skills, in spec order
  std::vector<std::uint32_t> queries;
};

Cone describe_cone(const Ops& ops, std::size_t n, std::uint32_t tpos) {
  Cone c(n, tpos);
  c.cone = *cone_positions(ops, tpos, std::size_t{tpos} + 1);  // never more than tpos + 1 nodes
  c.uses[tpos] = 1;
  for (const std::uint32_t i : c.cone) {
    const detail::EvalOp& op = ops.op[i];
    for (std::uint32_t u = op.use_begin; u < op.use_end; ++u) {
      const double times = op.gate == GateKind::best_of ? op.best_n : op.gate == GateKind::mean ? 1.0 : ops.count[u];
      c.uses[ops.child[u]] += c.uses[i] * times;
    }
  }
  for (std::size_t r = 1; r < c.cone.size(); ++r) {
    const detail::EvalOp& op = ops.op[c.cone[r]];
    if (op.use_begin == op.use_end && !op.is_task) {
      c.leaf_at[op.node] = c.cone[r];
      c.has_drive[c.cone[r]] = 1;
    }
  }
  for (std::size_t v = 0; v < n; ++v)
    if (c.leaf_at[v] != Cone::kNone) c.leaves.push_back(static_cast<std::uint32_t>(v));
  for (const std::uint32_t i : c.cone)
    if (i != tpos && c.uses[i] != 1.0) c.queries.push_back(i);
  return c;
}

// The evaluation at the point. A cone of at most a quarter of the model is
// evaluated alone (the query on a 2,203-node cone of the 100k benchmark
// spec: 16-21 -> 10-13 ms); the scan that finds out gives up early on a
// larger one.
Evaluation evaluate_for_query(const Model& model, const Ops& ops, std::uint32_t tpos, double x,
                              const EvalOptions& options) {
  EvalOptions o = options;
  o.partial_credit = false;  // P is all the query reads
  o.keep.reset();
  if (const auto small = cone_positions(ops, tpos, model.size() / 4)) {
    o.keep.emplace();
    o.keep->reserve(small->size());
    for (const std::uint32_t i : *small) o.keep->push_back(ops.op[i].node);
  }
  return evaluate(model, std::vector<double>{x}, o);
}

// Where P_T is affine in P_i (one path of single uses): B itself and the
// improvement potential B_i (1 - P_i), once ln B is known.
void from_birnbaum(const Cone& c, const std::vector<double>& lp, Measures& m) {
  const std::uint32_t tpos = c.cone[0];
  for (const std::uint32_t i : c.cone) {
    m.birnbaum[i] = std::exp(m.lnB[i]);
    if (i != tpos && c.uses[i] == 1.0) m.improvement[i] = m.birnbaum[i] * -std::expm1(lp[i]);
  }
}

// Each skill's drive per unit of Birnbaum, (ceiling - floor) dp/dlog10 x,
// from its NodeSpec, read in spec order (in cone order every NodeSpec, and
// a `points` curve's knots, is a cache miss of its own): chunks of skills
// taken by whichever worker calls run() while some are left.
struct DriveFactors {
  const Model& model;
  const Cone& c;
  const ScalePoint& point;
  std::vector<double>& drive;
  std::atomic<std::size_t> next{0};
  void run() {
    constexpr std::size_t kChunk = 1024;
    const ScalingLaw& law = model.spec().scale.law;
    for (std::size_t b; (b = next.fetch_add(kChunk)) < c.leaves.size();)
      for (std::size_t k = b; k < std::min(c.leaves.size(), b + kChunk); ++k) {
        const NodeSpec& leaf = model.node(c.leaves[k]);
        drive[c.leaf_at[c.leaves[k]]] = (leaf.ceiling - leaf.floor) * curve_dp_dlog10x(leaf.curve, law, point);
      }
  }
};

// Without an expansion: the adjoint pass (then B) on the first worker; the
// plan's values on the last, which then starts the sweep; the first joins
// the sweep once the plan is ready, and both end with the drive factors.
// The sweep's queries go in blocks of consecutive queries in cone order
// (they share ancestors), each taken by the next free worker, the deepest
// (longest) first; a block's values do not depend on which worker runs it,
// and each is written by index, so the table is the same for any thread
// count.
void measures_by_sweep(const Model& model, const Ops& ops, const Cone& c, std::optional<ImprovementPlan>& plan,
                       const std::vector<double>& lp, double p_task, unsigned threads, DriveFactors& drive,
                       Measures& m) {
  const std::vector<std::uint32_t>& queries = c.queries;
  std::vector<std::uint32_t> at;  // the queries' positions in the plan
  const std::size_t blocks = (queries.size() + ImprovementSweep::kBlock - 1) / ImprovementSweep::kBlock;
  std::vector<double> log_p_if_one(queries.size());
  std::atomic<std::size_t> next_block{0};
  auto sweep_blocks = [&] {
    std::optional<ImprovementSweep> sweep;  // this worker's scratch, made at its first block
    for (std::size_t b; (b = next_block.fetch_add(1)) < blocks;) {
      b = blocks - 1 - b;
      if (!sweep) sweep.emplace(*plan);
      const std::size_t b0 = b * ImprovementSweep::kBlock;
      const std::size_t b1 = std::min(at.size(), b0 + ImprovementSweep::kBlock);
      sweep->run(at, b0, b1, log_p_if_one.data());
      for (std::size_t j = b0; j < b1; ++j)
        m.improvement[queries[j]] = std::max(0.0, std::exp(log_p_if_one[j]) - p_task);
    }
  };
  const unsigned two = detail::worker_count(threads, 2);
  std::atomic<bool> plan_ready{queries.empty()}, plan_ok{queries.empty()};
  detail::run_workers(two, [&](unsigned w) {
    if (w + 1 == two && !queries.empty()) {
      // Ready even if this throws (run_workers rethrows it), so that the
      // first worker never waits for ever; plan_ok says whether to sweep.
      struct Ready {
        std::atomic<bool>& flag;
        ~Ready() {
          flag.store(true);
          flag.notify_all();
        }
      } ready{plan_ready};
      if (!plan) plan.emplace(model, ops, c.cone);
      plan->set_values(lp);
      for (const std::uint32_t i : queries) at.push_back(plan->pos[i]);
      plan_ok.store(true);
    }
    if (w == 0) {
      adjoint_pass(ops, c.cone, lp.data(), m.lnB.data());
      from_birnbaum(c, lp, m);
    }
    plan_ready.wait(false);
    if (plan_ok.load()) sweep_blocks();
    drive.run();
  });
}

// With the shared skills of T's expansion e: P_T = sum_a w(a) P(T | a); for
// i outside K, dP_T/dP_i = sum_a w(a) dP(T|a)/dP_i (the conditional model
// is independent); for s in K, B_s = P(T|s=1) - P(T|s=0); and the
// improvement potentials by re-expanding with P_i := 1 (into p_if_one).
// The expansion and the engine's kernel work by node; cond is by node.
void measures_by_expansion(const Model& model, const Ops& ops, const Cone& c, const detail::SharedExpansion& e,
                           std::size_t task, const std::vector<double>& lp, const EvalOptions& options,
                           DriveFactors& drive, Measures& m) {
  const std::vector<std::uint32_t>& cone = c.cone;
  const std::size_t n = model.size(), tpos = cone[0];
  const std::size_t k = e.shared.size();
  std::vector<double> lp_node(n);
  for (std::size_t i = 0; i < n; ++i) lp_node[ops.op[i].node] = lp[i];
  std::vector<double> cond = lp_node, cond_pos(tpos + 1), lnBa(tpos + 1), B(tpos + 1, 0.0), p1(k, 0.0), p0(k, 0.0);
  detail::Workspace ws;
  ws.model = &model;
  ws.max_at_least_work = options.max_at_least_work;
  auto conditional = [&](std::uint64_t a, std::ptrdiff_t forced) {
    for (std::size_t i = 0; i < k; ++i) cond[e.shared[i]] = (a >> i) & 1 ? 0.0 : kNegInf;
    if (forced >= 0) cond[static_cast<std::size_t>(forced)] = 0.0;
    for (auto it = cone.rbegin(); it != cone.rend(); ++it) {
      const std::size_t v = ops.op[*it].node;
      if (ops.op[*it].is_task && static_cast<std::ptrdiff_t>(v) != forced)
        detail::eval_task(model, v, cond.data(), 1, &cond[v], 0, 1, ws);
    }
    const double result = cond[task];
    if (forced >= 0) cond[static_cast<std::size_t>(forced)] = lp_node[static_cast<std::size_t>(forced)];
    return result;
  };
  for (std::uint64_t a = 0; a < (std::uint64_t{1} << k); ++a) {
    const double lw = detail::log_weight(e, a, lp_node.data(), 1, 0);
    const double lpt = conditional(a, -1);
    for (const std::uint32_t i : cone) cond_pos[i] = cond[ops.op[i].node];
    std::fill(lnBa.begin(), lnBa.end(), kNegInf);
    adjoint_pass(ops, cone, cond_pos.data(), lnBa.data());
    for (const std::uint32_t i : cone) B[i] += std::exp(lw + lnBa[i]);
    for (std::size_t i = 0; i < k; ++i) {
      double lw_i = 0;  // the weight without s_i's own factor
      for (std::size_t q = 0; q < k; ++q)
        if (q != i) lw_i += (a >> q) & 1 ? lp_node[e.shared[q]] : log1mexp(lp_node[e.shared[q]]);
      ((a >> i) & 1 ? p1 : p0)[i] += std::exp(lw_i + lpt);
    }
  }
  for (const std::uint32_t i : cone) m.lnB[i] = B[i] > 0 ? std::log(B[i]) : kNegInf;
  for (std::size_t i = 0; i < k; ++i) {
    const std::size_t s = detail::program(model).pos[e.shared[i]];
    m.lnB[s] = p1[i] > p0[i] ? std::log(p1[i] - p0[i]) : kNegInf;
    m.p_if_one[s] = p1[i];
  }
  from_birnbaum(c, lp, m);
  drive.run();
  for (const std::uint32_t i : cone) {  // improvement potential: re-expand with P_v := 1
    if (i == tpos || m.p_if_one[i] >= 0) continue;
    double acc = 0;
    for (std::uint64_t a = 0; a < (std::uint64_t{1} << k); ++a)
      acc += std::exp(detail::log_weight(e, a, lp_node.data(), 1, 0) +
                      conditional(a, static_cast<std::ptrdiff_t>(ops.op[i].node)));
    m.p_if_one[i] = acc;
  }
}

// With shared skills T correlates (docs/measures.md §4) and a decision
// diagram over them (bdd.hpp): exact Birnbaum from one reverse pass over
// the diagram, and P_T with P_i := 1 for every prerequisite (into p_if_one).
void measures_by_diagram(const Model& model, const Ops& ops, const Cone& c, std::size_t task,
                         const std::vector<double>& lp, const EvalOptions& options, DriveFactors& drive, Measures& m) {
  const std::uint32_t tpos = c.cone[0];
  const std::size_t n = model.size();
  std::vector<double> lp_node(n);
  std::vector<std::size_t> nodes;
  for (std::size_t i = 0; i < n; ++i) lp_node[ops.op[i].node] = lp[i];
  for (const std::uint32_t i : c.cone) nodes.push_back(ops.op[i].node);
  const auto di = detail::diagram_importance(
      model, task, nodes, lp_node, options.max_bdd_nodes,
      [&](std::size_t t, const double* lp_pos, std::vector<double>& out) {
        log_local_partials(ops, detail::program(model).pos[t], lp_pos, out);
      });
  for (const std::uint32_t i : c.cone) {
    const std::size_t v = ops.op[i].node;
    m.lnB[i] = i == tpos ? 0.0 : di.birnbaum[v] > 0 ? std::log(di.birnbaum[v]) : kNegInf;
    if (i != tpos) m.p_if_one[i] = di.p_if_one[v];
  }
  from_birnbaum(c, lp, m);
  drive.run();
}

// How T's shared skills are handled: a small Shannon expansion gives every
// measure at once; otherwise, where T correlates shared skills at all, the
// decision diagram (`by_diagram`).
std::optional<detail::SharedExpansion> expansion_of(const Model& model, std::size_t task, const EvalOptions& options,
                                                    bool& by_diagram) {
  by_diagram = false;
  if (!model.has_shared()) return std::nullopt;
  auto expansion = detail::small_expansion(model, task, options.small_expansion, by_diagram);
  by_diagram = by_diagram && !expansion;
  return expansion;
}

}  // namespace

ImportanceTable importance(const Model& model, std::size_t task, double x, ImportanceOrder order,
                           const EvalOptions& options) {
  if (task >= model.size() || !model.node(task).is_task)
    throw ModelError("bottleneck needs a task, and `" + model.node(task).id + "` is a skill", model.node(task).loc);
  const std::size_t n = model.size();
  const Ops ops(model, options.max_at_least_work);
  const ScalePoint point = model.axis().at(x);  // as evaluate() makes it
  const auto tpos = static_cast<std::uint32_t>(detail::program(model).pos[task]);
  // The evaluation at the point on one worker; beside it, what needs only
  // the model, with the part of the sweep's plan that needs no P.
  std::optional<Evaluation> ev;
  std::optional<Cone> cone;
  std::optional<ImprovementPlan> plan;
  const unsigned pair = detail::worker_count(options.threads, 2);
  detail::run_workers(pair, [&](unsigned w) {
    if (w == 0) ev.emplace(evaluate_for_query(model, ops, tpos, x, options));
    if (w + 1 != pair) return;
    cone.emplace(describe_cone(ops, n, tpos));
    // (With shared skills T may need the expansion instead: decided below.)
    if (!cone->queries.empty() && !model.has_shared()) plan.emplace(model, ops, cone->cone);
  });
  std::vector<double> lp(n);  // ln P (NaN outside T's cone where only the cone was evaluated: never read)
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t v = ops.op[i].node;
    lp[i] = ev->has_row(v) ? ev->log_p(v, 0) : std::numeric_limits<double>::quiet_NaN();
  }

  ImportanceTable table;
  table.task = task;
  table.point = point;
  table.p_task = std::exp(lp[tpos]);
  Measures m(tpos + 1);
  DriveFactors drive{model, *cone, point, m.drive};
  bool by_diagram = false;
  const auto expansion = expansion_of(model, task, options, by_diagram);
  if (expansion || by_diagram) {
    if (expansion) measures_by_expansion(model, ops, *cone, *expansion, task, lp, options, drive, m);
    else measures_by_diagram(model, ops, *cone, task, lp, options, drive, m);
    for (const std::uint32_t i : cone->cone)
      if (i != tpos && m.p_if_one[i] >= 0) m.improvement[i] = std::max(0.0, m.p_if_one[i] - table.p_task);
  } else {
    measures_by_sweep(model, ops, *cone, plan, lp, table.p_task, options.threads, drive, m);
  }
  rank_rows(model, ops, cone->cone, lp, cone->uses, cone->has_drive, m, order, options.threads, table);
  table.critical_path = critical_path(model, task, m.improvement);
  return table;
}

}  // namespace capgraph
