// capgraph/graph/importance.cpp — docs/measures.md §6.
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
// incrementally (ImprovementSweep below: node-major, every query's changes
// of a node together), the queries split over options.threads workers.
#include "graph/importance.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <utility>

#include <boost/sort/spreadsort/integer_sort.hpp>

#include "graph/curve_eval.hpp"
#include "graph/evaluation.hpp"
#include "graph/node_kernels.hpp"
#include "graph/shared.hpp"
#include "graph/simd/vmath.hpp"
#include "graph/successes.hpp"
#include "graph/workers.hpp"

namespace capgraph {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// The engine's compiled form of the model (Model::eval_ops), read here in
// topological positions: a cone walked from T down reads it in order.
struct Ops {
  Ops(const Model& m, double at_least_work)
      : op(m.eval_ops().data()), child(m.eval_use_pos().data()), count(m.eval_use_count().data()), model(&m),
        max_at_least_work(at_least_work) {}
  const detail::EvalOp* op;     // by position
  const std::uint32_t* child;   // by use: the child's position
  const double* count;          // by use: n_u (mean: w_u)
  const Model* model;
  double max_at_least_work;     // EvalOptions::max_at_least_work
};

// The uses of the at_least task at position `at` as binomial groups of
// equal P (successes.hpp), with each use's group; throws ModelError when
// `calls` computations over them would pass the work limit.
std::vector<detail::TrialGroup> at_least_groups(const Ops& ops, std::size_t at, const double* lp,
                                                std::vector<std::size_t>& group_of, double calls) {
  const detail::EvalOp& n = ops.op[at];
  std::vector<detail::TrialGroup> g;
  for (std::size_t u = n.use_begin; u < n.use_end; ++u) {
    const double l = lp[ops.child[u]];
    g.push_back({l, log1mexp(l), static_cast<std::uint64_t>(ops.count[u])});
  }
  detail::merge_groups(g);
  group_of.clear();
  for (std::size_t u = n.use_begin; u < n.use_end; ++u) {
    const double l = lp[ops.child[u]];
    group_of.push_back(static_cast<std::size_t>(
        std::lower_bound(g.begin(), g.end(), l, [](const detail::TrialGroup& x, double v) { return x.lp < v; }) -
        g.begin()));
  }
  const auto k = static_cast<std::size_t>(n.k);
  const double work = g.size() > 1 ? calls * detail::convolution_work(g, k) : 0.0;
  if (work > ops.max_at_least_work)
    detail::at_least_too_costly(ops.model, ops.max_at_least_work, n.node, k, g.size(), work);
  return g;
}

// ln dP_v/dP_c for every use u of the task at position `at` (child c), summed
// over the copies of that use, into out[u - use_begin]. `lp`: ln P by
// position. O(uses) per node (O(uses k) for at_least): the product over
// "every other use" is the total with one copy of u taken out, not a fresh
// product per use.
void log_local_partials(const Ops& ops, std::size_t at, const double* lp, std::vector<double>& out) {
  const detail::EvalOp& n = ops.op[at];
  const std::size_t ub = n.use_begin, ue = n.use_end;
  out.assign(ue - ub, kNegInf);
  const double l1g = n.guess != 0 ? std::log1p(-n.guess) : 0.0;
  auto log_count = [](double cnt) { return cnt == 1 ? 0.0 : std::log(cnt); };
  switch (n.gate) {
    case GateKind::all:
    case GateKind::any: {
      // rest_u = sum_w n'_w t_w with n'_u = n_u - 1, t = ln P (all) or
      // ln(1 - P) (any); a term -inf (0 * -inf counts as 0) is kept apart.
      auto term = [&](std::size_t u) {
        const double l = lp[ops.child[u]];
        return n.gate == GateKind::all ? l : log1mexp(l);
      };
      double finite = 0;
      std::size_t infinite = 0;
      for (std::size_t u = ub; u < ue; ++u) {
        const double t = term(u);
        out[u - ub] = t;
        if (t == kNegInf) ++infinite;
        else finite += ops.count[u] * t;
      }
      for (std::size_t u = ub; u < ue; ++u) {
        const double t = out[u - ub], cnt = ops.count[u];
        double rest;
        if (t != kNegInf) rest = infinite > 0 ? kNegInf : finite - t;
        else rest = cnt - 1 > 0 || infinite > 1 ? kNegInf : finite;
        out[u - ub] = l1g + log_count(cnt) + rest;
      }
      return;
    }
    case GateKind::best_of: {
      const double nb = n.best_n;
      const double rest = nb > 1 ? (nb - 1) * log1mexp(lp[ops.child[ub]]) : 0.0;
      out[0] = l1g + std::log(nb) + (std::isnan(rest) ? kNegInf : rest);
      return;
    }
    case GateKind::at_least: {
      const auto k = static_cast<std::size_t>(n.k);
      const std::size_t nu = ue - ub;
      if (detail::by_groups(n.total_uses, k)) {
        // ln P(exactly k-1 among the trials but one of u's), once per group.
        std::vector<std::size_t> group_of;
        const auto g = at_least_groups(ops, at, lp, group_of, static_cast<double>(nu));
        std::vector<double> e(g.size()), ld, tail;
        for (std::size_t i = 0; i < g.size(); ++i) {
          detail::log_counts_without(g, i, 1, k, ld, tail);
          e[i] = ld[k - 1];
        }
        for (std::size_t i = 0; i < nu; ++i) {
          const double l = e[group_of[i]];
          out[i] = l == kNegInf ? kNegInf : l1g + log_count(ops.count[ub + i]) + l;
        }
        return;
      }
      // P(exactly k-1 successes among the other trials) = sum_j
      // before_u[j] * (after_u with n_u - 1 copies of u)[k-1-j], from
      // prefix distributions stored forward and a suffix carried backward
      // (k + 1 entries each: the fold's "k or more" is not read).
      const std::size_t w = k + 1;
      std::vector<double> pre((nu + 1) * w, 0.0), suf(w, 0.0), mid(w);
      pre[0] = 1;
      auto pq = [&](std::size_t u) {
        const double l = lp[ops.child[u]];
        return std::pair{std::exp(l), -std::expm1(l)};
      };
      for (std::size_t i = 0; i < nu; ++i) {
        std::copy_n(&pre[i * w], w, &pre[(i + 1) * w]);
        const auto [p, q] = pq(ub + i);
        detail::fold_trials<detail::Linear>(&pre[(i + 1) * w], k, p, q, static_cast<std::uint64_t>(ops.count[ub + i]));
      }
      suf[0] = 1;
      for (std::size_t i = nu; i-- > 0;) {
        const auto [p, q] = pq(ub + i);
        const auto reps = static_cast<std::size_t>(ops.count[ub + i]);
        mid = suf;
        detail::fold_trials<detail::Linear>(mid.data(), k, p, q, reps - 1);
        double e = 0;
        for (std::size_t j = 0; j < k; ++j) e += pre[i * w + j] * mid[k - 1 - j];
        out[i] = e > 0 ? l1g + std::log(static_cast<double>(reps)) + std::log(e) : kNegInf;
        detail::fold_trials<detail::Linear>(suf.data(), k, p, q, reps);
      }
      return;
    }
    case GateKind::mean: {
      double w = 0;
      for (std::size_t u = ub; u < ue; ++u) w += ops.count[u];
      for (std::size_t u = ub; u < ue; ++u) out[u - ub] = l1g + std::log(ops.count[u] / w);
      return;
    }
  }
}

// ln B_i for every node of the cone (positions, T first, descending) from
// ln P by position, into lnB by position, by one reverse pass.
void adjoint_pass(const Ops& ops, const std::vector<std::uint32_t>& cone, const double* lp, double* lnB) {
  lnB[cone[0]] = 0;
  std::vector<double> partial;
  for (const std::uint32_t i : cone) {
    const detail::EvalOp& op = ops.op[i];
    if (op.use_begin == op.use_end || lnB[i] == kNegInf) continue;  // a skill, or no path
    log_local_partials(ops, i, lp, partial);
    for (std::uint32_t u = op.use_begin; u < op.use_end; ++u) {
      double& b = lnB[ops.child[u]];
      const double add = lnB[i] + partial[u - op.use_begin];
      b = b == kNegInf ? add : logaddexp(b, add);
    }
  }
}

// P_T with P_i set to 1, for every prerequisite i that reaches T by more
// than one path. Only i's ancestors inside the cone change, and each is
// updated from the changes of its changed children rather than re-evaluated
// whole (c: a changed child, d = ln P_c' - ln P_c > 0):
//   all          ln P' = ln P + sum_u n_u d_u       (a child leaving P = 0:
//                                                    one zero fewer, + n_u ln P_c')
//   any/best_of  ln(1 - P') = ln(1 - P) + sum_u n_u (ln(1 - P_c') - ln(1 - P_c))
//   mean         ln P' = ln P + ln(1 + sum_u (1-g)(w_u/W) (P_c/P) expm1(d_u))
//                (P = g + (1-g) mean is affine in every child)
//   at_least     one changed use u (count n): the gate is a polynomial in
//                P_c, gate' = sum_j C(n,j) P_c'^j (1-P_c')^(n-j) T_u(k-j),
//                T_u(t) = P(at least t successes among the other uses),
//                kept in log space (plan: prefix distributions and suffix
//                tails, one pass per task)
// so a change costs O(1) per reference (a `mean` of 11,631 tasks is not
// re-summed for every prerequisite below it). `guess` is applied to the
// updated gate value. Re-evaluated whole by the engine's own kernel
// instead, for a query that meets one: P = 0 under mean, P below 1e-280
// under any/best_of, a ratio past e^700 under mean, two changed uses of
// one `at_least` or a use counted more than 64 times. A node whose value
// does not move stops the change there.
//
// The queries run node-major (ImprovementSweep, below): a block of queries
// at a time walks the cone once, children first, and each task computes its
// changed values under every query of the block that reaches it, from its
// children's lists of (query, changed ln P). The work is the same as one
// query after another (the references among each prerequisite's
// ancestors that carry a change, about 42 on the 100k-node benchmark cone:
// 3.4 million for its 80,160 queries), but it streams
// through short arrays instead of chasing each query's ancestors through
// the whole cone, and the transcendental functions run over arrays (vmath).
//
// ImprovementPlan holds what every query shares (read-only, one per table),
// indexed by position in the cone (0 = T, children after their tasks), so
// that a task's children and their lists sit near it in memory.
class ImprovementPlan {
 public:
  enum Kind : std::uint8_t { kLeaf, kLog, kComplement, kLinear, kAtLeast, kWhole };
  struct Node {
    double lv = 0;            // ln P
    double lq = 0;            // ln(1 - P)
    double base = 0;          // kLog: sum of n_u ln P_c over children with P > 0; kComplement: ln(1 - P);
                              // mean: (1 - g) / W
    std::uint32_t zeros = 0;  // kLog: uses of a child with P = 0
    Kind kind = kLeaf;
    bool guessed = false;  // P = g + (1 - g) gate, g = guess
    double guess = 0;
    double ln_guess = 0, ln1m_guess = 0;  // ln g, ln(1 - g) (where guessed)
    double p = 0;                         // P
  };
  static constexpr std::uint32_t kWholeUse = ~std::uint32_t{0};
  struct Use {            // one use of a cone task, in use order (16 bytes)
    std::uint32_t child;  // position
    std::uint32_t tail;   // at_least: ln T_u(k - j), j = 0..n_u, at tail[this...]; kWholeUse:
                          // a change through this use re-evaluates the task whole
    double coef = 0;      // n_u (all, any, at_least), n (best_of), (1-g)(w_u/W) P_c/P_v (mean)
  };

