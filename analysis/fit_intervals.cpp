// capgraph/analysis/fit_intervals.cpp — standard errors of a fit (the
// curvature of the objective at the optimum), which parameters it does not
// identify, per-point prediction intervals, and the crossing forecasts
// with their profile-likelihood intervals.
#include <nlopt.h>

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <map>
#include <tuple>

#include "analysis/fit_internal.hpp"
#include "graph/curve_eval.hpp"
#include "graph/emergence.hpp"

namespace capgraph::analysis::detail {

namespace {

// Small dense symmetric positive definite inverse (Cholesky); false if not
// positive definite. The matrix is first scaled to unit diagonal, so the
// test is scale-free: a pivot below kMinPivot means some combination of
// parameters is (numerically) not constrained at all, i.e. a correlation
// beyond 1 - 5e-7 between estimates.
bool spd_inverse(std::vector<double> a, std::size_t n, std::vector<double>& inv) {
  constexpr double kMinPivot = 1e-6;
  std::vector<double> d(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!(a[i * n + i] > 0) || !std::isfinite(a[i * n + i])) return false;
    d[i] = 1 / std::sqrt(a[i * n + i]);
  }
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) a[i * n + j] *= d[i] * d[j];
  std::vector<double> L(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j) {
      double s = a[i * n + j];
      for (std::size_t k = 0; k < j; ++k) s -= L[i * n + k] * L[j * n + k];
      if (i == j) {
        if (!(s > kMinPivot) || !std::isfinite(s)) return false;
        L[i * n + i] = std::sqrt(s);
      } else {
        L[i * n + j] = s / L[j * n + j];
      }
    }
  inv.assign(n * n, 0.0);
  for (std::size_t c = 0; c < n; ++c) {  // solve L L^T x = e_c
    std::vector<double> y(n, 0.0), x(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      double s = i == c ? 1.0 : 0.0;
      for (std::size_t k = 0; k < i; ++k) s -= L[i * n + k] * y[k];
      y[i] = s / L[i * n + i];
    }
    for (std::size_t ii = n; ii-- > 0;) {
      double s = y[ii];
      for (std::size_t k = ii + 1; k < n; ++k) s -= L[k * n + ii] * x[k];
      x[ii] = s / L[ii * n + ii];
    }
    for (std::size_t i = 0; i < n; ++i) inv[i * n + c] = x[i] * d[i] * d[c];
  }
  return true;
}

// Eigen-decomposition of a small symmetric matrix (cyclic Jacobi):
// eigenvalues in `w`, eigenvectors as the columns of `v`.
void symmetric_eigen(std::vector<double> a, std::size_t n, std::vector<double>& w, std::vector<double>& v) {
  v.assign(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) v[i * n + i] = 1;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0;
    for (std::size_t p = 0; p < n; ++p)
      for (std::size_t q = p + 1; q < n; ++q) off += a[p * n + q] * a[p * n + q];
    if (off < 1e-30) break;
    for (std::size_t p = 0; p < n; ++p)
      for (std::size_t q = p + 1; q < n; ++q) {
        if (a[p * n + q] == 0) continue;
        const double theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q]);
        const double t = (theta >= 0 ? 1 : -1) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (std::size_t k = 0; k < n; ++k) {  // A <- A J
          const double akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (std::size_t k = 0; k < n; ++k) {  // A <- J^T A
          const double apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (std::size_t k = 0; k < n; ++k) {
          const double vkp = v[k * n + p], vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
  }
  w.resize(n);
  for (std::size_t i = 0; i < n; ++i) w[i] = a[i * n + i];
}

// The parameters that load on a direction the curvature does not
// constrain: of the Hessian scaled to unit diagonal, the eigenvectors with
// eigenvalue below kMinPivot (or the smallest one), components >= 0.2 in
// size. A parameter with no positive curvature of its own is flagged alone.
std::vector<char> flat_parameters(const std::vector<double>& H, std::size_t n) {
  constexpr double kMinPivot = 1e-6;
  std::vector<char> flat(n, 0);
  std::vector<std::size_t> ok;
  for (std::size_t i = 0; i < n; ++i) {
    if (!(H[i * n + i] > 0) || !std::isfinite(H[i * n + i])) flat[i] = 1;
    else ok.push_back(i);
  }
  const std::size_t m = ok.size();
  if (m == 0) return flat;
  std::vector<double> a(m * m), w, v;
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < m; ++j)
      a[i * m + j] = H[ok[i] * n + ok[j]] / std::sqrt(H[ok[i] * n + ok[i]] * H[ok[j] * n + ok[j]]);
  symmetric_eigen(a, m, w, v);
  const double smallest = *std::min_element(w.begin(), w.end());
  if (smallest >= kMinPivot && std::count(flat.begin(), flat.end(), 1) > 0) return flat;
  for (std::size_t k = 0; k < m; ++k) {
    if (!(w[k] < kMinPivot || w[k] <= smallest)) continue;
    for (std::size_t i = 0; i < m; ++i)
      if (std::fabs(v[i * m + k]) >= 0.2) flat[ok[i]] = 1;
  }
  return flat;
}

}  // namespace

