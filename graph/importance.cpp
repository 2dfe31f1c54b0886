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
// summed over the uses, then over parents (chain rule). Each node's
// partials take O(uses) together (O(uses k) for at_least, from prefix and
// suffix distributions): the product over "the other uses" is the total with
// one copy taken out, not a new product per use.
//
// Improvement potential: P_T with P_i := 1, minus P_T, exact. When i reaches
// T by a single path of single uses, P_T is affine in P_i and IP_i =
// B_i (1 - P_i); otherwise i's ancestors inside the cone are updated
// incrementally (ImprovementSolver below), one prerequisite after another,
// over options.threads workers.
#include "graph/importance.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "graph/curve_eval.hpp"
#include "graph/evaluation.hpp"
#include "graph/node_kernels.hpp"
#include "graph/shared.hpp"
#include "graph/workers.hpp"

namespace capgraph {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// Drops one trial of probability p (1 - p = q) into a success-count
// distribution truncated to 0..k-1 successes (d has k entries).
void fold_trial(double* d, std::size_t k, double p, double q) {
  for (std::size_t t = k - 1; t >= 1; --t) d[t] = d[t] * q + d[t - 1] * p;
  d[0] *= q;
}

// ln dP_v/dP_c for every use u of task v (child c = use_child(u)), summed
// over the copies of that use, into out[u - use_begin(v)]. O(uses) per node
// (O(uses k) for at_least): the product over "every other use" is the total
// with one copy of u taken out, not a fresh product per use.
void log_local_partials(const Model& m, std::size_t v, const std::vector<double>& lp, std::vector<double>& out) {
  const NodeSpec& n = m.node(v);
  const std::size_t ub = m.use_begin(v), ue = m.use_end(v);
  out.assign(ue - ub, kNegInf);
  const double l1g = std::log1p(-n.guess);
  switch (n.gate) {
    case GateKind::all:
    case GateKind::any: {
      // rest_u = sum_w n'_w t_w with n'_u = n_u - 1, t = ln P (all) or
      // ln(1 - P) (any); a term -inf (0 * -inf counts as 0) is kept apart.
      auto term = [&](std::size_t u) {
        const double l = lp[m.use_child(u)];
        return n.gate == GateKind::all ? l : log1mexp(l);
      };
      double finite = 0;
      std::size_t infinite = 0;
      for (std::size_t u = ub; u < ue; ++u) {
        const double t = term(u);
        if (t == kNegInf) ++infinite;
        else finite += m.use_count(u) * t;
      }
      for (std::size_t u = ub; u < ue; ++u) {
        const double t = term(u), cnt = m.use_count(u);
        double rest;
        if (t != kNegInf) rest = infinite > 0 ? kNegInf : finite - t;
        else rest = cnt - 1 > 0 || infinite > 1 ? kNegInf : finite;
        out[u - ub] = l1g + std::log(cnt) + rest;
      }
      return;
    }
    case GateKind::best_of: {
      const double nb = n.best_n;
      const double rest = nb > 1 ? (nb - 1) * log1mexp(lp[m.use_child(ub)]) : 0.0;
      out[0] = l1g + std::log(nb) + (std::isnan(rest) ? kNegInf : rest);
      return;
    }
    case GateKind::at_least: {
      // P(exactly k-1 successes among the other trials) = sum_j
      // before_u[j] * (after_u with n_u - 1 copies of u)[k-1-j], from
      // prefix distributions stored forward and a suffix carried backward.
      const auto k = static_cast<std::size_t>(n.k);
      const std::size_t nu = ue - ub;
      std::vector<double> pre((nu + 1) * k, 0.0), suf(k, 0.0), mid(k);
      pre[0] = 1;
      auto pq = [&](std::size_t u) {
        const double l = lp[m.use_child(u)];
        return std::pair{std::exp(l), -std::expm1(l)};
      };
      for (std::size_t i = 0; i < nu; ++i) {
        std::copy_n(&pre[i * k], k, &pre[(i + 1) * k]);
        const auto [p, q] = pq(ub + i);
        for (auto r = static_cast<std::size_t>(m.use_count(ub + i)); r > 0; --r) fold_trial(&pre[(i + 1) * k], k, p, q);
      }
      suf[0] = 1;
      for (std::size_t i = nu; i-- > 0;) {
        const auto [p, q] = pq(ub + i);
        const auto reps = static_cast<std::size_t>(m.use_count(ub + i));
        mid = suf;
        for (std::size_t r = 1; r < reps; ++r) fold_trial(mid.data(), k, p, q);
        double e = 0;
        for (std::size_t j = 0; j < k; ++j) e += pre[i * k + j] * mid[k - 1 - j];
        out[i] = e > 0 ? l1g + std::log(static_cast<double>(reps)) + std::log(e) : kNegInf;
        for (std::size_t r = 0; r < reps; ++r) fold_trial(suf.data(), k, p, q);
      }
      return;
    }
    case GateKind::mean: {
      double w = 0;
      for (std::size_t u = ub; u < ue; ++u) w += m.use_count(u);
      for (std::size_t u = ub; u < ue; ++u) out[u - ub] = l1g + std::log(m.use_count(u) / w);
      return;
    }
  }
}

// ln B_i for every node of the cone (given in reverse topological order, T
// first) from the ln P values `lp`, by one reverse pass.
void adjoint_pass(const Model& model, std::size_t task, const std::vector<std::size_t>& cone,
                  const std::vector<double>& lp, std::vector<double>& lnB) {
  lnB[task] = 0;
  std::vector<double> partial;
  for (std::size_t v : cone) {
    if (!model.node(v).is_task || lnB[v] == kNegInf) continue;
    log_local_partials(model, v, lp, partial);
    for (std::size_t u = model.use_begin(v); u < model.use_end(v); ++u) {
      const std::size_t c = model.use_child(u);
      lnB[c] = logaddexp(lnB[c], lnB[v] + partial[u - model.use_begin(v)]);
    }
  }
}

// P_T with one prerequisite's P_i set to 1, for one prerequisite after
// another. Only i's ancestors inside the cone change, and each is updated
// from the changes of its changed children rather than re-evaluated whole
// (c: a changed child, d = ln P_c' - ln P_c > 0):
//   all          ln P' = ln P + sum_u n_u d_u       (a child leaving P = 0:
//                                                    one zero fewer, + n_u ln P_c')
//   any/best_of  ln(1 - P') = ln(1 - P) + sum_u n_u (ln(1 - P_c') - ln(1 - P_c))
//   mean         ln P' = ln P + ln(1 + sum_u (w_u/W) (P_c/P) expm1(d_u))
//   at_least     one changed use of count 1: P is affine in it,
//                ln P' = ln P + ln(1 + E_u (P_c/P) expm1(d_u)), with E_u =
//                P(exactly k-1 of the other uses) from the adjoint's partials
// so a change costs O(1) per reference (a `mean` of 11,631 tasks is not
// re-summed for every prerequisite below it), and the transcendental
// functions run once per changed node, not per reference. `guess` is
// applied to the updated gate value. Re-evaluated whole by the engine's own
// kernel instead: `guess` under mean/at_least, and the edge cases (P = 0
// under mean/at_least, P below 1e-280 under any/at_least, a ratio past
// e^700, two changed uses of one `at_least`, a use of count > 1 under
// `at_least`). Ancestors are visited level by level (one more than the
// highest child's level), so every child is final before its parents; a
// node whose value does not move stops the change there. The cost of one
// prerequisite is the number of references among its ancestors (about 200
// on the 100k-node benchmark cone), not the size of the cone.
//
// ImprovementPlan holds what every query shares (read-only, one per
// table); each worker's ImprovementSolver holds one query's changes.
class ImprovementPlan {
 public:
  ImprovementPlan(const Model& model, std::size_t top, const std::vector<std::size_t>& cone,
                  const std::vector<double>& logp)
      : m(model), task(top), lp(logp), lq(model.size()), node(model.size()) {
    for (std::size_t v : cone) lq[v] = log1mexp(lp[v]);
    std::vector<double> partial;
    // References into every cone node from inside the cone, by child.
    std::vector<std::uint32_t> begin(m.size() + 1, 0);
    for (std::size_t v : cone)
      for (std::size_t u = m.use_begin(v); u < m.use_end(v); ++u) ++begin[m.use_child(u) + 1];
    for (std::size_t v = 0; v < m.size(); ++v) begin[v + 1] += begin[v];
    ref_begin = begin;
    refs.resize(begin[m.size()]);
    for (auto it = cone.rbegin(); it != cone.rend(); ++it) {  // children first
      const std::size_t v = *it;
      const NodeSpec& n = m.node(v);
      Node& d = node[v];
      const std::size_t ub = m.use_begin(v), ue = m.use_end(v);
      for (std::size_t u = ub; u < ue; ++u) d.level = std::max(d.level, node[m.use_child(u)].level + 1);
      levels = std::max<std::size_t>(levels, d.level + 1);
      if (!n.is_task) continue;
      const double l = lp[v];
      double wsum = 0;
      for (std::size_t u = ub; u < ue; ++u) wsum += m.use_count(u);
      d.guessed = n.guess != 0;
      if (d.guessed && (n.gate == GateKind::mean || n.gate == GateKind::at_least)) {
        d.kind = kWhole;
      } else if (n.gate == GateKind::all) {
        d.kind = kLog;
        for (std::size_t u = ub; u < ue; ++u)
          if (lp[m.use_child(u)] == kNegInf) ++d.zeros;
          else d.base += m.use_count(u) * lp[m.use_child(u)];
      } else if (n.gate == GateKind::any || n.gate == GateKind::best_of) {
        for (std::size_t u = ub; u < ue; ++u) d.base += weight(v, u) * lq[m.use_child(u)];
        d.kind = d.base <= -1e-280 ? kComplement : kWhole;  // else the kernel's tiny-P branch
      } else if (n.gate == GateKind::mean) {
        d.kind = l != kNegInf ? kLinear : kWhole;
      } else {  // at_least
        d.kind = l > -600 ? kSingle : kWhole;
        if (d.kind == kSingle) log_local_partials(m, v, lp, partial);
      }
      for (std::size_t u = ub; u < ue; ++u) {
        const std::size_t c = m.use_child(u);
        Ref r{static_cast<std::uint32_t>(v), false, weight(v, u), 0.0};
        if (d.kind == kLinear) {
          r.alt = m.use_count(u) / wsum;
          r.coef = r.alt * std::exp(lp[c] - l);
        } else if (d.kind == kSingle) {
          r.whole = m.use_count(u) != 1 || partial[u - ub] == kNegInf;
          r.alt = r.whole ? 0.0 : std::exp(partial[u - ub]);  // E_u
          r.coef = r.whole ? 0.0 : std::exp(partial[u - ub] + lp[c] - l);
        }
        refs[begin[c]++] = r;
      }
    }
  }