  // The part that does not depend on P, built while the model is
  // evaluated: positions, uses, parents, the reach bounds. cone:
  // topological positions, T first, descending.
  ImprovementPlan(const Model& model, const Ops& ops, const std::vector<std::uint32_t>& cone)
      : m(model), o(ops), top(cone), pos(model.size(), kNone), node(cone.size()), use_begin(cone.size() + 1, 0),
        parent_begin(cone.size() + 1, 0) {
    const std::size_t np = cone.size();
    for (std::size_t p = 0; p < np; ++p) pos[cone[p]] = static_cast<std::uint32_t>(p);
    for (std::size_t n = 0; n <= kMaxCount; ++n) {
      double c = 1;  // C(n, j), exact below 2^53
      for (std::size_t j = 0; j <= n; ++j) {
        log_binom.push_back(std::log(c));
        c = c * static_cast<double>(n - j) / static_cast<double>(j + 1);
      }
    }
    for (std::size_t p = 0; p < np; ++p) {
      const detail::EvalOp& op = o.op[cone[p]];
      use_begin[p + 1] = use_begin[p] + (op.use_end - op.use_begin);
    }
    use.reserve(use_begin[np]);
    for (std::size_t p = 0; p < np; ++p) {
      const detail::EvalOp& n = o.op[cone[p]];
      Node& d = node[p];
      for (std::size_t u = n.use_begin; u < n.use_end; ++u) {
        use.push_back(Use{pos[o.child[u]], 0, weight(n, u)});
        ++parent_begin[use.back().child + 1];
      }
      if (n.use_begin == n.use_end || !n.is_task) continue;  // a skill
      d.guessed = n.guess != 0;
      d.guess = n.guess;
      if (d.guessed) {  // read only then (log(0) is a slow path in libm)
        d.ln_guess = std::log(n.guess);
        d.ln1m_guess = std::log1p(-n.guess);
      }
    }
    // reach[p] >= |dP_T/dP_v| anywhere in [0, 1]^n: the sum over paths of
    // the products of each gate's largest partial derivative (n_u for
    // all/any/at_least, n for best_of, w_u/W for mean, times 1 - g).
    reach.assign(np, 0.0);
    reach[0] = 1;
    for (std::size_t p = 0; p < np; ++p) {
      const detail::EvalOp& n = o.op[cone[p]];
      if (n.use_begin == n.use_end || reach[p] == 0) continue;
      const double wsum = n.total_uses;
      for (std::uint32_t u = use_begin[p]; u < use_begin[p + 1]; ++u) {
        const double cnt = o.count[n.use_begin + (u - use_begin[p])];
        const double lipschitz = n.gate == GateKind::mean ? cnt / wsum : n.gate == GateKind::best_of ? n.best_n : cnt;
        reach[use[u].child] += reach[p] * lipschitz * (1 - n.guess);
      }
    }
    for (std::size_t p = 0; p < np; ++p) parent_begin[p + 1] += parent_begin[p];
    parent.resize(parent_begin[np]);
    std::vector<std::uint32_t> at(parent_begin.begin(), parent_begin.end() - 1);
    for (std::size_t p = 0; p < np; ++p)
      for (std::uint32_t u = use_begin[p]; u < use_begin[p + 1]; ++u) {
        const std::uint32_t r = at[use[u].child]++;
        parent[r] = static_cast<std::uint32_t>(p);
      }
  }

