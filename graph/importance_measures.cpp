// capgraph/graph/importance_measures.cpp — docs/measures.md §6: Birnbaum,
// criticality and the ranked table of the bottleneck query.
//
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
#include "graph/importance_detail.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <utility>

#include <boost/sort/spreadsort/integer_sort.hpp>

#include "graph/curve_eval.hpp"
#include "graph/node_kernels.hpp"
#include "graph/successes.hpp"
#include "graph/workers.hpp"

namespace capgraph::importance_detail {

namespace {


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

// The measures by position (drive: leaves only, summed in cone order),
// then ranked by the chosen one, descending, ties by spec order: sorted
// as (-measure, node) pairs, and the rows built once, in rank order.
// Each step splits its range over the workers (two halves sorted apart,
// then merged: the same order as one sort, every key being distinct).
void rank_rows(const Model& model, const Ops& ops, const std::vector<std::uint32_t>& cone, const std::vector<double>& lp,
               const std::vector<double>& uses, const std::vector<char>& has_drive, Measures& m,
               ImportanceOrder order, unsigned threads, ImportanceTable& table) {
  const std::uint32_t tpos = cone[0];
  const std::vector<double>& lnB = m.lnB;
  const std::vector<double>& birnbaum = m.birnbaum;
  const std::vector<double>& improvement = m.improvement;
  std::vector<double>& drive = m.drive;
  const std::size_t nr = cone.size() - 1;  // cone[0] is T
  const unsigned split = detail::worker_count(threads, nr >= 4096 ? 2 : 1);
  auto in_parts = [&](std::size_t count, auto&& work) {
    detail::run_workers(split, [&](unsigned w) { work(count * w / split, count * (w + 1) / split); });
  };
  std::vector<std::pair<double, std::size_t>> key(nr);
  in_parts(nr, [&](std::size_t r0, std::size_t r1) {
    for (std::size_t r = r0; r < r1; ++r) {
      const std::uint32_t i = cone[r + 1];
      const detail::EvalOp& op = ops.op[i];
      if (has_drive[i]) drive[i] = birnbaum[i] * drive[i];
      double v = 0;
      switch (order) {
        case ImportanceOrder::potential: v = improvement[i]; break;
        case ImportanceOrder::birnbaum: v = birnbaum[i]; break;
        case ImportanceOrder::criticality: v = criticality(lnB[i], lp[i], lp[tpos]); break;
        case ImportanceOrder::drive: v = has_drive[i] ? drive[i] : -std::numeric_limits<double>::infinity(); break;
      }
      key[r] = {-v + 0.0, op.node};  // + 0.0: a zero measure is +0.0, one key (rank_sort)
    }
  });
  for (std::size_t r = 1; r <= nr; ++r)
    if (has_drive[cone[r]]) table.dp_task_dlog10x += drive[cone[r]];
  in_parts(nr, [&](std::size_t r0, std::size_t r1) { rank_sort(key.begin() + r0, key.begin() + r1); });
  if (split > 1) std::inplace_merge(key.begin(), key.begin() + nr / 2, key.end());
  table.rows.resize(nr);
  in_parts(nr, [&](std::size_t r0, std::size_t r1) {
    for (std::size_t r = r0; r < r1; ++r) {
      const std::size_t i = detail::program(model).pos[key[r].second];
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
}

}  // namespace capgraph::importance_detail
