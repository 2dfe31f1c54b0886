// capgraph/graph/evaluation.cpp — DESIGN.md 3.1 (P) and 3.2 (metrics).
//
// Everything is carried as ln P. For a node with children rows c_i (ln P_i):
//   all       ln P = sum n_i c_i
//   any       ln(1-P) = sum n_i log1mexp(c_i);  ln P = log1mexp(that)
//   at_least  Poisson-binomial DP over the multiset of uses, in probability
//             space, accumulating "k or more" directly (no 1 - x cancellation);
//             k == all uses is `all`, k == 1 is `any` (exact in logs)
//   best_of   ln(1-P) = n log1mexp(c);  ln P = log1mexp(that)
//   mean      ln P = logsumexp_i(ln w_i + c_i) - ln sum w_i
//   guess     ln P = logaddexp(ln g, ln(1-g) + ln P_gate)
#include "graph/evaluation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>

#include "graph/curve_eval.hpp"
#include "graph/node_kernels.hpp"
#include "graph/shared.hpp"

namespace capgraph {

namespace {
constexpr double kNegInf = -std::numeric_limits<double>::infinity();
}  // namespace

namespace detail {

// Leaf row over points [j0, j1).
PointCache::PointCache(const std::vector<ScalePoint>& pts, const ScalingLaw& law)
    : log10N(pts.size()), lnN(pts.size()), reducible(pts.size()) {
  for (std::size_t j = 0; j < pts.size(); ++j) {
    log10N[j] = std::log10(pts[j].N);
    lnN[j] = std::log(pts[j].N);
    reducible[j] = law.A / std::pow(pts[j].N, law.alpha) + law.B / std::pow(pts[j].D, law.beta);
  }
}

void eval_leaf(const NodeSpec& n, const ScalingLaw& law, const std::vector<ScalePoint>& pts, const PointCache& cache,
               double* row, std::size_t j0, std::size_t j1) {
  const Curve& c = n.curve;
  switch (c.kind) {
    case CurveKind::logistic: {
      const double l10mid = std::log10(c.mid);
      const double* l10 = cache.log10N.data();
      for (std::size_t j = j0; j < j1; ++j) row[j] = log_sigmoid(c.slope * (l10[j] - l10mid));
      break;
    }
    case CurveKind::power_law: {
      const double lnc = std::log(c.c);
      const double* ln = cache.lnN.data();
      for (std::size_t j = j0; j < j1; ++j) row[j] = -std::exp(-c.alpha * (ln[j] - lnc));
      break;
    }
    case CurveKind::constant: {
      const double lp = c.value > 0 ? std::log(c.value) : kNegInf;
      std::fill(row + j0, row + j1, lp);
      break;
    }
    case CurveKind::chinchilla: {
      const double* r = cache.reducible.data();
      for (std::size_t j = j0; j < j1; ++j) row[j] = -c.weight * r[j];
      break;
    }
    case CurveKind::points: {
      // knots in (log10 N, logit p), once per leaf; then a binary search per point
      const std::size_t K = c.knots.size();
      double xk[64], zk[64];
      if (K > 64) {
        for (std::size_t j = j0; j < j1; ++j) row[j] = curve_log_p(c, law, pts[j]);
        break;
      }
      for (std::size_t i = 0; i < K; ++i) {
        xk[i] = std::log10(c.knots[i].first);
        zk[i] = std::log(c.knots[i].second) - std::log1p(-c.knots[i].second);
      }
      const double* l10 = cache.log10N.data();
      for (std::size_t j = j0; j < j1; ++j) {
        const double x = l10[j];
        double z;
        if (K == 1 || x <= xk[0]) z = zk[0];
        else if (x >= xk[K - 1]) z = zk[K - 1];
        else {
          const std::size_t i = static_cast<std::size_t>(std::upper_bound(xk, xk + K, x) - xk);  // xk[i-1] <= x < xk[i]
          z = zk[i - 1] + (zk[i] - zk[i - 1]) / (xk[i] - xk[i - 1]) * (x - xk[i - 1]);
        }
        row[j] = log_sigmoid(z);
      }
      break;
    }
  }
  if (n.floor != 0 || n.ceiling != 1)
    for (std::size_t j = j0; j < j1; ++j) row[j] = leaf_log_p(row[j], n.floor, n.ceiling);
}

void eval_task(const Model& m, std::size_t v, const double* logp, std::size_t stride, double* row, std::size_t j0,
               std::size_t j1, Workspace& ws) {
  const NodeSpec& n = m.node(v);
  const std::size_t ub = m.use_begin(v), ue = m.use_end(v);
  auto child = [&](std::size_t u) { return logp + m.use_child(u) * stride; };
  double total_uses = 0;
  for (std::size_t u = ub; u < ue; ++u) total_uses += m.use_count(u);

  GateKind gate = n.gate;
  if (gate == GateKind::at_least && n.k == static_cast<int>(total_uses)) gate = GateKind::all;
  if (gate == GateKind::at_least && n.k == 1) gate = GateKind::any;

  switch (gate) {
    case GateKind::all:
      std::fill(row + j0, row + j1, 0.0);
      for (std::size_t u = ub; u < ue; ++u) {
        const double* c = child(u);
        const double w = m.use_count(u);
        for (std::size_t j = j0; j < j1; ++j) row[j] += w * c[j];
      }
      break;
    case GateKind::any:
    case GateKind::best_of: {
      double* acc = ws.acc.data() - j0;
      std::fill(acc + j0, acc + j1, 0.0);
      for (std::size_t u = ub; u < ue; ++u) {
        const double* c = child(u);
        const double w = gate == GateKind::best_of ? n.best_n : m.use_count(u);
        for (std::size_t j = j0; j < j1; ++j) acc[j] += w * log1mexp(c[j]);
      }
      for (std::size_t j = j0; j < j1; ++j) {
        row[j] = log1mexp(acc[j]);
        // P below ~1e-280: every child's P is that small too, 1 - P_i rounds
        // to 1 and the sum above loses them. Then P = sum w_i P_i (1 + O(P)),
        // which logsumexp keeps exact however small.
        if (acc[j] > -1e-280) {
          double l = kNegInf;
          for (std::size_t u = ub; u < ue; ++u) {
            const double w = gate == GateKind::best_of ? n.best_n : m.use_count(u);
            l = logaddexp(l, std::log(w) + child(u)[j]);
          }
          row[j] = std::min(row[j] == kNegInf ? l : std::max(row[j], l), 0.0);
        }
      }
      break;
    }
    case GateKind::mean: {
      double wsum = 0;
      for (std::size_t u = ub; u < ue; ++u) wsum += m.use_count(u);
      double* mx = ws.acc.data() - j0;
      std::fill(mx + j0, mx + j1, kNegInf);
      for (std::size_t u = ub; u < ue; ++u) {
        const double* c = child(u);
        for (std::size_t j = j0; j < j1; ++j) mx[j] = std::max(mx[j], c[j]);
      }
      std::fill(row + j0, row + j1, 0.0);
      for (std::size_t u = ub; u < ue; ++u) {
        const double* c = child(u);
        const double w = m.use_count(u) / wsum;
        for (std::size_t j = j0; j < j1; ++j)
          if (mx[j] != kNegInf) row[j] += w * std::exp(c[j] - mx[j]);
      }
      for (std::size_t j = j0; j < j1; ++j) row[j] = mx[j] == kNegInf ? kNegInf : mx[j] + std::log(row[j]);
      break;
    }
    case GateKind::at_least: {
      const auto k = static_cast<std::size_t>(n.k);
      ws.dist.resize(k + 1);
      double* d = ws.dist.data();
      for (std::size_t j = j0; j < j1; ++j) {
        std::fill(d, d + k + 1, 0.0);
        d[0] = 1;
        for (std::size_t u = ub; u < ue; ++u) {
          const double lp = child(u)[j];
          const double p = std::exp(lp), q = -std::expm1(lp);
          const auto reps = static_cast<std::size_t>(m.use_count(u));
          for (std::size_t r = 0; r < reps; ++r) {
            d[k] += d[k - 1] * p;  // "k or more" absorbs
            for (std::size_t t = k - 1; t >= 1; --t) d[t] = d[t] * q + d[t - 1] * p;
            d[0] *= q;
          }
        }
        row[j] = d[k] > 0 ? std::log(std::min(d[k], 1.0)) : kNegInf;
        if (!(d[k] > 1e-280)) {  // near or below the smallest double: redo in log space
          ws.ldist.assign(k + 1, kNegInf);
          double* ld = ws.ldist.data();
          ld[0] = 0;
          for (std::size_t u = ub; u < ue; ++u) {
            const double lp = child(u)[j], lq = log1mexp(lp);
            const auto reps = static_cast<std::size_t>(m.use_count(u));
            for (std::size_t r = 0; r < reps; ++r) {
              ld[k] = logaddexp(ld[k], ld[k - 1] + lp);
              for (std::size_t t = k - 1; t >= 1; --t) ld[t] = logaddexp(ld[t] + lq, ld[t - 1] + lp);
              ld[0] += lq;
            }
          }
          row[j] = ld[k];
        }
      }
      break;
    }
  }
  if (n.guess > 0) {
    const double lg = std::log(n.guess), l1g = std::log1p(-n.guess);
    for (std::size_t j = j0; j < j1; ++j) row[j] = logaddexp(lg, l1g + row[j]);
  }
  for (std::size_t j = j0; j < j1; ++j) row[j] = std::min(row[j], 0.0);  // rounding never above P = 1
}

}  // namespace detail

using detail::eval_leaf;
using detail::eval_task;
using detail::Workspace;

double Evaluation::p(std::size_t v, std::size_t j) const { return std::exp(log_p(v, j)); }

double Evaluation::partial_credit(std::size_t v, std::size_t j) const {
  const std::ptrdiff_t r = pc_row_.empty() ? -1 : pc_row_[v];
  if (r >= 0) return pc_[static_cast<std::size_t>(r) * points_.size() + j];
  if (model_->node(v).is_task && model_->node(v).gate == GateKind::all) {
    // Not precomputed (no partial-credit task above it): compute recursively.
    const Model& m = *model_;
    double num = 0, den = 0;
    for (std::size_t u = m.use_begin(v); u < m.use_end(v); ++u) {
      const std::size_t c = m.use_child(u);
      const double w = m.use_count(u) * m.steps(c);
      num += w * partial_credit(c, j);
      den += w;
    }
    const double g = m.node(v).guess;
    return g + (1 - g) * (num / den);
  }
  return p(v, j);
}

double Evaluation::log_likelihood_per_step(std::size_t v, std::size_t j) const {
  return log_p(v, j) / model_->steps(v);
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

Evaluation evaluate(const Model& model, std::span<const double> xs, const EvalOptions& options) {
  detail::SharedPlan plan;
  if (model.has_shared()) {
    detail::SharedLimits limits;
    limits.max_work = options.max_shared_work;
    limits.max_expanded = options.max_shared_expanded;
    plan = detail::plan_shared(model, xs.size(), limits);
  }
  Evaluation ev;
  ev.model_ = &model;
  ev.num_nodes_ = model.size();
  const std::size_t m = xs.size();
  ev.points_.reserve(m);
  for (double x : xs) {
    if (!(x > 0) || !std::isfinite(x)) throw ModelError("scale values must be positive and finite");
    ev.points_.push_back(model.axis().at(x));
  }
  ev.log_p_.resize(model.size() * m);  // every row is written whole below

  // Partial credit rows: `all` nodes under a task that reports partial credit.
  const std::size_t n = model.size();
  std::vector<char> need(n, 0);
  for (std::size_t t : model.tasks())
    for (const Metric& mt : model.metrics(t))
      if (mt.kind == MetricKind::partial_credit) need[t] = 1;
  const auto& order = model.topological_order();
  for (auto it = order.rbegin(); it != order.rend(); ++it) {  // tasks before prerequisites
    const std::size_t v = *it;
    if (!need[v]) continue;
    if (!model.node(v).is_task || model.node(v).gate != GateKind::all) {
      need[v] = 0;
      continue;
    }
    for (std::size_t u = model.use_begin(v); u < model.use_end(v); ++u) need[model.use_child(u)] = 1;
  }
  ev.pc_row_.assign(n, -1);
  std::size_t rows = 0;
  for (std::size_t v = 0; v < n; ++v)
    if (need[v]) ev.pc_row_[v] = static_cast<std::ptrdiff_t>(rows++);
  ev.pc_.resize(rows * m);

  const ScalingLaw& law = model.spec().scale.law;
  const detail::PointCache cache(ev.points_, law);
  auto run = [&](std::size_t j0, std::size_t j1) {
    Workspace ws;
    ws.acc.resize(j1 - j0);
    std::vector<double> scratch;
    for (std::size_t v : order) {
      double* row = ev.log_p_.data() + v * m;
      if (model.node(v).is_task)
        eval_task(model, v, ev.log_p_.data(), m, row, j0, j1, ws);
      else
        eval_leaf(model.node(v), law, ev.points_, cache, row, j0, j1);
      if (!plan.index.empty() && plan.index[v] >= 0)
        detail::expand_shared(model, plan.expansions[static_cast<std::size_t>(plan.index[v])], ev.log_p_.data(), m, j0,
                              j1, ws, scratch);
      if (ev.pc_row_[v] < 0) continue;
      double* pc = ev.pc_.data() + static_cast<std::size_t>(ev.pc_row_[v]) * m;
      std::fill(pc + j0, pc + j1, 0.0);
      double den = 0;
      for (std::size_t u = model.use_begin(v); u < model.use_end(v); ++u) {
        const std::size_t c = model.use_child(u);
        const double w = model.use_count(u) * model.steps(c);
        den += w;
        if (ev.pc_row_[c] >= 0) {
          const double* cp = ev.pc_.data() + static_cast<std::size_t>(ev.pc_row_[c]) * m;
          for (std::size_t j = j0; j < j1; ++j) pc[j] += w * cp[j];
        } else {
          const double* cl = ev.log_p_.data() + c * m;
          for (std::size_t j = j0; j < j1; ++j) pc[j] += w * std::exp(cl[j]);
        }
      }
      const double g = model.node(v).guess;
      for (std::size_t j = j0; j < j1; ++j) pc[j] = std::clamp(g + (1 - g) * (pc[j] / den), 0.0, 1.0);
    }
  };

  unsigned threads = options.threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : options.threads;
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, std::max<std::size_t>(1, m / 64)));
  if (threads <= 1) {
    if (m > 0) run(0, m);
  } else {
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t)
      pool.emplace_back(run, m * t / threads, m * (t + 1) / threads);
    for (auto& th : pool) th.join();
  }
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

}  // namespace capgraph