  /// The values at the point, once: lp is ln P by topological position.
  void set_values(const std::vector<double>& lp) {
    const std::size_t np = top.size();
    for (std::size_t p = 0; p < np; ++p) {
      node[p].lv = lp[top[p]];
      node[p].lq = log1mexp(node[p].lv);
      node[p].p = std::exp(node[p].lv);
    }
    for (std::size_t p = 0; p < np; ++p) {
      const detail::EvalOp& n = o.op[top[p]];
      Node& d = node[p];
      const std::size_t ub = n.use_begin, ue = n.use_end;
      if (ub == ue || !n.is_task) continue;  // a skill
      const double l = d.lv;
      const double wsum = n.total_uses;
      if (n.gate == GateKind::all) {
        d.kind = kLog;
        for (std::size_t u = ub; u < ue; ++u)
          if (lp[o.child[u]] == kNegInf) ++d.zeros;
          else d.base += o.count[u] * lp[o.child[u]];
      } else if (n.gate == GateKind::any || n.gate == GateKind::best_of) {
        for (std::size_t u = ub; u < ue; ++u) d.base += weight(n, u) * node[pos[o.child[u]]].lq;
        d.kind = d.base <= -1e-280 ? kComplement : kWhole;  // else the kernel's tiny-P branch
      } else if (n.gate == GateKind::mean) {
        d.kind = l != kNegInf ? kLinear : kWhole;
        d.base = (1 - n.guess) / wsum;
      } else {
        d.kind = kAtLeast;
        at_least_tails(n, lp, &use[use_begin[p]]);
      }
      if (d.kind == kLinear)  // (1-g)(w_u/W) P_c/P_v; mean_weight() gives the first factor where P_c = 0
        for (std::size_t u = ub; u < ue; ++u)
          use[use_begin[p] + (u - ub)].coef = (1 - n.guess) * o.count[u] / wsum * std::exp(lp[o.child[u]] - l);
    }
  }

  static constexpr std::uint32_t kNone = ~std::uint32_t{0};

  /// (1-g) w_u/W of use u of the `mean` task at position p.
  double mean_weight(std::size_t p, std::uint32_t u) const {
    return node[p].base * o.count[o.op[top[p]].use_begin + (u - use_begin[p])];
  }

  /// The model's node at position p.
  std::size_t node_of(std::size_t p) const { return o.op[top[p]].node; }

  const Model& m;
  const Ops& o;
  std::vector<std::uint32_t> top;      // by position: its topological position
  std::vector<std::uint32_t> pos;      // by topological position: position, or kNone outside the cone
  std::vector<Node> node;
  std::vector<std::uint32_t> use_begin;  // by position, into use
  std::vector<Use> use;
  std::vector<std::uint32_t> parent_begin, parent;  // by position: the cone tasks that use it (once per use)
  std::vector<double> reach;  // by position: a bound on dP_T/dP_v (see the constructor)
  std::vector<double> tail;  // at_least uses: ln T_u(k - j), j = 0..n_u
  std::vector<double> log_binom;  // ln C(n, j) at n (n + 1) / 2 + j, n <= kMaxCount

  /// Uses counted more often than this re-evaluate their at_least whole.
  static constexpr std::size_t kMaxCount = 64;

 private:
  // Probabilities as they are, or as logarithms (for products that would
  // underflow): the same fold over either (successes.hpp).
  using Linear = detail::Linear;
  using Log = detail::Log;

  // ln T_u(t) = ln P(at least t successes among the uses of at_least task v
  // other than u), for t = k - n_u .. k: ln sum_a A_u(a) S_u(t - a), A_u the
  // success count of the uses before u (truncated at k: its top entry is
  // "k or more"), S_u(t) = P(at least t successes after u) (1 for t <= 0).
  // Sums of positive terms only. In plain probabilities where no product
  // of the trials' P and 1 - P can fall below e^-650; otherwise in log
  // space, so tiny P (an at_least of deep `all` chains) keeps its digits.
  void at_least_tails(const detail::EvalOp& v, const std::vector<double>& lp, Use* uses) {
    const std::size_t ub = v.use_begin, nu = v.use_end - ub;
    if (detail::by_groups(v.total_uses, static_cast<std::size_t>(v.k))) {
      at_least_tails_by_groups(v, lp, uses);
      return;
    }
    double smallest = 0;  // ln of the smallest nonzero product of trial probabilities
    tp_.resize(nu);
    tq_.resize(nu);
    for (std::size_t i = 0; i < nu; ++i) {
      const double a = lp[o.child[ub + i]], b = log1mexp(a);
      const double low = a == kNegInf ? b : b == kNegInf ? a : std::min(a, b);
      smallest += o.count[ub + i] * low;
      tp_[i] = a;
      tq_[i] = b;
    }
    const std::size_t t0 = tail.size();
    if (smallest > -650) {
      detail::vmath::exp(tp_.data(), tp_.data(), nu);
      detail::vmath::exp(tq_.data(), tq_.data(), nu);
      at_least_tails<Linear>(v, uses);
      detail::vmath::log(tail.data() + t0, tail.data() + t0, tail.size() - t0);
    } else {
      at_least_tails<Log>(v, uses);
    }
  }

  // Over the trials' P and 1 - P in tp_ and tq_ (as S holds them); appends
  // the tails to `tail` as S holds them.
  template <class S>
  void at_least_tails(const detail::EvalOp& v, Use* uses) {
    const auto k = static_cast<std::size_t>(v.k);
    const std::size_t ub = v.use_begin, nu = v.use_end - ub;
    auto fold = [k](double* d, double p, double q, std::size_t times) {  // `times` trials of P = p
      detail::fold_trials<S>(d, k, p, q, times);
    };
    auto pq = [&](std::size_t i) { return std::pair{tp_[i], tq_[i]}; };
    std::vector<double>& pre = pre_;
    std::vector<double>& suf = suf_;
    std::vector<double>& stail = stail_;
    pre.assign((nu + 1) * (k + 1), S::zero());
    suf.assign(k + 1, S::zero());
    stail.resize(k + 1);
    pre[0] = S::one();
    for (std::size_t i = 0; i < nu; ++i) {
      std::copy_n(&pre[i * (k + 1)], k + 1, &pre[(i + 1) * (k + 1)]);
      const auto [p, q] = pq(i);
      fold(&pre[(i + 1) * (k + 1)], p, q, static_cast<std::size_t>(o.count[ub + i]));
    }
    suf[0] = S::one();
    for (std::size_t i = nu; i-- > 0;) {
      // tails of the uses after i
      stail[k] = suf[k];
      for (std::size_t t = k; t-- > 0;) stail[t] = S::add(stail[t + 1], suf[t]);
      const auto n = static_cast<std::size_t>(o.count[ub + i]);
      Use& r = uses[i];
      if (n <= kMaxCount) {
        r.tail = static_cast<std::uint32_t>(tail.size());
        for (std::size_t j = 0; j <= n; ++j) {
          const std::ptrdiff_t t = static_cast<std::ptrdiff_t>(k) - static_cast<std::ptrdiff_t>(j);
          double acc = S::zero();
          for (std::size_t a = 0; a <= k; ++a) {
            const std::ptrdiff_t need = t - static_cast<std::ptrdiff_t>(a);
            acc = S::add(acc, S::mul(pre[i * (k + 1) + a], need <= 0 ? S::one() : stail[static_cast<std::size_t>(need)]));
          }
          tail.push_back(acc);
        }
      } else {
        r.tail = kWholeUse;
      }
      const auto [p, q] = pq(i);
      fold(suf.data(), p, q, n);
    }
  }