  enum Kind : std::uint8_t { kLog, kComplement, kLinear, kSingle, kWhole };
  struct Node {
    double base = 0;  // kLog: sum of n_u ln P_c over children with P > 0; kComplement: ln(1 - P)
    std::uint32_t level = 0;
    std::uint32_t zeros = 0;  // kLog: uses of a child with P = 0
    Kind kind = kWhole;
    bool guessed = false;  // P = g + (1 - g) gate
  };
  struct Ref {
    std::uint32_t parent;
    bool whole;   // a change through this use needs the parent re-evaluated whole
    double coef;  // n_u (all, any), n (best_of), (w_u/W) P_c/P_v (mean), E_u P_c/P_v (at_least)
    double alt;   // mean: w_u/W; at_least: E_u (for a child leaving P = 0)
  };

  const Model& m;
  std::size_t task;
  const std::vector<double>& lp;  // ln P of every node
  std::vector<double> lq;         // ln(1 - P) of every cone node
  std::vector<Node> node;
  std::size_t levels = 0;
  std::vector<std::uint32_t> ref_begin;
  std::vector<Ref> refs;

 private:
  double weight(std::size_t v, std::size_t u) const {
    return m.node(v).gate == GateKind::best_of ? m.node(v).best_n : m.use_count(u);
  }
};

// One worker's queries against a shared plan: the changed values and sums
// of one query, reset to the plan's after it.
class ImprovementSolver {
 public:
  explicit ImprovementSolver(const ImprovementPlan& plan)
      : p_(plan), cur_(plan.lp), state_(plan.m.size()), buckets_(plan.levels) {}

