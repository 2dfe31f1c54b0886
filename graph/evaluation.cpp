// capgraph/graph/evaluation.cpp — docs/measures.md §2 (P) and §3 (metrics).
//
// Everything is carried as ln P. For a node with children rows c_i (ln P_i):
//   all       ln P = sum n_i c_i
//   any       ln(1-P) = sum n_i log1mexp(c_i);  ln P = log1mexp(that)
//   at_least  the count of successes among the multiset of uses
//             (successes.hpp): folded trial by trial in probability space,
//             accumulating "k or more" directly (no 1 - x cancellation), or
//             past the fold's size as binomial groups of equal P;
//             k == all uses is `all`, k == 1 is `any` (exact in logs)
//   best_of   ln(1-P) = n log1mexp(c);  ln P = log1mexp(that)
//   mean      ln P = logsumexp_i(ln w_i + c_i) - ln sum w_i
//   guess     ln P = logaddexp(ln g, ln(1-g) + ln P_gate)
#include "graph/evaluation.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "graph/buffer_rows.hpp"
#include "graph/curve_eval.hpp"
#include "graph/detail/program.hpp"
#include "graph/node_kernels.hpp"
#include "graph/shared.hpp"
#include "graph/simd/vmath.hpp"
#include "graph/successes.hpp"
#include "graph/workers.hpp"