  // at_least_tails() past the fold's size: the uses as binomial groups; the
  // tails of the uses with the same group and count are computed once.
  void at_least_tails_by_groups(const detail::EvalOp& v, const std::vector<double>& lp, Use* uses) {
    const auto k = static_cast<std::size_t>(v.k);
    const std::size_t ub = v.use_begin, nu = v.use_end - ub;
    std::vector<std::size_t> group_of;
    const std::size_t at = static_cast<std::size_t>(&v - o.op);
    const auto g = at_least_groups(o, at, lp.data(), group_of, static_cast<double>(nu));
    std::vector<std::pair<std::pair<std::size_t, std::size_t>, std::uint32_t>> done;  // (group, n_u) -> tail
    std::vector<double> ld, lt;
    for (std::size_t i = 0; i < nu; ++i) {
      const auto n = static_cast<std::size_t>(o.count[ub + i]);
      Use& r = uses[i];
      if (n > kMaxCount) {
        r.tail = kWholeUse;
        continue;
      }
      const std::pair<std::size_t, std::size_t> key{group_of[i], n};
      const auto hit = std::find_if(done.begin(), done.end(), [&](const auto& e) { return e.first == key; });
      if (hit != done.end()) {
        r.tail = hit->second;
        continue;
      }
      r.tail = static_cast<std::uint32_t>(tail.size());
      done.push_back({key, r.tail});
      detail::log_counts_without(g, group_of[i], n, k, ld, lt);
      for (std::size_t j = 0; j <= n; ++j) tail.push_back(j <= k ? lt[k - j] : 0.0);  // ln T_u(k - j)
    }
  }

  std::vector<double> tp_, tq_, pre_, suf_, stail_;  // at_least_tails()' scratch

  double weight(const detail::EvalOp& v, std::size_t u) const {
    return v.gate == GateKind::best_of ? v.best_n : o.count[u];
  }
};

// One worker's share of the queries, run node-major: a block of queries at
// a time, the cone walked once per block from the lowest query up to T,
// visiting only the tasks that have a changed child (a bitmap over
// positions). Each visited task computes its changed values under every
// query of the block that reaches it, from its children's lists of
// (query, changed ln P), into its own list.
class ImprovementSweep {
 public:
  explicit ImprovementSweep(const ImprovementPlan& plan)
      : p_(plan), budget_(kDropBudget * std::exp(plan.node[0].lv)), list_(plan.node.size()),
        listed_((plan.node.size() + 63) / 64, 0), query_at_(plan.node.size(), -1), marks_(listed_.size(), 0) {
    ws_.model = &plan.m;
    ws_.max_at_least_work = plan.o.max_at_least_work;
  }

  /// A query stops carrying changes whose combined effect on P_T is at
  /// most this times P_T (a sixtieth power of 2: below an eighth of the
  /// rounding of P_T itself).
  static constexpr double kDropBudget = 0x1p-60;

  /// Queries per block. A task is visited once per block that reaches it,
  /// so larger blocks visit less; their lists and per-query arrays grow.
  /// On the 100k-node benchmark cone (80,160 queries, 2 threads, best of 7
  /// warm, CPU time): 4,096: 210 ms CPU; 8,192: 189-222; 16,384: 177-191;
  /// 32,768: 171-180 but only three blocks for two workers; 65,536 slower.
  static constexpr std::size_t kBlock = 16384;

  /// ln P_T with P_i := 1 for the cone positions queries[b0, b1) (distinct,
  /// not T, at most kBlock), into out[b0, b1).
  void run(const std::vector<std::uint32_t>& queries, std::size_t b0, std::size_t b1, double* out) {
    const std::size_t nq = b1 - b0;
    std::fill(listed_.begin(), listed_.end(), 0);  // the lists of earlier blocks lapse
    query_.assign(nq, Query{});
    if (slots_.size() < nq) {  // update()'s buffers: one entry per query at most
      slots_.resize(nq);
      vals_.resize(nq);
      tmp_.resize(nq);
    }
    lists_.clear();
    std::size_t top_word = 0;
    for (std::size_t j = b0; j < b1; ++j) {
      const std::uint32_t p = queries[j];
      query_at_[p] = static_cast<std::int32_t>(j - b0);
      mark(p);
      top_word = std::max<std::size_t>(top_word, p / 64);
      out[j] = p_.node[0].lv;
    }
    for (std::size_t w = top_word + 1; w-- > 0;) {
      while (marks_[w] != 0) {  // children first: the highest position; parents are marked lower
        const int b = 63 - __builtin_clzll(marks_[w]);
        marks_[w] &= ~(std::uint64_t{1} << b);
        const std::uint32_t p = static_cast<std::uint32_t>(w * 64 + static_cast<std::size_t>(b));
        const std::uint32_t begin = lists_.open(nq + 1);  // p's list: at most one entry per query
        if (p_.node[p].kind != Plan::kLeaf) update(p);  // marked: some use changed
        if (query_at_[p] >= 0) {
          const auto q = static_cast<std::uint32_t>(query_at_[p]);
          if (p_.node[p].lv != 0 && !drop(q, p, -std::expm1(p_.node[p].lv))) {
            lists_.push(q, 0.0);
          }
          query_at_[p] = -1;
        }
        const std::uint32_t len = lists_.index() - begin;
        if (len == 0) continue;
        if (p == 0) {
          const std::uint32_t* qs = lists_.q(begin);
          const double* vs = lists_.val(begin);
          for (std::uint32_t k = 0; k < len; ++k) out[b0 + qs[k]] = vs[k];
          continue;
        }
        // Every task that uses p reads p's list.
        list_[p] = {begin, len, p_.node[p].lv, p_.node[p].lq};
        listed_[p / 64] |= std::uint64_t{1} << (p % 64);
        for (std::uint32_t r = p_.parent_begin[p]; r < p_.parent_begin[p + 1]; ++r) mark(p_.parent[r]);
      }
    }
  }

 private:
  using Plan = ImprovementPlan;
  static constexpr std::uint32_t kNone = Plan::kNone;

  // The lists of a block, (query, ln P') entries, each list contiguous,
  // numbered across chunks that never move: a vector grown by doubling
  // copied itself into fresh memory each time, twice the pages to fault in
  // (the largest block's lists hold 643,000 entries on the benchmark cone).
  class ListStore {
   public:
    static constexpr std::size_t kChunk = std::size_t{1} << 16;  // entries; more than a list can hold
    static_assert(kChunk > kBlock);
    void clear() { chunk_ = used_ = 0; }
    /// The number the next entry gets, with room for `need` (<= kChunk)
    /// entries after it in the same chunk.
    std::uint32_t open(std::size_t need) {
      if (chunks_.empty()) add();
      if (used_ + need > kChunk) {
        if (++chunk_ == chunks_.size()) add();
        used_ = 0;
      }
      return index();
    }
    std::uint32_t index() const { return static_cast<std::uint32_t>(chunk_ * kChunk + used_); }
    void push(std::uint32_t q, double v) {
      chunks_[chunk_].q[used_] = q;
      chunks_[chunk_].val[used_] = v;
      ++used_;
    }
    /// Where the next entries go, `n` of them (within the room open() made).
    std::uint32_t* q_end() { return chunks_[chunk_].q.get() + used_; }
    double* val_end() { return chunks_[chunk_].val.get() + used_; }
    void advance(std::size_t n) { used_ += n; }
    const std::uint32_t* q(std::uint32_t at) const { return chunks_[at / kChunk].q.get() + at % kChunk; }
    const double* val(std::uint32_t at) const { return chunks_[at / kChunk].val.get() + at % kChunk; }

