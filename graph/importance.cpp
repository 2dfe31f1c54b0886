// capgraph/graph/importance.cpp — DESIGN.md 3.5.
//
// Birnbaum by one reverse (adjoint) pass over T's cone. Every gate is
// monotone non-decreasing in its children, so every partial derivative is
// >= 0 and the adjoint is carried as ln B: deep `all` chains, where P_T and
// B underflow, keep exact criticalities (B_i P_i / P_T = exp(ln B_i + ln P_i - ln P_T)).
//
// Local partials of a task v with gate value P_gate and guess g (per use of
// child c with count n_c; P_v = g + (1 - g) P_gate):
//   all       (1-g) n_c P_gate / P_c
//   any       (1-g) n_c (1-P_c)^(n_c-1) prod_{i != c} (1-P_i)^n_i
//   best_of   (1-g) n (1-P_c)^(n-1)
//   at_least  (1-g) n_c P(exactly k-1 successes among the other uses)
//   mean      (1-g) w_c / sum w
// summed over the uses, then over parents (chain rule).
//
// Improvement potential: P_T with P_i := 1, minus P_T. When i reaches T by a
// single path of single uses, P_T is affine in P_i and IP_i = B_i (1 - P_i)
// exactly; otherwise only i's ancestors inside the cone are re-evaluated.
#include "graph/importance.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "graph/curve_eval.hpp"
#include "graph/evaluation.hpp"
#include "graph/node_kernels.hpp"
#include "graph/shared.hpp"

namespace capgraph {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// ln of the sum of n_u * t_u over the uses of v except one copy of use `skip`,
// where t = term(lnP of the child) may be -inf (0 * -inf is taken as 0).
template <class Term>
double log_product_except(const Model& m, std::size_t v, const std::vector<double>& lp, std::size_t skip, Term term) {
  double sum = 0;
  for (std::size_t u = m.use_begin(v); u < m.use_end(v); ++u) {
    const double n = u == skip ? m.use_count(u) - 1 : m.use_count(u);
    if (n == 0) continue;
    const double t = term(lp[m.use_child(u)]);
    if (t == kNegInf) return kNegInf;
    sum += n * t;
  }
  return sum;
}

// P(exactly k-1 successes among the uses of v other than one copy of `skip`).
double exactly_k_minus_1_except(const Model& m, std::size_t v, const std::vector<double>& lp, std::size_t skip) {
  const auto k = static_cast<std::size_t>(m.node(v).k);
  std::vector<double> d(k + 1, 0.0);  // d[k] absorbs "k or more"
  d[0] = 1;
  for (std::size_t u = m.use_begin(v); u < m.use_end(v); ++u) {
    auto reps = static_cast<std::size_t>(m.use_count(u));
    if (u == skip) --reps;
    const double l = lp[m.use_child(u)];
    const double p = std::exp(l), q = -std::expm1(l);
    for (std::size_t r = 0; r < reps; ++r) {
      d[k] += d[k - 1] * p;
      for (std::size_t t = k - 1; t >= 1; --t) d[t] = d[t] * q + d[t - 1] * p;
      d[0] *= q;
    }
  }
  return d[k - 1];
}

// ln dP_v/dP_c summed over one use u of v (child c = use_child(u)).
double log_local_partial(const Model& m, std::size_t v, std::size_t u, const std::vector<double>& lp) {
  const NodeSpec& n = m.node(v);
  const double l1g = std::log1p(-n.guess);
  const std::size_t c = m.use_child(u);
  const double cnt = m.use_count(u);
  switch (n.gate) {
    case GateKind::all: {
      const double rest = log_product_except(m, v, lp, u, [](double l) { return l; });
      return l1g + std::log(cnt) + rest;
    }
    case GateKind::any: {
      const double rest = log_product_except(m, v, lp, u, [](double l) { return log1mexp(l); });
      return l1g + std::log(cnt) + rest;
    }
    case GateKind::best_of: {
      const double nb = n.best_n;
      const double rest = nb > 1 ? (nb - 1) * log1mexp(lp[c]) : 0.0;
      return l1g + std::log(nb) + (std::isnan(rest) ? kNegInf : rest);
    }
    case GateKind::at_least: {
      const double e = exactly_k_minus_1_except(m, v, lp, u);
      return e > 0 ? l1g + std::log(cnt) + std::log(e) : kNegInf;
    }
    case GateKind::mean: {
      double w = 0;
      for (std::size_t x = m.use_begin(v); x < m.use_end(v); ++x) w += m.use_count(x);
      return l1g + std::log(cnt / w);
    }
  }
  return kNegInf;
}

// ln B_i for every node of the cone (given in reverse topological order, T
// first) from the ln P values `lp`, by one reverse pass.
void adjoint_pass(const Model& model, std::size_t task, const std::vector<std::size_t>& cone,
                  const std::vector<double>& lp, std::vector<double>& lnB) {
  lnB[task] = 0;
  for (std::size_t v : cone) {
    if (!model.node(v).is_task || lnB[v] == kNegInf) continue;
    for (std::size_t u = model.use_begin(v); u < model.use_end(v); ++u) {
      const std::size_t c = model.use_child(u);
      lnB[c] = logaddexp(lnB[c], lnB[v] + log_local_partial(model, v, u, lp));
    }
  }
}

double measure(const Prerequisite& p, ImportanceOrder order) {
  switch (order) {
    case ImportanceOrder::potential: return p.improvement;
    case ImportanceOrder::birnbaum: return p.birnbaum;
    case ImportanceOrder::criticality: return p.criticality;
    case ImportanceOrder::drive: return p.drive.value_or(-std::numeric_limits<double>::infinity());
  }
  return 0;
}

}  // namespace