namespace capgraph {

namespace {
constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr std::size_t kPrefetchAhead = 4;  // nodes; 2-4 measured best at 100k nodes (docs/benchmarks.md)
}  // namespace

namespace detail {

PointCache::PointCache(const std::vector<ScalePoint>& pts, const ScalingLaw& law)
    : log10N(pts.size()), lnN(pts.size()), reducible(pts.size()) {
  for (std::size_t j = 0; j < pts.size(); ++j) {
    log10N[j] = std::log10(pts[j].N);
    lnN[j] = std::log(pts[j].N);
    reducible[j] = law.A / std::pow(pts[j].N, law.alpha) + law.B / std::pow(pts[j].D, law.beta);
  }
}

namespace {

// ln P of a leaf at points [j0, j0 + len) into out[0, len). `knots` is
// Program::knots (a `points` curve's knots, in log10 N and logit p).
// Always inlined, like task_kernel, so that each ISA version of run_pass
// (below) gets its own copy compiled for that ISA.
[[gnu::always_inline]] inline void leaf_kernel(const EvalOp& op, const std::pair<double, double>* knots, const PointCache& cache, std::size_t j0,
                 std::size_t len, double* out) {
  switch (op.curve) {
    case CurveKind::logistic: {
      const double* l10 = cache.log10N.data() + j0;
      for (std::size_t j = 0; j < len; ++j) out[j] = op.c1 * (l10[j] - op.c0);
      vmath::log_sigmoid(out, out, len);
      break;
    }
    case CurveKind::power_law: {
      const double* ln = cache.lnN.data() + j0;
      for (std::size_t j = 0; j < len; ++j) out[j] = -op.c1 * (ln[j] - op.c0);
      vmath::exp(out, out, len);
      for (std::size_t j = 0; j < len; ++j) out[j] = -out[j];
      break;
    }
    case CurveKind::constant: {
      std::fill(out, out + len, op.c0);
      break;
    }
    case CurveKind::chinchilla: {
      const double* r = cache.reducible.data() + j0;
      for (std::size_t j = 0; j < len; ++j) out[j] = -op.c0 * r[j];
      break;
    }
    case CurveKind::points: {
      // piecewise linear in (log10 N, logit p), flat beyond the ends; a
      // binary search per point
      const auto* k = knots + op.knot_begin;
      const std::size_t K = op.knot_end - op.knot_begin;
      auto below = [](double x, const std::pair<double, double>& knot) { return x < knot.first; };
      const double* l10 = cache.log10N.data() + j0;
      for (std::size_t j = 0; j < len; ++j) {
        const double x = l10[j];
        double z;
        if (K == 1 || x <= k[0].first) z = k[0].second;
        else if (x >= k[K - 1].first) z = k[K - 1].second;
        else {
          const std::size_t i = static_cast<std::size_t>(std::upper_bound(k, k + K, x, below) - k);  // k[i-1].x <= x < k[i].x
          z = k[i - 1].second + (k[i].second - k[i - 1].second) / (k[i].first - k[i - 1].first) * (x - k[i - 1].first);
        }
        out[j] = z;
      }
      vmath::log_sigmoid(out, out, len);
      break;
    }
  }
  if (op.floor != 0 || op.ceiling != 1) {
    // leaf_log_p: ln(floor + (ceiling - floor) p)
    if (!(op.ceiling > op.floor)) {
      std::fill(out, out + len, op.ln_floor);
    } else {
      for (std::size_t j = 0; j < len; ++j) out[j] += op.ln_span;
      if (op.floor > 0) vmath::logaddexp_const(op.ln_floor, out, out, len);
    }
    // floor <= P <= ceiling exactly; the rounded sum can step past either
    // end (ln P = +5.6e-17 for floor 0.0626 and p = 1), as in leaf_log_p.
    for (std::size_t j = 0; j < len; ++j) out[j] = std::max(op.ln_floor, std::min(out[j], op.ln_ceiling));
  }
}

// A finished block of a kept row, copied out with non-temporal stores: kept
// rows are written once and not read again during the pass, so ordinary
// stores would first read every line and push the live buffer rows out of
// the cache. run_pass_body() fences them before it returns.
[[gnu::always_inline]] inline void copy_out(const double* src, double* dst, std::size_t len) {
#if defined(__SSE2__)
  std::size_t j = 0;
  for (; j < len && (reinterpret_cast<std::uintptr_t>(dst + j) & 15) != 0; ++j) dst[j] = src[j];
  for (; j + 2 <= len; j += 2) _mm_stream_pd(dst + j, _mm_loadu_pd(src + j));
  for (; j < len; ++j) dst[j] = src[j];
#else
  std::copy(src, src + len, dst);
#endif
}

// An at_least gate past the fold's size (successes.hpp), a point at a
// time: its uses as binomial groups of equal P, in log space.
template <class Child>
void at_least_by_groups(const EvalOp& op, std::size_t nu, const double* count, Child child, double* out,
                        std::size_t len, Workspace& ws) {
  const auto k = static_cast<std::size_t>(op.k);
  for (std::size_t j = 0; j < len; ++j) {
    auto& g = ws.groups;
    g.clear();
    bool same = true;
    for (std::size_t u = 0; u < nu; ++u) {
      const double lp = child(u)[j];
      same = same && lp == child(0)[j];
      g.push_back({lp, 0.0, static_cast<std::uint64_t>(count[u])});
    }
    if (same) {  // one binomial (the common case: no sort)
      for (std::size_t u = 1; u < nu; ++u) g[0].n += g[u].n;
      g.resize(1);
    } else {
      merge_groups(g);
    }
    for (auto& x : g) x.lq = log1mexp(x.lp);
    const double work = at_least_work(g, k);
    if (work > ws.max_at_least_work) at_least_too_costly(ws.model, ws.max_at_least_work, op.node, k, g.size(), work);
    out[j] = log_at_least(g, k);
  }
}

// ln P of a task over one block of len points into out[0, len). Use i
// (0 <= i < nu) has count[i] and its child's values at child(i)[0, len).
// One function by design: the per-node hot path, every gate's loop inlined
// into one switch so the evaluation pass pays no call per node.
template <class Child>
[[gnu::always_inline]] inline void task_kernel(const EvalOp& op, std::size_t nu, const double* count, Child child, double* out, std::size_t len,
                 Workspace& ws) {
  ws.reserve_points(len);
  GateKind gate = op.gate;
  if (gate == GateKind::at_least && op.k == static_cast<int>(op.total_uses)) gate = GateKind::all;
  if (gate == GateKind::at_least && op.k == 1) gate = GateKind::any;

  double* tmp = ws.tmp.data();
  switch (gate) {
    case GateKind::all:
      std::fill(out, out + len, 0.0);
      for (std::size_t u = 0; u < nu; ++u) {
        const double* c = child(u);
        const double w = count[u];
        for (std::size_t j = 0; j < len; ++j) out[j] += w * c[j];
      }
      break;
    case GateKind::any:
    case GateKind::best_of: {
      double* acc = ws.acc.data();
      std::fill(acc, acc + len, 0.0);
      for (std::size_t u = 0; u < nu; ++u) {
        const double w = gate == GateKind::best_of ? op.best_n : count[u];
        vmath::log1mexp(child(u), tmp, len);
        for (std::size_t j = 0; j < len; ++j) acc[j] += w * tmp[j];
      }
      vmath::log1mexp(acc, out, len);
      for (std::size_t j = 0; j < len; ++j) {
        // P below ~1e-280: every child's P is that small too, 1 - P_i rounds
        // to 1 and the sum above loses them. Then P = sum w_i P_i (1 + O(P)),
        // which logsumexp keeps exact however small.
        if (acc[j] > -1e-280) {
          double l = kNegInf;
          for (std::size_t u = 0; u < nu; ++u) {
            const double w = gate == GateKind::best_of ? op.best_n : count[u];
            l = logaddexp(l, std::log(w) + child(u)[j]);
          }
          out[j] = std::min(out[j] == kNegInf ? l : std::max(out[j], l), 0.0);
        }
      }
      break;
    }
    case GateKind::mean: {
      double wsum = 0;
      for (std::size_t u = 0; u < nu; ++u) wsum += count[u];
      double* mx = ws.acc.data();
      std::fill(mx, mx + len, kNegInf);
      for (std::size_t u = 0; u < nu; ++u) {
        const double* c = child(u);
        for (std::size_t j = 0; j < len; ++j) mx[j] = std::max(mx[j], c[j]);
      }
      std::fill(out, out + len, 0.0);
      for (std::size_t u = 0; u < nu; ++u) {
        const double* c = child(u);
        const double w = count[u] / wsum;
        for (std::size_t j = 0; j < len; ++j) tmp[j] = mx[j] == kNegInf ? kNegInf : c[j] - mx[j];
        vmath::exp(tmp, tmp, len);
        for (std::size_t j = 0; j < len; ++j) out[j] += w * tmp[j];
      }
      vmath::log(out, out, len);
      for (std::size_t j = 0; j < len; ++j) out[j] = mx[j] == kNegInf ? kNegInf : mx[j] + out[j];
      break;
    }
    case GateKind::at_least: {
      const auto k = static_cast<std::size_t>(op.k);
      if (by_groups(op.total_uses, k)) {
        at_least_by_groups(op, nu, count, child, out, len, ws);
        break;
      }
      if (ws.pq.size() < 2 * nu * len) ws.pq.resize(2 * nu * len);
      double* P = ws.pq.data();  // use i's P at P[i * len + j], 1 - P at P[(nu + i) * len + j]
      for (std::size_t i = 0; i < nu; ++i)
        vmath::exp_and_complement(child(i), P + i * len, P + (nu + i) * len, len);
      // The distribution of successes so far, truncated at k ("k or more"
      // absorbs), for every point of the block: count t at d[t * len + j].
      ws.dist.assign((k + 1) * len, 0.0);
      double* d = ws.dist.data();
      std::fill(d, d + len, 1.0);
      for (std::size_t i = 0; i < nu; ++i)
        fold_trials(d, k, len, P + i * len, P + (nu + i) * len, static_cast<std::uint64_t>(count[i]));
      // ln of "k or more"; where that is near or below the smallest double
      // (dk <= 1e-280), the DP is redone in log space, block-wise over the
      // points from the first such point to the last (typically the low end
      // of the scale range; a point at a time this took a sixth of a 100k x
      // 1,000 evaluation).
      const double* dk = d + k * len;
      std::size_t lo = len, hi = 0;
      for (std::size_t j = 0; j < len; ++j) {
        tmp[j] = std::min(dk[j], 1.0);
        if (!(dk[j] > 1e-280)) lo = std::min(lo, j), hi = j + 1;
      }
      vmath::log(tmp, out, len);  // ln 0 = -inf
      if (lo < hi) {
        const std::size_t L = hi - lo;
        ws.ldist.assign((k + 1) * L, kNegInf);
        double* ld = ws.ldist.data();  // count t at ld[t * L + j - lo]
        std::fill(ld, ld + L, 0.0);
        if (ws.pq.size() < 3 * L) ws.pq.resize(3 * L);
        double* lq = ws.pq.data();  // ln(1 - P) of the use
        double* a = lq + L;
        double* b = a + L;
        for (std::size_t u = 0; u < nu; ++u) {
          const double* lp = child(u) + lo;
          vmath::log1mexp(lp, lq, L);
          fold_trials_log(ld, k, L, lp, lq, static_cast<std::uint64_t>(count[u]), a, b);
        }
        for (std::size_t j = lo; j < hi; ++j)
          if (!(dk[j] > 1e-280)) out[j] = ld[k * L + j - lo];
      }
      break;
    }
  }
  if (op.guess > 0) {
    const double lg = std::log(op.guess), l1g = std::log1p(-op.guess);
    for (std::size_t j = 0; j < len; ++j) out[j] += l1g;
    vmath::logaddexp_const(lg, out, out, len);
  }
  for (std::size_t j = 0; j < len; ++j) out[j] = std::min(out[j], 0.0);  // rounding never above P = 1
}

}  // namespace

void eval_task(const Model& m, std::size_t v, const double* logp, std::size_t stride, double* row, std::size_t j0,
               std::size_t j1, Workspace& ws) {
  const Program& p = program(m);
  const EvalOp& op = p.ops[p.pos[v]];
  const std::size_t ub = m.use_begin(v);
  auto child = [&](std::size_t i) { return logp + m.use_child(ub + i) * stride + j0; };
  ws.model = &m;
  task_kernel(op, m.use_end(v) - ub, p.use_count.data() + op.use_begin, child, row + j0, j1 - j0, ws);
}

void at_least_too_costly(const Model* model, double limit, std::size_t node, std::size_t k, std::size_t groups,
                         double work) {
  auto num = [](double x) {
    char b[32];
    std::snprintf(b, sizeof b, "%.3g", x);
    return std::string(b);
  };
  const std::string who = model ? "task `" + model->node(node).id + "`" : "a task";
  throw ModelError("the at_least gate of " + who + " (k = " + std::to_string(k) + ") has uses of " +
                       std::to_string(groups) + " different probabilities at a scale point and needs about " +
                       num(work) + " term updates there, over the limit of " + num(limit) +
                       "; raise it with --max-at-least-work",
                   model ? model->node(node).loc : SourceLoc{});
}

namespace {

// Everything one worker's pass over its scale points reads and writes,
// set up by evaluate() below (its comments say what each array is).
struct PassInputs {
  const Model* model = nullptr;
  std::size_t m = 0;                           // points
  std::size_t B = 0;                           // points per block
  std::size_t rows = 0, pc_block_rows = 0;     // buffer rows per block
  const EvalOp* ops = nullptr;                 // by position
  const std::uint32_t* order = nullptr;        // the positions to evaluate, ascending; null: all n
  std::size_t count = 0;                       // how many (n when order is null)
  const std::uint32_t* use_row = nullptr;      // by use: the child's buffer row
  const std::int32_t* use_pc = nullptr;        // by use: the child's partial-credit row, or -1
  const double* use_count = nullptr;           // by use
  const double* use_steps = nullptr;           // by use
  const std::uint32_t* row_at = nullptr;       // by position: buffer row; null: the node's index (shared skills)
  const std::int32_t* pc_block_at = nullptr;   // by position: partial-credit buffer row (an `all` task
                                               // that computes partial credit), or -1
  const std::int32_t* pc_store_at = nullptr;   // by position: stored partial-credit row, or -1
  const std::int32_t* kept_at = nullptr;       // by position: kept row, or -1
  const SharedPlan* plan = nullptr;            // null without shared skills
  const PointCache* cache = nullptr;
  const std::pair<double, double>* knots = nullptr;
  double* log_p = nullptr;                     // kept rows x m
  double* pc = nullptr;                        // stored partial-credit rows x m
  double max_at_least_work = 0;                // EvalOptions::max_at_least_work
};

// Points [j0, j1), cut into blocks of equal length (a multiple of 8 points
// where in.B allows, at most in.B; the last maybe shorter): every node, a
// block of points at a time, in per-thread buffers. Always inlined into
// one function per ISA (below), so that the kernels' loops over the points
// of a block are compiled for AVX2 or AVX-512 where the CPU has them.
[[gnu::always_inline]] inline void run_pass_body(const PassInputs& in, std::size_t j0, std::size_t j1) {
  const std::size_t nb = (j1 - j0 + in.B - 1) / in.B;
  const std::size_t B = nb == 0 ? in.B : std::min(in.B, ((j1 - j0 + nb - 1) / nb + 7) / 8 * 8);
  const EvalOp* ops = in.ops;
  std::vector<double, LargeBufferAllocator<double>> buf(in.rows * B), pcbuf(in.pc_block_rows * B);
  Workspace ws;
  ws.reserve_points(B);
  ws.model = in.model;
  ws.max_at_least_work = in.max_at_least_work;
  std::vector<double> scratch;
  for (std::size_t a0 = j0; a0 < j1; a0 += B) {
    const std::size_t len = std::min(B, j1 - a0);
    for (std::size_t at = 0; at < in.count; ++at) {
      const std::size_t i = in.order ? in.order[at] : at;
      // The children's rows of a node a few places ahead are requested now,
      // so their cache misses overlap this node's arithmetic.
      // The same for their partial-credit rows when the node needs them.
      if (at + kPrefetchAhead < in.count) {
        const std::size_t ia = in.order ? in.order[at + kPrefetchAhead] : at + kPrefetchAhead;
        const EvalOp& ahead = ops[ia];
        const bool ahead_pc = in.pc_block_at[ia] >= 0;
        for (std::size_t u = ahead.use_begin; u < ahead.use_end; ++u) {
          const char* c = reinterpret_cast<const char*>(buf.data() + std::size_t{in.use_row[u]} * B);
          for (std::size_t off = 0; off < len * sizeof(double); off += 64) __builtin_prefetch(c + off);
          if (!ahead_pc || in.use_pc[u] < 0) continue;
          const char* cp = reinterpret_cast<const char*>(pcbuf.data() + static_cast<std::size_t>(in.use_pc[u]) * B);
          for (std::size_t off = 0; off < len * sizeof(double); off += 64) __builtin_prefetch(cp + off);
        }
      }
      const EvalOp& op = ops[i];
      double* row = buf.data() + (in.row_at ? std::size_t{in.row_at[i]} : op.node) * B;
      if (op.is_task) {
        auto child = [&](std::size_t k) { return buf.data() + std::size_t{in.use_row[op.use_begin + k]} * B; };
        task_kernel(op, op.use_end - op.use_begin, in.use_count + op.use_begin, child, row, len, ws);
      } else {
        leaf_kernel(op, in.knots, *in.cache, a0, len, row);
      }
      if (in.plan && in.plan->index[op.node] >= 0) run_shared(*in.model, *in.plan, op.node, buf.data(), B, len, ws, scratch);
      if (in.kept_at[i] >= 0) copy_out(row, in.log_p + static_cast<std::size_t>(in.kept_at[i]) * in.m + a0, len);
      if (in.pc_block_at[i] < 0) continue;
      double* pc = pcbuf.data() + static_cast<std::size_t>(in.pc_block_at[i]) * B;
      std::fill(pc, pc + len, 0.0);
      double den = 0;
      for (std::size_t u = op.use_begin; u < op.use_end; ++u) {
        const double w = in.use_steps[u];
        den += w;
        if (in.use_pc[u] >= 0) {
          const double* cp = pcbuf.data() + static_cast<std::size_t>(in.use_pc[u]) * B;
          for (std::size_t j = 0; j < len; ++j) pc[j] += w * cp[j];
        } else {
          double* t = ws.tmp.data();
          vmath::exp(buf.data() + std::size_t{in.use_row[u]} * B, t, len);
          for (std::size_t j = 0; j < len; ++j) pc[j] += w * t[j];
        }
      }
      const double g = op.guess;
      for (std::size_t j = 0; j < len; ++j) pc[j] = std::clamp(g + (1 - g) * (pc[j] / den), 0.0, 1.0);
      if (in.pc_store_at[i] >= 0) copy_out(pc, in.pc + static_cast<std::size_t>(in.pc_store_at[i]) * in.m + a0, len);
    }
  }
#if defined(__SSE2__)
  _mm_sfence();  // the kept rows' non-temporal stores, before the caller reads them
#endif
}

// One copy of the pass per ISA. The same arithmetic in the same order: the
// loops run over independent points, and evaluation.cpp is compiled with
// -ffp-contract=off (CMakeLists.txt), so no clone fuses a multiply and an
// add that the others round twice. Every version gives the same bits.
using PassFn = void (*)(const PassInputs&, std::size_t, std::size_t);
void run_pass(const PassInputs& in, std::size_t j0, std::size_t j1) { run_pass_body(in, j0, j1); }
#if defined(CAPGRAPH_HAVE_SIMD_KERNELS)
[[gnu::target("avx2")]] void run_pass_avx2(const PassInputs& in, std::size_t j0, std::size_t j1) {
  run_pass_body(in, j0, j1);
}
[[gnu::target("avx512f")]] void run_pass_avx512(const PassInputs& in, std::size_t j0, std::size_t j1) {
  run_pass_body(in, j0, j1);
}
#endif

// The widest version vmath uses too (the CPU's and CAPGRAPH_SIMD's choice).
PassFn pick_pass() {
#if defined(CAPGRAPH_HAVE_SIMD_KERNELS)
  switch (vmath::simd_path()) {
    case vmath::SimdPath::avx512: return run_pass_avx512;
    case vmath::SimdPath::avx2: return run_pass_avx2;
    case vmath::SimdPath::scalar: break;
  }
#endif
  return run_pass;
}

}  // namespace

}  // namespace detail

using detail::eval_task;
using detail::Workspace;

double Evaluation::p(std::size_t v, std::size_t j) const { return std::exp(log_p(v, j)); }

void Evaluation::throw_not_kept(std::size_t v) const {
  throw std::out_of_range("capgraph::Evaluation: the row of node '" + model_->node(v).id +
                          "' was not kept (EvalOptions::keep)");
}

double Evaluation::partial_credit(std::size_t v, std::size_t j) const {
  const std::ptrdiff_t r = pc_row_.empty() ? -1 : pc_row_[v];
  if (r >= 0) return pc_[static_cast<std::size_t>(r) * points_.size() + j];
  if (model_->node(v).is_task && model_->node(v).gate == GateKind::all && !(!cut_.empty() && cut_[v])) {
    // Not stored (no partial-credit task above it, every row kept):
    // computed recursively from the children's rows.
    const Model& m = *model_;
    double num = 0, den = 0;
    for (std::size_t u = m.use_begin(v); u < m.use_end(v); ++u) {
      const std::size_t c = m.use_child(u);
      const double w = m.use_count(u) * steps(c);
      num += w * partial_credit(c, j);
      den += w;
    }
    const double g = m.node(v).guess;
    return g + (1 - g) * (num / den);
  }
  return p(v, j);
}

double Evaluation::log_likelihood_per_step(std::size_t v, std::size_t j) const {
  return log_p(v, j) / steps(v);
}

double Evaluation::metric(std::size_t v, const Metric& m, std::size_t j) const {
  const double lp = log_p(v, j);
  switch (m.kind) {
    case MetricKind::exact_match: return std::exp(lp);
    case MetricKind::partial_credit: return partial_credit(v, j);
    case MetricKind::log_likelihood: return lp;
    case MetricKind::multiple_choice: return 1.0 / m.k + (1.0 - 1.0 / m.k) * std::exp(lp);
    case MetricKind::pass_at: return -std::expm1(m.k * log1mexp(lp));
  }
  return 0;
}

namespace {

// 32-bit (Model::compile caps nodes below 2^31): a million nodes need three
// of the position-indexed arrays below, fresh memory that costs its page faults.
constexpr std::int32_t kNone = -1;

// The program one evaluation runs: the model's (graph/detail/program.hpp),
// or under EvalOptions::overrides the patched copy that stands for the
// rebuilt spec (graph/overrides.hpp).
struct RunProgram {
  const detail::EvalOp* ops = nullptr;
  const double* use_steps = nullptr;
  const std::uint8_t* flags = nullptr;
  const std::pair<double, double>* knots = nullptr;
  const std::vector<std::uint8_t>* cut = nullptr;  // by node: a task evaluated as a skill; null: none
  bool has_shared = false;
};

RunProgram run_program(const Model& model, const detail::PatchedProgram* patch) {
  const detail::Program& prog = detail::program(model);
  RunProgram r{prog.ops.data(), prog.use_steps.data(), prog.flags.data(), prog.knots.data(), nullptr, model.has_shared()};
  if (!patch) return r;
  r.ops = patch->ops.data();
  if (!patch->knots.empty()) r.knots = patch->knots.data();
  if (!patch->cut.empty()) {
    r.use_steps = patch->use_steps.data();
    r.flags = patch->flags.data();
    r.cut = &patch->cut;
  }
  r.has_shared = patch->has_shared;
  return r;
}

// The row of each node EvalOptions::keep names, in the order named (a
// node named twice keeps its first row), into row_of (by node, -1: not
// kept); returns the number of rows.
std::size_t kept_rows(const std::vector<std::size_t>& keep, std::size_t n, std::vector<std::int32_t>& row_of) {
  row_of.assign(n, -1);
  std::size_t kept = 0;
  for (std::size_t v : keep) {
    if (v >= n) throw std::out_of_range("capgraph::evaluate: EvalOptions::keep names node " + std::to_string(v) +
                                        " of a model with " + std::to_string(n));
    if (row_of[v] < 0) row_of[v] = static_cast<std::int32_t>(kept++);
  }
  return kept;
}

// Kept row of each position: EvalOptions::keep's order, or every node's own.
std::vector<std::int32_t> kept_positions(const Model& model, const std::vector<std::int32_t>& row_of,
                                         const RunProgram& prog) {
  const std::size_t n = model.size();
  std::vector<std::int32_t> kept_at(n, kNone);
  if (!row_of.empty()) {
    const std::uint32_t* pos = detail::program(model).pos.data();
    for (std::size_t v = 0; v < n; ++v)
      if (row_of[v] >= 0) kept_at[pos[v]] = row_of[v];
  } else {
    for (std::size_t i = 0; i < n; ++i) kept_at[i] = static_cast<std::int32_t>(prog.ops[i].node);
  }
  return kept_at;
}

// With `keep`, only the kept nodes' cones are evaluated: nothing outside
// them is read (`sweep --tasks`, a bottleneck query's cone). The buffer
// rows assigned by liveness (Program::row) stay valid for any set of
// positions closed under children: a skipped position writes no row.
// Returns the positions to evaluate, ascending, or nullopt when that is all.
std::optional<std::vector<std::uint32_t>> active_cone(const Model& model, const std::vector<std::int32_t>& kept_at, const RunProgram& prog) {
  const detail::Program& p = detail::program(model);
  const std::size_t n = model.size();
  const std::uint32_t* use_off = p.use_offset.data();
  const std::uint32_t* use_pos = p.use_pos.data();
  std::vector<std::uint8_t> active(n, 0);
  std::size_t count = 0;
  for (std::size_t i = n; i-- > 0;) {
    if (kept_at[i] >= 0) active[i] = 1;
    if (!active[i]) continue;
    ++count;
    if (prog.cut && (*prog.cut)[prog.ops[i].node]) continue;  // evaluated as a skill: its uses are not read
    for (std::size_t u = use_off[i]; u < use_off[i + 1]; ++u) active[use_pos[u]] = 1;
  }
  if (count == n) return std::nullopt;
  std::vector<std::uint32_t> order;
  order.reserve(count);
  for (std::size_t i = 0; i < n; ++i)
    if (active[i]) order.push_back(static_cast<std::uint32_t>(i));
  return order;
}

// Where partial credit is computed and kept. `all` tasks that report it,
// and (when not every row is kept, so it cannot be recomputed later) every
// kept `all` task; their `all` descendants need it too. Any other child's P
// is e^(ln P) of its row, computed at each use: that row has just been read
// for the task's own ln P. (A row of P per shared child would save that
// exp, but the exp runs 8 lanes at a time and the extra rows cost more in
// memory traffic than the exps they save: docs/decisions.md.)
struct PcLayout {
  std::vector<std::int32_t> block_at;  // by position: partial-credit buffer row, or -1
  std::vector<std::int32_t> store_at;  // by position: stored row, or -1
  std::vector<std::int32_t> row_of;    // by node: stored row, or -1
  std::size_t block_rows = 0, rows = 0;
};

// Rows of the partial-credit block buffer are assigned by liveness, as
// Program::row (graph/buffer_rows.hpp): one is given back after the last
// task reading it, or at once when no task reads it (its kept values are
// copied out first). Two passes over compact arrays (Program::use_offset,
// flags). Below 8 points the smaller buffer does not pay for the liveness
// bookkeeping (at a million nodes and one point it took as long as the
// evaluation): each partial-credit node keeps its own row.
PcLayout plan_partial_credit(const Model& model, const RunProgram& prog, const std::vector<std::int32_t>& kept_at,
                             const EvalOptions& options, std::size_t points) {
  const detail::Program& p = detail::program(model);
  const std::size_t n = model.size();
  const std::uint32_t* use_off = p.use_offset.data();
  const std::uint32_t* use_pos = p.use_pos.data();
  const std::uint8_t* flags = prog.flags;
  PcLayout pc;
  pc.block_at.assign(n, kNone);
  pc.store_at.assign(n, kNone);
  pc.row_of.assign(n, kNone);
  std::vector<std::uint8_t> pc_task(n, 0);  // an `all` task that computes partial credit, in a buffer row
  // Backward (tasks before their prerequisites): who needs partial credit,
  // and the last task in evaluation order that reads each node's.
  const bool liveness = points >= 8;
  std::vector<std::uint8_t> need(n, 0);
  std::vector<std::int32_t> last_read(liveness ? n : 0, kNone);
  for (std::size_t i = n; i-- > 0;) {
    // Kept rows carry partial credit (their children's may not be there to
    // work it out later); without `keep`, every task that reports it.
    if (options.partial_credit &&
        (options.keep ? kept_at[i] >= 0 : (flags[i] & detail::Program::kReportsPartial) != 0))
      need[i] = 1;
    if (!need[i] || !(flags[i] & detail::Program::kAllTask)) continue;
    pc_task[i] = 1;
    for (std::size_t u = use_off[i]; u < use_off[i + 1]; ++u) {
      const std::uint32_t c = use_pos[u];
      need[c] = 1;
      if (!liveness) continue;
      if (last_read[c] == kNone) last_read[c] = static_cast<std::int32_t>(i);
    }
  }
  // Forward: where kept partial credit goes.
  for (std::size_t i = 0; i < n; ++i) {
    if (!pc_task[i] || kept_at[i] < 0) continue;
    pc.store_at[i] = static_cast<std::int32_t>(pc.rows);
    pc.row_of[prog.ops[i].node] = static_cast<std::int32_t>(pc.rows++);
  }
  // The rows.
  if (liveness) {
    pc.block_rows = detail::assign_rows_by_liveness(
        n, [&](std::size_t i) { return pc_task[i] != 0; },
        [&](std::size_t i, auto&& f) {
          if (!pc_task[i]) return;
          for (std::size_t u = use_off[i]; u < use_off[i + 1]; ++u)
            if (pc_task[use_pos[u]]) f(use_pos[u]);
        },
        last_read, pc.block_at);
  } else {
    for (std::size_t i = 0; i < n; ++i)
      if (pc_task[i]) pc.block_at[i] = static_cast<std::int32_t>(pc.block_rows++);
  }
  return pc;
}

// Points per block: one thread's buffers (ln P of the live rows, partial
// credit of the nodes that need it) are reused warm from block to block
// instead of touching nodes x points of fresh memory. Each block reads
// every node's children once, mostly cache misses, so blocks should be
// long, but the buffers of all threads share the last-level cache and are
// fresh memory to fault in: as long as the threads' buffers together stay
// within 48 MiB, at least kMinBlock points, at most 1,024, and one
// thread's buffers within 256 MiB. At 100,000 nodes x 1,000 points that
// is 72 points on two threads. 40 and 56 points took 0.41 s warm against
// 0.43 s with 64 on two threads; 8 points took 1.8x the time of 64.
std::size_t block_length(const EvalOptions& options, std::size_t points, std::size_t buffer_rows) {
  std::size_t B = options.block_points;
  if (B == 0) {
    constexpr std::size_t kMinBlock = 32;
    const unsigned want = detail::worker_count(options.threads, (points + 7) / 8);  // threads sharing the cache
    const std::size_t per_point = 8 * buffer_rows + 1;
    B = std::clamp<std::size_t>((std::size_t{48} << 20) / (want * per_point), kMinBlock, 1024);
    B = std::max<std::size_t>(8, std::min(B, (std::size_t{256} << 20) / per_point));
    B = B / 8 * 8;
  }
  return std::max<std::size_t>(1, std::min(B, points));
}

}  // namespace

// Sets up the arrays of one pass (everything indexed by position in the
// evaluation order, so that the pass reads the program and these arrays
// front to back) and runs it over the points on the worker threads.
Evaluation evaluate(const Model& model, std::span<const double> xs, const EvalOptions& options) {
  std::optional<detail::PatchedProgram> patch;
  if (!options.overrides.empty()) patch = detail::patch_program(model, options.overrides);
  const RunProgram prog = run_program(model, patch ? &*patch : nullptr);
  detail::SharedPlan plan;
  if (prog.has_shared) {
    detail::SharedLimits limits;
    limits.max_work = options.max_shared_work;
    limits.max_expanded = options.max_shared_expanded;
    limits.max_nodes = options.max_bdd_nodes;
    limits.expansion = options.shared_expansion;
    plan = detail::plan_shared(model, xs.size(), limits, prog.cut);
  }
  Evaluation ev;
  ev.model_ = &model;
  const std::size_t n = model.size();
  ev.num_nodes_ = n;
  const std::size_t m = xs.size();
  ev.points_.reserve(m);
  for (double x : xs) {
    if (!(x > 0) || !std::isfinite(x)) throw ModelError("scale values must be positive and finite");
    ev.points_.push_back(model.axis().at(x));
  }
  if (patch && !patch->cut.empty()) {
    ev.cut_ = patch->cut;
    ev.steps_ = patch->steps;
  }

  const std::size_t kept = options.keep ? kept_rows(*options.keep, n, ev.row_of_) : n;
  const detail::Program& program = detail::program(model);
  const std::vector<std::int32_t> kept_at = kept_positions(model, ev.row_of_, prog);
  const auto order = options.keep ? active_cone(model, kept_at, prog) : std::nullopt;
  PcLayout pc = plan_partial_credit(model, prog, kept_at, options, m);
  ev.pc_row_ = std::move(pc.row_of);
  ev.log_p_.resize(kept * m);  // every kept row is written whole below
  ev.pc_.resize(pc.rows * m);

  // Block rows: position i's ln P at buf[slot(i) * B]. Without shared skills
  // the row is Program::row: rows are reused once nothing later reads
  // them, so a buffer holds the live rows only (35,000 of 100,000 on the
  // benchmark spec; less fresh memory to fault in, more of it in cache).
  // Exact shared-skill evaluation (shared.cpp, bdd.cpp) reads rows by node
  // index, so a model with shared skills keeps one row per node.
  const bool by_node = !plan.index.empty();
  const std::size_t rows = by_node ? n : program.rows;
  // Per use, the child's row and partial-credit row, read in order with the
  // uses: looking them up by the child's position is a cache miss per use
  // on large models (half the time of a million-node, one-point run).
  const std::uint32_t* use_pos = program.use_pos.data();
  std::vector<std::uint32_t> node_rows;
  if (by_node) {
    node_rows.resize(program.use_pos.size());
    for (std::size_t u = 0; u < node_rows.size(); ++u) node_rows[u] = prog.ops[use_pos[u]].node;
  }
  std::vector<std::int32_t> use_pc;
  if (pc.block_rows > 0) {
    use_pc.resize(program.use_pos.size());
    for (std::size_t u = 0; u < use_pc.size(); ++u) use_pc[u] = pc.block_at[use_pos[u]];
  }
  const std::size_t B = block_length(options, m, rows + pc.block_rows + plan.scratch_rows());

  const detail::PointCache cache(ev.points_, model.spec().scale.law);
  detail::PassInputs in;
  in.model = &model;
  in.max_at_least_work = options.max_at_least_work;
  in.m = m;
  in.B = B;
  in.rows = rows;
  in.pc_block_rows = pc.block_rows;
  in.ops = prog.ops;
  in.order = order ? order->data() : nullptr;
  in.count = order ? order->size() : n;
  ev.evaluated_nodes_ = in.count;
  ev.block_points_ = B;
  in.use_row = by_node ? node_rows.data() : program.use_row.data();
  in.use_pc = use_pc.data();
  in.use_count = program.use_count.data();
  in.use_steps = prog.use_steps;
  in.row_at = by_node ? nullptr : program.row.data();
  in.pc_block_at = pc.block_at.data();
  in.pc_store_at = pc.store_at.data();
  in.kept_at = kept_at.data();
  in.plan = by_node ? &plan : nullptr;
  in.cache = &cache;
  in.knots = prog.knots;
  in.log_p = ev.log_p_.data();
  in.pc = ev.pc_.data();
  const auto pass = detail::pick_pass();

  // One contiguous range of points per worker, of equal length, each cut
  // into blocks of at most B (run_pass_body). Every point's arithmetic is
  // the same whatever the cut: the bits do not depend on it.
  const unsigned threads = detail::worker_count(options.threads, (m + B - 1) / B);
  detail::run_workers(threads, [&](unsigned t) { pass(in, m * t / threads, m * (t + 1) / threads); });
  return ev;
}

std::string metric_label(const Metric& m) {
  std::string s = metric_kind_name(m.kind);
  if (m.kind == MetricKind::multiple_choice || m.kind == MetricKind::pass_at) {
    s.push_back(':');
    s.append(std::to_string(m.k));
  }
  return s;
}

bool metric_is_probability(const Metric& m) { return m.kind != MetricKind::log_likelihood; }

std::optional<Metric> parse_metric(std::string_view label) {
  const std::size_t colon = label.find(':');
  const std::string_view name = label.substr(0, colon);
  Metric m;
  if (name == "exact_match") m.kind = MetricKind::exact_match;
  else if (name == "partial_credit") m.kind = MetricKind::partial_credit;
  else if (name == "log_likelihood") m.kind = MetricKind::log_likelihood;
  else if (name == "multiple_choice") m.kind = MetricKind::multiple_choice;
  else if (name == "pass_at") m.kind = MetricKind::pass_at;
  else return std::nullopt;
  if (m.kind != MetricKind::multiple_choice && m.kind != MetricKind::pass_at)
    return colon == std::string_view::npos ? std::optional(m) : std::nullopt;
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view k = label.substr(colon + 1);
  const auto res = std::from_chars(k.data(), k.data() + k.size(), m.k);
  const int lo = m.kind == MetricKind::multiple_choice ? 2 : 1;
  if (k.empty() || res.ec != std::errc() || res.ptr != k.data() + k.size() || m.k < lo) return std::nullopt;
  return m;
}

void node_quantities(const Model& model, std::size_t v, std::vector<NodeQuantity>& out) {
  using Q = NodeQuantity;
  for (Q::Kind k : {Q::p, Q::log_p, Q::partial_credit, Q::steps}) out.push_back({k, {}});
  if (!model.node(v).is_task) return;
  for (const Metric& m : model.metrics(v)) {
    if (m.kind == MetricKind::partial_credit) continue;  // the node's partial credit, listed above
    out.push_back({Q::task_metric, m});
    if (m.kind == MetricKind::log_likelihood) out.push_back({Q::log_likelihood_per_step, m});
  }
}

std::string quantity_label(const NodeQuantity& q) {
  switch (q.kind) {
    case NodeQuantity::p: return "p";
    case NodeQuantity::log_p: return "log_p";
    case NodeQuantity::partial_credit: return "partial_credit";
    case NodeQuantity::steps: return "steps";
    case NodeQuantity::task_metric: return metric_label(q.metric);
    case NodeQuantity::log_likelihood_per_step: return "log_likelihood_per_step";
  }
  return "";
}

double quantity_value(const Evaluation& ev, std::size_t v, const NodeQuantity& q, std::size_t j) {
  switch (q.kind) {
    case NodeQuantity::p: return ev.p(v, j);
    case NodeQuantity::log_p: return ev.log_p(v, j);
    case NodeQuantity::partial_credit: return ev.partial_credit(v, j);
    case NodeQuantity::steps: return ev.model().steps(v);
    case NodeQuantity::task_metric: return ev.metric(v, q.metric, j);
    case NodeQuantity::log_likelihood_per_step: return ev.log_likelihood_per_step(v, j);
  }
  return 0;
}

}  // namespace capgraph