   private:
    struct Chunk {
      std::unique_ptr<std::uint32_t[]> q;
      std::unique_ptr<double[]> val;
    };
    void add() {  // not zeroed: pages are touched as entries are written
      chunks_.push_back({std::make_unique_for_overwrite<std::uint32_t[]>(kChunk),
                         std::make_unique_for_overwrite<double[]>(kChunk)});
    }
    std::vector<Chunk> chunks_;
    std::size_t chunk_ = 0, used_ = 0;
  };

  // A node's list of changed values in lists_ (this block), and its own
  // values (read by every task that uses it: kept here, near the list).
  struct List {
    std::uint32_t begin = 0, len = 0;
    double before = 0, lq = 0;  // ln P, ln(1 - P)
  };

  // The sums of one query at the task being updated.
  struct Slot {
    std::uint32_t q;
    std::uint16_t zeros_gone = 0;  // kLog: uses of a child with P = 0 that left 0
    std::uint8_t changes = 0;      // kAtLeast: 1 after the first changed use
    bool whole = false;            // an edge case met: re-evaluate whole
    double acc = 0;                // the sum of the children's changes, as the kind takes them
  };

  void mark(std::uint32_t p) { marks_[p / 64] |= std::uint64_t{1} << (p % 64); }
  bool listed(std::uint32_t p) const { return (listed_[p / 64] >> (p % 64)) & 1; }

  // Whether query q's change dP of node p (not T) stops here: its effect on
  // P_T is at most reach[p] dP, and the query's dropped effects together
  // stay within kDropBudget P_T (so the IP is exact to that).
  bool drop(std::uint32_t q, std::uint32_t p, double dp) {
    const double effect = p_.reach[p] * dp;
    if (p == 0 || !(query_[q].dropped + effect <= budget_)) return false;
    query_[q].dropped += effect;
    return true;
  }

  // Visits a task with a changed child: its slots (one per query with a
  // change there), their new ln P, and its list of those that moved. The
  // hot loops (3.4 million changes and 3.1 million slots in one bottleneck
  // query on the benchmark cone) work through raw pointers into buffers
  // sized for a whole block, so that nothing is checked or grown per
  // element: a third fewer instructions than push_back and a slot lookup
  // through the vectors.
  void update(std::uint32_t p) {
    const Plan::Node& d = p_.node[p];
    Query* const qr = query_.data();
    Slot* const sl = slots_.data();
    double* const tmp = tmp_.data();
    std::uint32_t ns = 0;
    auto slot = [&](std::uint32_t q) -> Slot& {  // query q's slot here, made at its first change
      Query& r = qr[q];
      if (r.stamp != p) {
        r.stamp = p;
        r.slot = ns;
        sl[ns] = Slot{q};
        return sl[ns++];
      }
      return sl[r.slot];
    };
    // The changed uses first, their lists' records fetched together (each
    // is at a random place in list_: a cache miss apiece, which now overlap).
    changed_.clear();
    for (std::uint32_t u = p_.use_begin[p]; u < p_.use_begin[p + 1]; ++u) {
      const std::uint32_t c = p_.use[u].child;
      if (!listed(c)) continue;  // unchanged in this block
      __builtin_prefetch(&list_[c]);
      changed_.push_back(u);
    }
    for (const std::uint32_t u : changed_) {
      const Plan::Use& ref = p_.use[u];
      const List pe = list_[ref.child];
      const std::uint32_t n = pe.len;
      const std::uint32_t* qs = lists_.q(pe.begin);
      const double* after = lists_.val(pe.begin);
      const double before = pe.before, coef = ref.coef;
      const bool from_zero = before == kNegInf;
      switch (d.kind) {
        case Plan::kLog:
          if (from_zero) {
            for (std::uint32_t j = 0; j < n; ++j) {
              Slot& s = slot(qs[j]);
              ++s.zeros_gone;
              s.acc += coef * after[j];
            }
          } else {
            for (std::uint32_t j = 0; j < n; ++j) slot(qs[j]).acc += coef * (after[j] - before);
          }
          break;
        case Plan::kComplement: {
          detail::vmath::log1mexp(after, tmp, n);  // -inf when P_c' = 1
          const double lq = pe.lq;
          for (std::uint32_t j = 0; j < n; ++j) slot(qs[j]).acc += coef * (tmp[j] - lq);
          break;
        }
        case Plan::kLinear: {
          // coef expm1(d), d = ln P_c' - ln P_c; from P_c = 0 or past e^700:
          // (1-g)(w_u/W) P_c'/P - coef, without overflow.
          for (std::uint32_t j = 0; j < n; ++j) tmp[j] = from_zero ? 0.0 : std::min(after[j] - before, 700.0);
          detail::vmath::expm1(tmp, tmp, n);
          for (std::uint32_t j = 0; j < n; ++j) {
            Slot& s = slot(qs[j]);
            if (from_zero || after[j] - before > 700) {
              const double x = after[j] - d.lv;
              if (x > 700) s.whole = true;
              else s.acc += p_.mean_weight(p, u) * std::exp(x) - coef;
            } else {
              s.acc += coef * tmp[j];
            }
          }
          break;
        }
        case Plan::kAtLeast: {
          // ln gate' = ln sum_j C(cnt,j) P'^j (1-P')^(cnt-j) T(k-j), one changed use
          const auto cnt = static_cast<std::size_t>(coef);  // n_u
          detail::vmath::log1mexp(after, tmp, n);  // ln(1 - P_c'), -inf at P_c' = 1
          const bool whole_use = ref.tail == Plan::kWholeUse;
          const double* lt = whole_use ? nullptr : &p_.tail[ref.tail];
          const double* lb = whole_use ? nullptr : &p_.log_binom[cnt * (cnt + 1) / 2];
          // Each slot's terms, less their largest, go into one array, and
          // the exps and logs are taken over the arrays (vmath): 800,000
          // terms in one query on the benchmark cone.
          terms_.clear();
          pending_.clear();
          for (std::uint32_t j = 0; j < n; ++j) {
            Slot& s = slot(qs[j]);
            if (whole_use || s.changes > 0) {
              s.whole = true;
              continue;
            }
            s.changes = 1;
            const std::size_t t0 = terms_.size();
            double top = kNegInf;
            for (std::size_t i = 0; i <= cnt; ++i) {
              const double t = lb[i] + (i > 0 ? static_cast<double>(i) * after[j] : 0.0) +
                               (i < cnt ? static_cast<double>(cnt - i) * tmp[j] : 0.0) + lt[i];
              terms_.push_back(t);
              top = std::max(top, t);
            }
            if (top == kNegInf) {
              terms_.resize(t0);
              s.acc = kNegInf;
              continue;
            }
            for (std::size_t i = t0; i < terms_.size(); ++i) terms_[i] -= top;
            s.acc = top;
            pending_.push_back(static_cast<std::uint32_t>(&s - sl));
          }
          if (pending_.empty()) break;
          detail::vmath::exp(terms_.data(), terms_.data(), terms_.size());
          sums_.resize(pending_.size());
          for (std::size_t r = 0; r < pending_.size(); ++r) {
            double sum = 0;
            for (std::size_t i = 0; i <= cnt; ++i) sum += terms_[r * (cnt + 1) + i];
            sums_[r] = sum;
          }
          detail::vmath::log(sums_.data(), sums_.data(), sums_.size());
          for (std::size_t r = 0; r < pending_.size(); ++r) sl[pending_[r]].acc += sums_[r];
          break;
        }
        case Plan::kWhole:
          for (std::uint32_t j = 0; j < n; ++j) slot(qs[j]).whole = true;
          break;
        case Plan::kLeaf: break;
      }
    }

    // The new values (`all` without a guess or a child at P = 0, the
    // commonest, on a loop of its own), then the list of those that moved.
    const double lv = d.lv;
    double* const val = vals_.data();
    const bool plain_all = d.kind == Plan::kLog && d.zeros == 0 && !d.guessed;  // ln P' = min(0, ln P + acc)
    bool any_whole = false;  // only the kinds after kComplement mark slots whole
    switch (d.kind) {
      case Plan::kLog:
        if (plain_all) {
          for (std::uint32_t j = 0; j < ns; ++j) val[j] = std::min(0.0, lv + sl[j].acc);
        } else {
          for (std::uint32_t j = 0; j < ns; ++j)
            val[j] = sl[j].zeros_gone < d.zeros ? lv  // still a child with P = 0
                     : d.zeros == 0 && !d.guessed ? lv + sl[j].acc
                                                  : d.base + sl[j].acc;
        }
        break;
      case Plan::kComplement:
        for (std::uint32_t j = 0; j < ns; ++j) val[j] = d.base + sl[j].acc;
        detail::vmath::log1mexp(val, val, ns);
        break;
      default:
        for (std::uint32_t j = 0; j < ns; ++j) {
          val[j] = sl[j].acc;
          any_whole |= sl[j].whole;
        }
        break;
    }
    const bool linear = d.kind == Plan::kLinear;
    if (linear) detail::vmath::log1p(val, val, ns);
    const bool guessed = d.guessed && !linear;  // mean's guess is in its coefficients
    if (guessed && !any_whole && !(d.kind == Plan::kLog && d.zeros > 0)) {
      // ln P' = ln(g + (1 - g) gate') for every slot, over the array
      for (std::uint32_t j = 0; j < ns; ++j) val[j] += d.ln1m_guess;
      detail::vmath::logaddexp_const(d.ln_guess, val, val, ns);
      for (std::uint32_t j = 0; j < ns; ++j) val[j] = std::min(0.0, val[j]);
    } else if (!plain_all) {
      for (std::uint32_t j = 0; j < ns; ++j) {
        const Slot& s = sl[j];
        double& g = val[j];
        if (s.whole) continue;
        if (linear) g += lv;
        else if (guessed && !(d.kind == Plan::kLog && s.zeros_gone < d.zeros))
          g = logaddexp(d.ln_guess, d.ln1m_guess + g);
        g = std::min(0.0, g);
      }
    }
    if (any_whole) whole(p, ns);

    // Which changes go on. A change dP of node p (not T) may be dropped
    // while the query's dropped effects, each at most reach[p] dP, stay
    // within the budget (drop()). With Δ = ln P' - ln P > 0,
    // P Δ <= dP = P expm1(Δ) <= P expm1_upper(Δ): a change past the budget
    // at the lower bound is kept, one within it at the upper bound is
    // dropped and counted at that bound (more than it is: the total stays
    // within the budget), and only one between the two takes expm1 (on
    // the benchmark cone, 39,000 of the 1.5 million that reach the bounds).
    const double pv = d.p, reach = p_.reach[p], budget = budget_;
    std::uint32_t* const out_q = lists_.q_end();
    double* const out_v = lists_.val_end();
    std::uint32_t no = 0;
    if (p != 0 && lv != kNegInf) {
      for (std::uint32_t j = 0; j < ns; ++j) {
        const double g = val[j];
        if (!(g > lv)) continue;
        const std::uint32_t q = sl[j].q;
        const double delta = g - lv;
        if (qr[q].dropped + reach * (pv * delta) <= budget &&
            (drop(q, p, pv * expm1_upper(delta)) || drop(q, p, pv * std::expm1(delta))))
          continue;
        out_q[no] = q;
        out_v[no] = g;
        ++no;
      }
    } else {  // T, or P = 0 (dP = P')
      for (std::uint32_t j = 0; j < ns; ++j) {
        const double g = val[j];
        if (!(g > lv)) continue;
        if (p != 0 && drop(sl[j].q, p, std::exp(g))) continue;
        out_q[no] = sl[j].q;
        out_v[no] = g;
        ++no;
      }
    }
    lists_.advance(no);
  }