std::vector<double> covariance(const FitObjective& objective, const std::vector<double>& theta, FitReport& rep,
                               std::vector<char>& unidentified) {
  const std::size_t P = objective.params().size();
  const bool binomial = objective.binomial();
  std::vector<double> cov(P * P, kNaN);
  unidentified.assign(P, 0);
  if (P > 0) {
    std::vector<double> H(P * P, 0.0), h(P);
    for (std::size_t i = 0; i < P; ++i) h[i] = 1e-3 * std::max(1.0, std::fabs(theta[i]));
    auto fat = [&](std::size_t i, double di, std::size_t j, double dj) {
      std::vector<double> t = theta;
      t[i] += di;
      t[j] += dj;
      return objective(t);
    };
    const double f0 = rep.objective;
    for (std::size_t i = 0; i < P; ++i) {
      H[i * P + i] = (fat(i, h[i], i, 0) - 2 * f0 + fat(i, -h[i], i, 0)) / (h[i] * h[i]);
      for (std::size_t j = 0; j < i; ++j) {
        const double v = (fat(i, h[i], j, h[j]) - fat(i, h[i], j, -h[j]) - fat(i, -h[i], j, h[j]) +
                          fat(i, -h[i], j, -h[j])) /
                         (4 * h[i] * h[j]);
        H[i * P + j] = H[j * P + i] = v;
      }
    }
    std::vector<double> inv;
    const std::size_t dof = rep.rows_train > P ? rep.rows_train - P : 0;
    if (!binomial) rep.sigma = dof ? std::sqrt(rep.objective / static_cast<double>(dof)) : kNaN;
    if (spd_inverse(H, P, inv)) {
      const double scale = binomial ? 1.0 : 2.0 * rep.sigma * rep.sigma;
      for (std::size_t i = 0; i < P; ++i)  // symmetric to the last bit (the solves are not)
        for (std::size_t j = 0; j < P; ++j) cov[i * P + j] = scale * (inv[i * P + j] + inv[j * P + i]) / 2;
    } else {
      rep.identified = false;
      unidentified = flat_parameters(H, P);
      rep.notes.push_back("the curvature at the optimum is not positive definite: some parameters are not "
                          "identified by these observations (standard errors not available); fix some skills "
                          "with --fixed or add observations of tasks that separate them");
    }
  }
  return cov;
}

std::vector<double> forecast_grid(const Model& model, const std::vector<double>& xs) {
  const ScaleSpec& scale = model.spec().scale;
  const double x_lo = std::min(scale.from, xs.front());
  const double x_hi = std::max(scale.to, xs.back() * 100);
  std::vector<double> grid;
  const double l0 = std::log10(x_lo), l1 = std::log10(x_hi);
  const int n = std::max(2, static_cast<int>(std::ceil((l1 - l0) * 50)) + 1);
  for (int i = 0; i < n; ++i) grid.push_back(std::pow(10.0, l0 + (l1 - l0) * i / (n - 1)));
  return grid;
}

namespace {

// The scale on which a row's prediction interval is built: the logit of a
// metric in [0, 1] (clamped as the objective clamps it; binomial rows at
// 1e-12), the value itself for log-likelihood rows.
struct Link {
  bool identity;
  double floor;
  double to(double v) const { return identity ? v : logit(std::clamp(v, floor, 1 - floor)); }
  double from(double e) const { return identity ? e : 1 / (1 + std::exp(-e)); }
};

// Quantiles of k / n when k ~ Binomial(n, p) and logit p ~ N(eta, var):
// the mixture over equal-probability slices of the normal.
std::pair<double, double> binomial_band(double eta, double var, double n_items, double level) {
  const int n = std::max(1, static_cast<int>(std::lround(n_items)));
  constexpr int kSlices = 64;
  const boost::math::normal_distribution<double> N01;
  std::vector<double> pmf(static_cast<std::size_t>(n) + 1, 0.0);
  for (int s = 0; s < kSlices; ++s) {
    const double z = var > 0 ? boost::math::quantile(N01, (s + 0.5) / kSlices) : 0.0;
    const double e = eta + z * std::sqrt(std::max(var, 0.0));
    const double lp = log_sigmoid(e), lq = log_sigmoid(-e);
    for (int k = 0; k <= n; ++k)
      pmf[static_cast<std::size_t>(k)] +=
          std::exp(std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0) + k * lp + (n - k) * lq) /
          kSlices;
  }
  const double a = (1 - level) / 2;
  double cdf = 0;
  int lo = -1, hi = n;
  for (int k = 0; k <= n; ++k) {
    cdf += pmf[static_cast<std::size_t>(k)];
    if (lo < 0 && cdf >= a) lo = k;
    if (cdf >= 1 - a) {
      hi = k;
      break;
    }
  }
  return {std::max(lo, 0) / static_cast<double>(n), hi / static_cast<double>(n)};
}

}  // namespace