ImportanceTable importance(const Model& model, std::size_t task, double x, ImportanceOrder order,
                           const EvalOptions& options) {
  if (task >= model.size() || !model.node(task).is_task)
    throw ModelError("bottleneck needs a task, and `" + model.node(task).id + "` is a skill", model.node(task).loc);
  const std::vector<double> xs{x};
  const Evaluation ev = evaluate(model, xs, options);
  const std::size_t n = model.size();
  std::vector<double> lp(n);
  for (std::size_t v = 0; v < n; ++v) lp[v] = ev.log_p(v, 0);

  // The cone of T, in topological order (prerequisites first), and each
  // node's position in it.
  const auto& order_all = model.topological_order();
  std::vector<char> in_cone(n, 0);
  in_cone[task] = 1;
  std::vector<std::size_t> pos(n, 0);
  for (std::size_t i = 0; i < n; ++i) pos[order_all[i]] = i;
  std::vector<std::size_t> cone;  // reverse topological: T first
  for (std::size_t i = pos[task] + 1; i-- > 0;) {
    const std::size_t v = order_all[i];
    if (!in_cone[v]) continue;
    cone.push_back(v);
    for (std::size_t u = model.use_begin(v); u < model.use_end(v); ++u) in_cone[model.use_child(u)] = 1;
  }

  // Number of uses (paths weighted by counts; best_of n: n attempts of its
  // one reference; mean: weights are not uses).
  std::vector<double> uses(n, 0.0);
  uses[task] = 1;
  for (std::size_t v : cone) {
    if (!model.node(v).is_task) continue;
    const GateKind g = model.node(v).gate;
    for (std::size_t u = model.use_begin(v); u < model.use_end(v); ++u) {
      const double times = g == GateKind::best_of ? model.node(v).best_n : g == GateKind::mean ? 1.0 : model.use_count(u);
      uses[model.use_child(u)] += uses[v] * times;
    }
  }

  // Shared skills that T correlates (DESIGN.md 3.3): expand over them.
  std::optional<detail::SharedExpansion> expansion;
  if (model.has_shared()) {
    detail::SharedLimits limits;
    limits.max_expanded = options.max_shared_expanded;
    limits.max_work = options.max_shared_work;
    detail::SharedPlan plan = detail::plan_shared(model, 1, limits);
    if (plan.index[task] >= 0) expansion = plan.expansions[static_cast<std::size_t>(plan.index[task])];
  }

  std::vector<double> lnB(n, kNegInf);
  std::vector<double> p_if_one(n, -1.0);  // exact P_T with P_i := 1, where computed here
  if (!expansion) {
    adjoint_pass(model, task, cone, lp, lnB);
  } else {
    // P_T = sum_a w(a) P(T | a); for i outside K, dP_T/dP_i = sum_a w(a) dP(T|a)/dP_i
    // (the conditional model is independent); for s in K, B_s = P(T|s=1) - P(T|s=0).
    const auto& e = *expansion;
    const std::size_t k = e.shared.size();
    std::vector<double> cond = lp, lnBa(n), B(n, 0.0), p1(k, 0.0), p0(k, 0.0);
    detail::Workspace ws;
    ws.acc.resize(1);
    auto conditional = [&](std::uint64_t a, std::ptrdiff_t forced) {
      for (std::size_t i = 0; i < k; ++i) cond[e.shared[i]] = (a >> i) & 1 ? 0.0 : kNegInf;
      if (forced >= 0) cond[static_cast<std::size_t>(forced)] = 0.0;
      for (auto it = cone.rbegin(); it != cone.rend(); ++it)
        if (model.node(*it).is_task && static_cast<std::ptrdiff_t>(*it) != forced)
          detail::eval_task(model, *it, cond.data(), 1, &cond[*it], 0, 1, ws);
      const double result = cond[task];
      if (forced >= 0) cond[static_cast<std::size_t>(forced)] = lp[static_cast<std::size_t>(forced)];
      return result;
    };
    for (std::uint64_t a = 0; a < (std::uint64_t{1} << k); ++a) {
      const double lw = detail::log_weight(e, a, lp.data(), 1, 0);
      const double lpt = conditional(a, -1);
      std::fill(lnBa.begin(), lnBa.end(), kNegInf);
      adjoint_pass(model, task, cone, cond, lnBa);
      for (std::size_t v : cone) B[v] += std::exp(lw + lnBa[v]);
      for (std::size_t i = 0; i < k; ++i) {
        double lw_i = 0;  // the weight without s_i's own factor
        for (std::size_t q = 0; q < k; ++q)
          if (q != i) lw_i += (a >> q) & 1 ? lp[e.shared[q]] : log1mexp(lp[e.shared[q]]);
        ((a >> i) & 1 ? p1 : p0)[i] += std::exp(lw_i + lpt);
      }
    }
    for (std::size_t v : cone) lnB[v] = B[v] > 0 ? std::log(B[v]) : kNegInf;
    for (std::size_t i = 0; i < k; ++i) {
      lnB[e.shared[i]] = p1[i] > p0[i] ? std::log(p1[i] - p0[i]) : kNegInf;
      p_if_one[e.shared[i]] = p1[i];
    }
    for (std::size_t v : cone) {  // improvement potential: re-expand with P_v := 1
      if (v == task || p_if_one[v] >= 0) continue;
      double acc = 0;
      for (std::uint64_t a = 0; a < (std::uint64_t{1} << k); ++a)
        acc += std::exp(detail::log_weight(e, a, lp.data(), 1, 0) + conditional(a, static_cast<std::ptrdiff_t>(v)));
      p_if_one[v] = acc;
    }
  }

  ImportanceTable table;
  table.task = task;
  table.point = ev.points()[0];
  table.p_task = std::exp(lp[task]);
  const ScalingLaw& law = model.spec().scale.law;

  // Improvement potential by re-evaluating i's ancestors inside the cone.
  std::vector<double> scratch = lp;
  detail::Workspace ws;
  ws.acc.resize(1);
  std::vector<char> mark(n, 0);
  std::vector<std::size_t> anc;
  auto improvement = [&](std::size_t i) {
    if (p_if_one[i] >= 0) return std::max(0.0, p_if_one[i] - table.p_task);
    const double p_i = std::exp(lp[i]);
    if (uses[i] == 1.0) return std::exp(lnB[i]) * (1 - p_i);  // affine in P_i
    anc.clear();
    std::vector<std::size_t> stack{i};
    mark[i] = 1;
    while (!stack.empty()) {
      const std::size_t v = stack.back();
      stack.pop_back();
      for (auto [e, end] = boost::in_edges(v, model.graph()); e != end; ++e) {
        const std::size_t p = boost::source(*e, model.graph());
        if (!in_cone[p] || mark[p]) continue;
        mark[p] = 1;
        anc.push_back(p);
        stack.push_back(p);
      }
    }
    std::sort(anc.begin(), anc.end(), [&](std::size_t a, std::size_t b) { return pos[a] < pos[b]; });
    scratch[i] = 0.0;  // P_i := 1
    for (std::size_t v : anc) detail::eval_task(model, v, scratch.data(), 1, &scratch[v], 0, 1, ws);
    const double improved = std::exp(scratch[task]);
    scratch[i] = lp[i];
    mark[i] = 0;
    for (std::size_t v : anc) {
      scratch[v] = lp[v];
      mark[v] = 0;
    }
    return std::max(0.0, improved - table.p_task);
  };

  for (std::size_t v : cone) {
    if (v == task) continue;
    Prerequisite p;
    p.node = v;
    p.p = std::exp(lp[v]);
    p.uses = uses[v];
    p.birnbaum = std::exp(lnB[v]);
    p.criticality = lp[task] == kNegInf || lp[v] == kNegInf ? 0.0 : std::exp(lnB[v] + lp[v] - lp[task]);
    p.improvement = improvement(v);
    if (!model.node(v).is_task) {
      const NodeSpec& leaf = model.node(v);
      const double dp = (leaf.ceiling - leaf.floor) * curve_dp_dlog10x(leaf.curve, law, table.point);
      p.drive = p.birnbaum * dp;
      table.dp_task_dlog10x += *p.drive;
    }
    table.rows.push_back(p);
  }
  std::stable_sort(table.rows.begin(), table.rows.end(), [&](const Prerequisite& a, const Prerequisite& b) {
    const double ma = measure(a, order), mb = measure(b, order);
    if (ma != mb) return ma > mb;
    return a.node < b.node;
  });

  // Critical path: descend to the child with the largest improvement potential.
  std::vector<double> ip(n, -1.0);
  for (const auto& r : table.rows) ip[r.node] = r.improvement;
  std::size_t v = task;
  table.critical_path.push_back(v);
  while (model.node(v).is_task) {
    std::size_t best = model.use_child(model.use_begin(v));
    for (std::size_t u = model.use_begin(v); u < model.use_end(v); ++u) {
      const std::size_t c = model.use_child(u);
      if (ip[c] > ip[best] || (ip[c] == ip[best] && c < best)) best = c;
    }
    v = best;
    table.critical_path.push_back(v);
  }
  return table;
}

}  // namespace capgraph