  // The slots [0, ns) marked whole: the task re-evaluated by the engine's kernel
  // with its changed children's values under that query.
  void whole(std::uint32_t p, std::size_t ns) {
    std::vector<std::uint32_t>& begin = whole_begin_;
    begin.assign(ns + 1, 0);  // counting sort of (slot, child, value) by slot
    changes_.clear();
    for (std::uint32_t u = p_.use_begin[p]; u < p_.use_begin[p + 1]; ++u) {
      const std::uint32_t c = p_.use[u].child;
      if (!listed(c)) continue;
      const List l = list_[c];
      const std::uint32_t* qs = lists_.q(l.begin);
      const double* vs = lists_.val(l.begin);
      for (std::uint32_t k = 0; k < l.len; ++k) {
        const std::uint32_t j = query_[qs[k]].slot;
        if (slots_[j].whole) changes_.push_back({j, c, vs[k]});
      }
    }
    for (const Change& ch : changes_) ++begin[ch.slot + 1];
    for (std::size_t j = 0; j < ns; ++j) begin[j + 1] += begin[j];
    sorted_.resize(changes_.size());
    at_.assign(begin.begin(), begin.end() - 1);
    for (const Change& ch : changes_) sorted_[at_[ch.slot]++] = ch;
    const std::size_t v = p_.node_of(p);
    if (cur_.empty()) {  // the first whole re-evaluation of this sweep
      cur_.assign(p_.m.size(), 0.0);
      for (std::size_t i = 0; i < p_.node.size(); ++i) cur_[p_.node_of(i)] = p_.node[i].lv;
    }
    for (std::size_t j = 0; j < ns; ++j) {
      if (!slots_[j].whole) continue;
      for (std::uint32_t r = begin[j]; r < begin[j + 1]; ++r) cur_[p_.node_of(sorted_[r].child)] = sorted_[r].after;
      double out = 0;
      detail::eval_task(p_.m, v, cur_.data(), 1, &out, 0, 1, ws_);
      vals_[j] = out;
      for (std::uint32_t r = begin[j]; r < begin[j + 1]; ++r) cur_[p_.node_of(sorted_[r].child)] = p_.node[sorted_[r].child].lv;
    }
  }

  struct Change {
    std::uint32_t slot, child;  // child: its position
    double after;
  };

