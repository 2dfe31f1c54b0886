// capgraph/graph/improvement_sweep.cpp — the improvement sweep's plan and
// its node-major walk (improvement_sweep.hpp).
#include "graph/improvement_sweep.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "graph/simd/vmath.hpp"
#include "graph/successes.hpp"

namespace capgraph::importance_detail {

ImprovementPlan::ImprovementPlan(const Model& model, const Ops& ops, const std::vector<std::uint32_t>& cone)
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

void ImprovementPlan::set_values(const std::vector<double>& lp) {
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

void ImprovementPlan::at_least_tails(const detail::EvalOp& v, const std::vector<double>& lp, Use* uses) {
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

template <class S>
void ImprovementPlan::at_least_tails(const detail::EvalOp& v, Use* uses) {
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

void ImprovementPlan::at_least_tails_by_groups(const detail::EvalOp& v, const std::vector<double>& lp, Use* uses) {
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

void ImprovementSweep::run(const std::vector<std::uint32_t>& queries, std::size_t b0, std::size_t b1, double* out) {
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

// The changed uses of the task at p, their lists' records fetched
// together (each is at a random place in list_: a cache miss apiece, which
// then overlap).
[[gnu::always_inline]] inline void ImprovementSweep::changed_uses(std::uint32_t p) {
  changed_.clear();
  for (std::uint32_t u = p_.use_begin[p]; u < p_.use_begin[p + 1]; ++u) {
    const std::uint32_t c = p_.use[u].child;
    if (!listed(c)) continue;  // unchanged in this block
    __builtin_prefetch(&list_[c]);
    changed_.push_back(u);
  }
}

// A `mean` task's slots under the changes of use u: coef expm1(d), d = ln
// P_c' - ln P_c; from P_c = 0 or past e^700: (1-g)(w_u/W) P_c'/P - coef,
// without overflow.
[[gnu::always_inline]] inline void ImprovementSweep::add_mean_changes(const Plan::Node& d, std::uint32_t p,
                                                                      std::uint32_t u, const ChangedUse& c,
                                                                      Slots& slot) {
  const std::uint32_t n = c.n;
  const std::uint32_t* qs = c.qs;
  const double* after = c.after;
  const double before = c.before, coef = c.coef;
  const bool from_zero = before == kNegInf;
  double* const tmp = tmp_.data();
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
}

// An `at_least` task's slots under the changes of use u: ln gate' = ln
// sum_j C(cnt,j) P'^j (1-P')^(cnt-j) T(k-j), one changed use per query (a
// second, or a use with no tails, re-evaluates the task whole).
[[gnu::always_inline]] inline void ImprovementSweep::add_at_least_changes(const Plan::Use& ref, const ChangedUse& c,
                                                                          Slots& slot) {
  const std::uint32_t n = c.n;
  const std::uint32_t* qs = c.qs;
  const double* after = c.after;
  const double coef = c.coef;
  double* const tmp = tmp_.data();
  Slot* const sl = slot.sl;
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
  if (pending_.empty()) return;
  detail::vmath::exp(terms_.data(), terms_.data(), terms_.size());
  sums_.resize(pending_.size());
  for (std::size_t r = 0; r < pending_.size(); ++r) {
    double sum = 0;
    for (std::size_t i = 0; i <= cnt; ++i) sum += terms_[r * (cnt + 1) + i];
    sums_[r] = sum;
  }
  detail::vmath::log(sums_.data(), sums_.data(), sums_.size());
  for (std::size_t r = 0; r < pending_.size(); ++r) sl[pending_[r]].acc += sums_[r];
}

// Every slot of the task at p under the changes of use u, as its kind
// sums them (Slot::acc).
[[gnu::always_inline]] inline void ImprovementSweep::add_use_changes(const Plan::Node& d, std::uint32_t p,
                                                                     std::uint32_t u, Slots& slot) {
  const Plan::Use& ref = p_.use[u];
  const List pe = list_[ref.child];
  const ChangedUse c{pe.len, lists_.q(pe.begin), lists_.val(pe.begin), pe.before, ref.coef};
  const std::uint32_t n = c.n;
  const std::uint32_t* qs = c.qs;
  const double* after = c.after;
  const double before = c.before, coef = c.coef;
  const bool from_zero = before == kNegInf;
  double* const tmp = tmp_.data();
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
    case Plan::kLinear:
      add_mean_changes(d, p, u, c, slot);
      break;
    case Plan::kAtLeast:
      add_at_least_changes(ref, c, slot);
      break;
    case Plan::kWhole:
      for (std::uint32_t j = 0; j < n; ++j) slot(qs[j]).whole = true;
      break;
    case Plan::kLeaf: break;
  }
}


// The slots' new ln P into vals_ (`all` without a guess or a child at P =
// 0, the commonest, on a loop of its own); whether any slot is marked
// whole (the task re-evaluated by the engine's kernel under that query).
[[gnu::always_inline]] inline bool ImprovementSweep::new_values(const Plan::Node& d, std::uint32_t ns) {
  const Slot* const sl = slots_.data();
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
  return any_whole;
}

// Which of the slots' new values go on into the task's list. A change dP of node p (not T) may be dropped
// while the query's dropped effects, each at most reach[p] dP, stay
// within the budget (drop()). With Δ = ln P' - ln P > 0,
// P Δ <= dP = P expm1(Δ) <= P expm1_upper(Δ): a change past the budget
// at the lower bound is kept, one within it at the upper bound is
// dropped and counted at that bound (more than it is: the total stays
// within the budget), and only one between the two takes expm1 (on
// the benchmark cone, 39,000 of the 1.5 million that reach the bounds).
[[gnu::always_inline]] inline void ImprovementSweep::pass_on(const Plan::Node& d, std::uint32_t p, std::uint32_t ns) {
  const Slot* const sl = slots_.data();
  const Query* const qr = query_.data();
  const double* const val = vals_.data();
  const double lv = d.lv;
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

// Visits a task with a changed child: its slots (one per query with a
// change there), their new ln P, and its list of those that moved. The
// hot loops (3.4 million changes and 3.1 million slots in one bottleneck
// query on the benchmark cone) work through raw pointers into buffers
// sized for a whole block, so that nothing is checked or grown per
// element: a third fewer instructions than push_back and a slot lookup
// through the vectors. The steps are inlined into this one function.
void ImprovementSweep::update(std::uint32_t p) {
  const Plan::Node& d = p_.node[p];
  Slots slot{query_.data(), slots_.data(), p};
  changed_uses(p);
  for (const std::uint32_t u : changed_) add_use_changes(d, p, u, slot);
  if (new_values(d, slot.ns)) whole(p, slot.ns);
  pass_on(d, p, slot.ns);
}

void ImprovementSweep::whole(std::uint32_t p, std::size_t ns) {
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

}  // namespace capgraph::importance_detail