  /// ln P_T with P_i := 1.
  double log_p_if_one(std::size_t i) {
    const std::vector<double>& lp = p_.lp;
    if (lp[i] == 0) return lp[p_.task];
    cur_[i] = 0;
    touched_.push_back(i);
    changed(i);
    for (std::size_t l = p_.node[i].level + 1; l < buckets_.size(); ++l) {
      for (std::uint32_t v : buckets_[l]) {
        const double now = value(v);
        if (now > cur_[v]) {
          cur_[v] = now;
          changed(v);
        }
      }
      buckets_[l].clear();
    }
    const double result = cur_[p_.task];
    for (std::size_t v : touched_) {
      cur_[v] = lp[v];
      State& st = state_[v];
      st.acc = 0;
      st.zeros_gone = st.changes = 0;
      st.queued = st.whole = false;
    }
    touched_.clear();
    return result;
  }

 private:
  using Plan = ImprovementPlan;
  struct State {
    double acc = 0;               // the sum of the children's changes, as the kind takes them
    std::uint32_t zeros_gone = 0;  // kLog: uses of a child with P = 0 that left 0
    std::uint16_t changes = 0;     // kSingle: changed uses
    bool queued = false, whole = false;  // whole: an edge case met in this query
  };

  // Child c's ln P moved from lp[c] up to cur_[c]: queue its parents and
  // add the change to their sums.
  void changed(std::size_t c) {
    const double before = p_.lp[c], after = cur_[c];
    const bool from_zero = before == kNegInf;
    const double d_log = after - before;
    double d_complement = 0, d_linear = 0;  // computed on first need
    bool have_complement = false, have_linear = false;
    for (std::uint32_t r = p_.ref_begin[c]; r < p_.ref_begin[c + 1]; ++r) {
      const Plan::Ref ref = p_.refs[r];
      const Plan::Node& pn = p_.node[ref.parent];
      State& ps = state_[ref.parent];
      if (!ps.queued) {
        ps.queued = true;
        buckets_[pn.level].push_back(ref.parent);
        touched_.push_back(ref.parent);
      }
      switch (pn.kind) {
        case Plan::kLog:
          if (from_zero) {
            ++ps.zeros_gone;
            ps.acc += ref.coef * after;
          } else {
            ps.acc += ref.coef * d_log;
          }
          break;
        case Plan::kComplement:
          if (!have_complement) {
            d_complement = log1mexp(after) - p_.lq[c];  // -inf when P_c' = 1
            have_complement = true;
          }
          ps.acc += ref.coef * d_complement;
          break;
        case Plan::kSingle:
          if (ref.whole || ++ps.changes > 1) {
            ps.whole = true;
            break;
          }
          [[fallthrough]];
        case Plan::kLinear:
          if (from_zero || d_log > 700) {  // coef expm1(d) = alt P_c'/P - coef, without overflow
            const double x = after - p_.lp[ref.parent];
            if (x > 700) ps.whole = true;
            else ps.acc += ref.alt * std::exp(x) - ref.coef;
          } else {
            if (!have_linear) {
              d_linear = std::expm1(d_log);
              have_linear = true;
            }
            ps.acc += ref.coef * d_linear;
          }
          break;
        case Plan::kWhole: break;
      }
    }
  }