  const ImprovementPlan& p_;
  double budget_;                          // kDropBudget P_T
  std::vector<List> list_;                 // by position, valid where listed_
  std::vector<std::uint64_t> listed_;      // by position: has a list in this block
  std::vector<std::int32_t> query_at_;      // by position: its query in the block, or -1
  std::vector<std::uint64_t> marks_;        // by position: to visit
  ListStore lists_;                         // the lists: (query in the block, ln P under it > ln P unchanged)
  std::vector<double> cur_;                 // by model node: ln P, changed only inside whole() (filled at its first call)
  // By query in the block: its slot at the task stamped, and the effects
  // dropped so far. Together: the task's update reads both, one cache line.
  struct Query {
    std::uint32_t stamp = kNone, slot = 0;
    double dropped = 0;
  };
  std::vector<Query> query_;
  std::vector<Slot> slots_;  // update(): the task's slots (a block's worth of room)
  std::vector<double> tmp_, vals_;
  std::vector<double> terms_, sums_;     // update(), at_least: every slot's terms, then their sums
  std::vector<std::uint32_t> pending_;   // update(), at_least: the slots whose terms are in terms_
  std::vector<std::uint32_t> changed_;  // update(): the uses whose child changed
  std::vector<Change> changes_, sorted_;
  std::vector<std::uint32_t> whole_begin_, at_;
  detail::Workspace ws_;
};

// The cone of the task at position tpos, as positions (T first, children
// after their tasks: descending), if it has at most `limit` nodes; nullopt
// as soon as it has more (so a large cone costs only the start of the scan).
std::optional<std::vector<std::uint32_t>> cone_positions(const Ops& ops, std::uint32_t tpos, std::size_t limit) {
  std::vector<char> in_cone(std::size_t{tpos} + 1, 0);
  in_cone[tpos] = 1;
  std::vector<std::uint32_t> cone;
  for (std::uint32_t i = tpos + 1; i-- > 0;) {
    if (!in_cone[i]) continue;
    if (cone.size() == limit) return std::nullopt;
    cone.push_back(i);
    for (std::uint32_t u = ops.op[i].use_begin; u < ops.op[i].use_end; ++u) in_cone[ops.child[u]] = 1;
  }
  return cone;
}

// C_i = B_i P_i / P_T, from logarithms (0 where P_T or P_i is 0).
double criticality(double ln_b, double ln_p, double ln_pt) {
  return ln_pt == kNegInf || ln_p == kNegInf ? 0.0 : std::exp(ln_b + ln_p - ln_pt);
}

// Sorts (key, node) pairs as std::sort would (by key, then node) for keys
// that are not NaN and have no -0.0: Boost's spreadsort (a radix sort;
// 1.5-1.9 ms against std::sort's 4.0 ms for 50,000 keys), then each run of
// equal keys by node. The radix is over the key's bits mapped to an unsigned
// integer in the same order (sign bit set: all bits flipped; else the sign
// bit set): integer_sort, since float_sort's own signed arithmetic
// overflows for keys from -inf to +inf (UBSan).
inline std::uint64_t ordered_bits(double x) {
  const auto u = std::bit_cast<std::uint64_t>(x);
  return u >> 63 ? ~u : u | (std::uint64_t{1} << 63);
}

template <class It>
void rank_sort(It first, It last) {
  using Key = std::pair<double, std::size_t>;
  boost::sort::spreadsort::integer_sort(
      first, last, [](const Key& k, unsigned offset) { return ordered_bits(k.first) >> offset; },
      [](const Key& a, const Key& b) { return a.first < b.first; });
  for (It run = first; run != last;) {
    It end = run + 1;
    while (end != last && end->first == run->first) ++end;
    if (end - run > 1) std::sort(run, end, [](const Key& a, const Key& b) { return a.second < b.second; });
    run = end;
  }
}

}  // namespace