std::vector<std::pair<double, double>> prediction_intervals(const ObservationSet& obs, const std::vector<Row>& rows,
                                                            const FitObjective& objective,
                                                            const std::vector<double>& theta,
                                                            const std::vector<double>& cov, const FitReport& rep,
                                                            double level) {
  const std::size_t P = theta.size(), R = rows.size();
  const bool binomial = objective.binomial();
  auto link = [&](const Row& r) {
    return Link{r.metric.kind == MetricKind::log_likelihood, binomial ? 1e-12 : 0};
  };
  auto linked = [&](const std::vector<double>& t) {
    const std::vector<Prediction> pred = objective.predictions(t);  // pooled: at each family's effective scale
    std::vector<double> out(R);
    for (std::size_t i = 0; i < R; ++i) {
      const double v = pred[i].value;
      out[i] = binomial || rows[i].metric.kind == MetricKind::log_likelihood ? link(rows[i]).to(v)
                                                                              : objective.clamp_logit(v);
    }
    return out;
  };
  const std::vector<double> eta = linked(theta);
  // fit variance g' C g, g by central differences
  std::vector<double> var_fit(R, 0.0);
  std::vector<std::vector<double>> g(P);
  for (std::size_t k = 0; k < P; ++k) {
    const double h = 1e-4 * std::max(1.0, std::fabs(theta[k]));
    std::vector<double> tp = theta, tm = theta;
    tp[k] += h;
    tm[k] -= h;
    const auto ep = linked(tp), em = linked(tm);
    g[k].resize(R);
    for (std::size_t i = 0; i < R; ++i) g[k][i] = (ep[i] - em[i]) / (2 * h);
  }
  for (std::size_t i = 0; i < R; ++i)
    for (std::size_t a = 0; a < P; ++a)
      for (std::size_t b = 0; b < P; ++b) var_fit[i] += g[a][i] * cov[a * P + b] * g[b][i];

  std::vector<std::pair<double, double>> out(R, {kNaN, kNaN});
  if (binomial) {
    for (std::size_t i = 0; i < R; ++i)
      if (std::isfinite(var_fit[i])) out[i] = binomial_band(eta[i], var_fit[i], *rows[i].n, level);
    return out;
  }
  // Least squares: each series' own dispersion, SSE_k / dof_k, dof_k its
  // share n_k (N - P) / N of the residual degrees of freedom.
  std::map<std::tuple<std::string, std::string, std::string>, std::pair<double, double>> sse;  // (SSE_k, n_k)
  auto key = [&](const Row& r) {
    const Observation& o = obs.rows[r.obs];
    return std::make_tuple(o.task, o.family, o.metric);
  };
  for (std::size_t i = 0; i < R; ++i) {
    if (!rows[i].train) continue;
    const double d = (rows[i].metric.kind == MetricKind::log_likelihood ? rows[i].value
                                                                         : objective.clamp_logit(rows[i].value)) -
                     eta[i];
    auto& e = sse[key(rows[i])];
    e.first += d * d;
    e.second += 1;
  }
  const double share = rep.dof / static_cast<double>(rep.rows_train);
  for (std::size_t i = 0; i < R; ++i) {
    const Row& r = rows[i];
    double s2 = rep.sigma * rep.sigma, dof = rep.dof;
    if (const auto it = sse.find(key(r)); it != sse.end()) {
      dof = it->second.second * share;
      s2 = it->second.first / dof;
    }
    const double q = student_t_quantile(0.5 + level / 2, dof);
    if (!std::isfinite(var_fit[i]) || !std::isfinite(q) || !std::isfinite(s2)) continue;
    const double w = q * std::sqrt(var_fit[i] + s2);
    if (r.metric.kind == MetricKind::log_likelihood) {
      out[i] = {eta[i] - w, eta[i] + w};
      continue;
    }
    // below the logit floor every score is the floor: the band reaches 0 (or 1)
    const double lo_e = eta[i] - w, hi_e = eta[i] + w;
    const double floor_e = objective.clamp_logit(0), ceil_e = objective.clamp_logit(1);
    out[i] = {lo_e <= floor_e ? 0.0 : 1 / (1 + std::exp(-lo_e)), hi_e >= ceil_e ? 1.0 : 1 / (1 + std::exp(-hi_e))};
  }
  return out;
}