  double value(std::size_t v) {
    const Plan::Node& d = p_.node[v];
    const State& s = state_[v];
    const double lv = p_.lp[v];
    if (d.kind == Plan::kWhole || s.whole) {
      double out = 0;
      detail::eval_task(p_.m, v, cur_.data(), 1, &out, 0, 1, ws_);
      return out;
    }
    double gate;  // ln of the gate's new value
    switch (d.kind) {
      case Plan::kLog:
        if (s.zeros_gone < d.zeros) return lv;  // still a child with P = 0
        if (d.zeros == 0 && !d.guessed) return std::min(0.0, lv + s.acc);
        gate = d.base + s.acc;
        break;
      case Plan::kComplement: gate = log1mexp(d.base + s.acc); break;
      default: return std::min(0.0, lv + std::log1p(s.acc));
    }
    if (d.guessed) {
      const double g = p_.m.node(v).guess;
      gate = logaddexp(std::log(g), std::log1p(-g) + gate);
    }
    return std::min(0.0, gate);
  }

  const ImprovementPlan& p_;
  std::vector<double> cur_;
  std::vector<State> state_;
  std::vector<std::vector<std::uint32_t>> buckets_;
  std::vector<std::size_t> touched_;
  detail::Workspace ws_;
};

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

  // Improvement potential: exact, affine shortcut where P_T is affine in
  // P_i, otherwise the ancestors of i re-evaluated incrementally; the
  // prerequisites are shared out over `options.threads` workers (each with
  // its own scratch), results written by index, so the table is the same
  // for any thread count.
  std::vector<double> improvement(n, 0.0);
  {
    std::vector<std::size_t> queries;  // prerequisites whose ancestors need updating
    for (std::size_t v : cone) {
      if (v == task) continue;
      if (p_if_one[v] >= 0) improvement[v] = std::max(0.0, p_if_one[v] - table.p_task);
      else if (uses[v] == 1.0) improvement[v] = std::exp(lnB[v]) * -std::expm1(lp[v]);  // affine in P_i
      else queries.push_back(v);
    }
    std::optional<ImprovementPlan> plan;
    if (!queries.empty()) plan.emplace(model, task, cone, lp);
    const unsigned workers = detail::worker_count(options.threads, queries.size());
    detail::run_workers(workers, [&](unsigned w) {
      ImprovementSolver solver(*plan);
      for (std::size_t q = w; q < queries.size(); q += workers) {
        const std::size_t v = queries[q];
        improvement[v] = std::max(0.0, std::exp(solver.log_p_if_one(v)) - table.p_task);
      }
    });
  }

  for (std::size_t v : cone) {
    if (v == task) continue;
    Prerequisite p;
    p.node = v;
    p.p = std::exp(lp[v]);
    p.uses = uses[v];
    p.birnbaum = std::exp(lnB[v]);
    p.criticality = lp[task] == kNegInf || lp[v] == kNegInf ? 0.0 : std::exp(lnB[v] + lp[v] - lp[task]);
    p.improvement = improvement[v];
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