ImportanceTable importance(const Model& model, std::size_t task, double x, ImportanceOrder order,
                           const EvalOptions& options) {
  if (task >= model.size() || !model.node(task).is_task)
    throw ModelError("bottleneck needs a task, and `" + model.node(task).id + "` is a skill", model.node(task).loc);
  const std::vector<double> xs{x};
  EvalOptions p_only = options;  // P is all the query reads
  p_only.partial_credit = false;
  const std::size_t n = model.size();
  const Ops ops(model, options.max_at_least_work);
  const ScalingLaw& law = model.spec().scale.law;
  const ScalePoint point = model.axis().at(x);  // as evaluate() makes it
  const auto tpos = static_cast<std::uint32_t>(model.eval_position(task));
  // Everything below is indexed by topological position (Model::eval_ops
  // order), not by node: T's cone is then read in order.
  //
  // The evaluation at the point on one worker; beside it, what needs only
  // the model: T's cone (T first, children after their tasks: descending
  // position), the number of uses (paths weighted by counts; best_of n: n
  // attempts of its one reference; mean: weights are not uses), the cone's
  // skills in spec order.
  std::optional<Evaluation> ev;
  std::vector<std::uint32_t> cone;
  std::vector<double> uses(tpos + 1, 0.0);
  std::vector<double> drive(tpos + 1, 0.0);  // per unit of Birnbaum first (drive_factors); times B_i in the keys
  std::vector<char> has_drive(tpos + 1, 0);
  std::vector<std::uint32_t> leaf_at(n, ImprovementPlan::kNone);  // by node: its position, for the cone's skills
  std::vector<std::uint32_t> leaves;                               // the cone's skills, in spec order
  // And the prerequisites whose improvement potential needs their
  // ancestors updated (ImprovementSweep: those reached by more than one
  // path or use; P_T is affine in the others' P), with the part of the
  // sweep's plan that needs no P.
  std::vector<std::uint32_t> queries;
  std::optional<ImprovementPlan> plan;
  const unsigned pair = detail::worker_count(options.threads, 2);
  detail::run_workers(pair, [&](unsigned w) {
    if (w == 0) {
      // A cone of at most a quarter of the model is evaluated alone (the
      // query on a 2,203-node cone of the 100k benchmark spec: 16-21 ->
      // 10-13 ms); the scan that finds out gives up early on a larger one.
      EvalOptions o = p_only;
      o.keep.reset();
      if (const auto small = cone_positions(ops, tpos, n / 4)) {
        o.keep.emplace();
        o.keep->reserve(small->size());
        for (const std::uint32_t i : *small) o.keep->push_back(ops.op[i].node);
      }
      ev.emplace(evaluate(model, xs, o));
    }
    if (w + 1 != pair) return;
    cone = *cone_positions(ops, tpos, std::size_t{tpos} + 1);  // never more than tpos + 1 nodes
    uses[tpos] = 1;
    for (const std::uint32_t i : cone) {
      const detail::EvalOp& op = ops.op[i];
      for (std::uint32_t u = op.use_begin; u < op.use_end; ++u) {
        const double times = op.gate == GateKind::best_of ? op.best_n : op.gate == GateKind::mean ? 1.0 : ops.count[u];
        uses[ops.child[u]] += uses[i] * times;
      }
    }
    for (std::size_t r = 1; r < cone.size(); ++r) {
      const detail::EvalOp& op = ops.op[cone[r]];
      if (op.use_begin == op.use_end && !op.is_task) {
        leaf_at[op.node] = cone[r];
        has_drive[cone[r]] = 1;
      }
    }
    for (std::size_t v = 0; v < n; ++v)
      if (leaf_at[v] != ImprovementPlan::kNone) leaves.push_back(static_cast<std::uint32_t>(v));
    for (const std::uint32_t i : cone)
      if (i != tpos && uses[i] != 1.0) queries.push_back(i);
    // (With shared skills T may need the expansion instead: decided below.)
    if (!queries.empty() && !model.has_shared()) plan.emplace(model, ops, cone);
  });
  std::vector<double> lp(n);  // ln P (NaN outside T's cone where only the cone was evaluated: never read)
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t v = ops.op[i].node;
    lp[i] = ev->has_row(v) ? ev->log_p(v, 0) : std::numeric_limits<double>::quiet_NaN();
  }

  // Shared skills that T correlates (docs/measures.md §4): expand over them.
  std::optional<detail::SharedExpansion> expansion;
  if (model.has_shared()) {
    detail::SharedLimits limits;
    limits.max_expanded = options.max_shared_expanded;
    limits.max_work = options.max_shared_work;
    detail::SharedPlan shared = detail::plan_shared(model, 1, limits);
    if (shared.index[task] >= 0) expansion = shared.expansions[static_cast<std::size_t>(shared.index[task])];
  }

  std::vector<double> lnB(tpos + 1, kNegInf);     // by position
  // Once ln B is known: B itself and, where P_T is affine in P_i (one path
  // of single uses), the improvement potential B_i (1 - P_i).
  std::vector<double> birnbaum(tpos + 1, 0.0), improvement(tpos + 1, 0.0);
  auto from_birnbaum = [&] {
    for (const std::uint32_t i : cone) {
      birnbaum[i] = std::exp(lnB[i]);
      if (i != tpos && uses[i] == 1.0) improvement[i] = birnbaum[i] * -std::expm1(lp[i]);
    }
  };
  // Each skill's drive per unit of Birnbaum, (ceiling - floor) dp/dlog10 x,
  // from its NodeSpec, read in spec order (in cone order every NodeSpec, and
  // a `points` curve's knots, is a cache miss of its own): chunks of skills
  // taken by whichever worker is free.
  std::atomic<std::size_t> next_leaf{0};
  auto drive_factors = [&] {
    constexpr std::size_t kChunk = 1024;
    for (std::size_t c; (c = next_leaf.fetch_add(kChunk)) < leaves.size();)
      for (std::size_t k = c; k < std::min(leaves.size(), c + kChunk); ++k) {
        const NodeSpec& leaf = model.node(leaves[k]);
        drive[leaf_at[leaves[k]]] = (leaf.ceiling - leaf.floor) * curve_dp_dlog10x(leaf.curve, law, point);
      }
  };
  ImportanceTable table;
  table.task = task;
  table.point = point;
  table.p_task = std::exp(lp[tpos]);

  // Improvement potential: exact, affine shortcut where P_T is affine in
  // P_i (from_birnbaum), otherwise the ancestors of i updated
  // incrementally (ImprovementSweep) or, with shared skills in T's cone,
  // the expansion re-evaluated. The sweep's queries go in blocks of
  // consecutive queries in cone order (they share ancestors), each taken
  // by the next free worker, the deepest (longest) first; a block's values
  // do not depend on which worker runs it, and each is written by index,
  // so the table is the same for any thread count.
  if (expansion) queries.clear();  // the expansion gives every improvement potential
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
        improvement[queries[j]] = std::max(0.0, std::exp(log_p_if_one[j]) - table.p_task);
    }
  };

  std::vector<double> p_if_one(tpos + 1, -1.0);  // exact P_T with P_i := 1, where computed here
  if (!expansion) {
    // The adjoint pass (then B) on the first worker; the plan's values on
    // the last, which then starts the sweep; the first joins the sweep
    // once the plan is ready, and both end with the drive factors.
    const unsigned two = detail::worker_count(options.threads, 2);
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
        if (!plan) plan.emplace(model, ops, cone);
        plan->set_values(lp);
        for (const std::uint32_t i : queries) at.push_back(plan->pos[i]);
        plan_ok.store(true);
      }
      if (w == 0) {
        adjoint_pass(ops, cone, lp.data(), lnB.data());
        from_birnbaum();
      }
      plan_ready.wait(false);
      if (plan_ok.load()) sweep_blocks();
      drive_factors();
    });
  } else {
    // P_T = sum_a w(a) P(T | a); for i outside K, dP_T/dP_i = sum_a w(a) dP(T|a)/dP_i
    // (the conditional model is independent); for s in K, B_s = P(T|s=1) - P(T|s=0).
    // The expansion and the engine's kernel work by node; cond is by node.
    const auto& e = *expansion;
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
    for (const std::uint32_t i : cone) lnB[i] = B[i] > 0 ? std::log(B[i]) : kNegInf;
    for (std::size_t i = 0; i < k; ++i) {
      const std::size_t s = model.eval_position(e.shared[i]);
      lnB[s] = p1[i] > p0[i] ? std::log(p1[i] - p0[i]) : kNegInf;
      p_if_one[s] = p1[i];
    }
    from_birnbaum();
    drive_factors();
    for (const std::uint32_t i : cone) {  // improvement potential: re-expand with P_v := 1
      if (i == tpos || p_if_one[i] >= 0) continue;
      double acc = 0;
      for (std::uint64_t a = 0; a < (std::uint64_t{1} << k); ++a)
        acc += std::exp(detail::log_weight(e, a, lp_node.data(), 1, 0) +
                        conditional(a, static_cast<std::ptrdiff_t>(ops.op[i].node)));
      p_if_one[i] = acc;
    }
  }

  for (const std::uint32_t i : cone)  // with shared skills: from the expansion
    if (i != tpos && p_if_one[i] >= 0) improvement[i] = std::max(0.0, p_if_one[i] - table.p_task);

  // The measures by position (drive: leaves only, summed in cone order),
  // then ranked by the chosen one, descending, ties by spec order: sorted
  // as (-measure, node) pairs, and the rows built once, in rank order.
  // Each step splits its range over the workers (two halves sorted apart,
  // then merged: the same order as one sort, every key being distinct).
  const std::size_t nr = cone.size() - 1;  // cone[0] is T
  const unsigned split = detail::worker_count(options.threads, nr >= 4096 ? 2 : 1);
  auto in_parts = [&](std::size_t count, auto&& work) {
    detail::run_workers(split, [&](unsigned w) { work(count * w / split, count * (w + 1) / split); });
  };
  std::vector<std::pair<double, std::size_t>> key(nr);
  in_parts(nr, [&](std::size_t r0, std::size_t r1) {
    for (std::size_t r = r0; r < r1; ++r) {
      const std::uint32_t i = cone[r + 1];
      const detail::EvalOp& op = ops.op[i];
      if (has_drive[i]) drive[i] = birnbaum[i] * drive[i];
      double m = 0;
      switch (order) {
        case ImportanceOrder::potential: m = improvement[i]; break;
        case ImportanceOrder::birnbaum: m = birnbaum[i]; break;
        case ImportanceOrder::criticality: m = criticality(lnB[i], lp[i], lp[tpos]); break;
        case ImportanceOrder::drive: m = has_drive[i] ? drive[i] : -std::numeric_limits<double>::infinity(); break;
      }
      key[r] = {-m + 0.0, op.node};  // + 0.0: a zero measure is +0.0, one key (rank_sort)
    }
  });
  for (std::size_t r = 1; r <= nr; ++r)
    if (has_drive[cone[r]]) table.dp_task_dlog10x += drive[cone[r]];
  in_parts(nr, [&](std::size_t r0, std::size_t r1) { rank_sort(key.begin() + r0, key.begin() + r1); });
  if (split > 1) std::inplace_merge(key.begin(), key.begin() + nr / 2, key.end());
  table.rows.resize(nr);
  in_parts(nr, [&](std::size_t r0, std::size_t r1) {
    for (std::size_t r = r0; r < r1; ++r) {
      const std::size_t i = model.eval_position(key[r].second);
      Prerequisite& p = table.rows[r];
      p.node = key[r].second;
      p.p = std::exp(lp[i]);
      p.uses = uses[i];
      p.birnbaum = birnbaum[i];
      p.criticality = criticality(lnB[i], lp[i], lp[tpos]);
      p.improvement = improvement[i];
      if (has_drive[i]) p.drive = drive[i];
    }
  });

  // Critical path: descend to the child with the largest improvement potential.
  auto ip = [&](std::size_t c) { return improvement[model.eval_position(c)]; };
  std::size_t v = task;
  table.critical_path.push_back(v);
  while (model.node(v).is_task) {
    std::size_t best = model.use_child(model.use_begin(v));
    for (std::size_t u = model.use_begin(v); u < model.use_end(v); ++u) {
      const std::size_t c = model.use_child(u);
      if (ip(c) > ip(best) || (ip(c) == ip(best) && c < best)) best = c;
    }
    v = best;
    table.critical_path.push_back(v);
  }
  return table;
}

}  // namespace capgraph