std::vector<CrossingForecast> crossing_forecasts(const Model& model, const std::vector<Row>& rows,
                                                 const FitObjective& objective, const std::vector<double>& theta,
                                                 const std::vector<double>& grid, const Evaluation& on_grid,
                                                 const std::vector<char>& unconstrained_leaf, bool intervals,
                                                 const FitReport& rep, int max_eval) {
  struct Target {
    std::size_t node;
    Metric metric;
  };
  std::vector<Target> targets;
  for (std::size_t v : model.tasks()) {
    Metric m{MetricKind::exact_match, 0};
    for (const Row& r : rows)
      if (r.node == v && metric_is_probability(r.metric)) {
        m = r.metric;
        break;
      }
    targets.push_back({v, m});
  }
  // log10 of the first crossing of target t; beyond the grid's end when it
  // never crosses (the profile then has no upper end in range).
  const double l_from = std::log10(grid.front()), l_beyond = std::log10(grid.back()) + 1;
  auto crossing_of = [&](const Evaluation& e, const Target& t) {
    std::vector<double> y(grid.size());
    for (std::size_t j = 0; j < grid.size(); ++j) y[j] = e.metric(t.node, t.metric, j);
    const auto c = first_crossing_up(grid, y, model.threshold(t.node));
    return c ? std::log10(*c) : l_beyond;
  };
  auto rests_on_unconstrained = [&](std::size_t v) {
    std::vector<char> seen(model.size(), 0);
    std::vector<std::size_t> stack{v};
    while (!stack.empty()) {
      const std::size_t u = stack.back();
      stack.pop_back();
      if (seen[u]) continue;
      seen[u] = 1;
      if (unconstrained_leaf[u]) return true;
      for (std::size_t k = model.use_begin(u); k < model.use_end(u); ++k) stack.push_back(model.use_child(k));
    }
    return false;
  };
  std::vector<double> step(theta.size());
  for (std::size_t i = 0; i < theta.size(); ++i) {
    const double se = std::sqrt(rep.covariance[i * theta.size() + i]);
    step[i] = std::isfinite(se) && se > 0 ? std::min(se, 0.25) : 0.1;
  }
  std::vector<CrossingForecast> forecasts;
  for (const Target& t : targets) {
    CrossingForecast cf;
    cf.task = model.node(t.node).id;
    cf.metric = metric_label(t.metric);
    cf.threshold = model.threshold(t.node);
    cf.from = grid.front();
    cf.to = grid.back();
    cf.constrained = !rests_on_unconstrained(t.node);
    const double best = crossing_of(on_grid, t);
    cf.at_start = best <= l_from;
    if (!cf.constrained || cf.at_start) {
      forecasts.push_back(cf);
      continue;
    }
    if (best < l_beyond) cf.crossing = std::pow(10.0, best);
    if (intervals && std::isfinite(rep.lr_bound)) {
      // The profile-likelihood interval: the extreme crossings over the
      // parameters whose objective stays within the bound of the optimum.
      auto crossing_at = [&](const std::vector<double>& th) {
        EvalOptions eo;
        eo.overrides = objective.overrides(th);
        try {
          return crossing_of(evaluate(model, grid, eo), t);
        } catch (const ModelError&) {
          return kNaN;
        }
      };
      double ends[2];
      bool ok = true;
      for (int side = 0; side < 2 && ok; ++side) {
        const double sign = side == 0 ? 1.0 : -1.0;
        Objective goal = [&](const std::vector<double>& th) {
          const double c = crossing_at(th);
          return std::isfinite(c) ? sign * c : kHuge;
        };
        Objective within = [&](const std::vector<double>& th) { return objective(th) - rep.objective - rep.lr_bound; };
        std::vector<double> th = theta;
        ok = constrained_minimise(goal, within, th, objective, step, max_eval);
        ends[side] = crossing_at(th);
        if (side == 0) ends[side] = std::min(ends[side], best);
        else ends[side] = std::max(ends[side], best);
      }
      if (ok) {
        cf.interval = true;
        if (ends[0] > l_from && ends[0] < l_beyond) cf.lo = std::pow(10.0, ends[0]);
        if (ends[1] < l_beyond) cf.hi = std::pow(10.0, ends[1]);
      }
    }
    forecasts.push_back(cf);
  }
  return forecasts;
}

}  // namespace capgraph::analysis::detail
