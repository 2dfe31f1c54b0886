// capgraph/analysis/fit_intervals.cpp — standard errors of a fit (the
// curvature of the objective at the optimum) and the crossing forecasts
// with their delta-method intervals.
#include <algorithm>
#include <cmath>

#include "analysis/fit_internal.hpp"
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

}  // namespace

std::vector<double> covariance(const FitObjective& objective, const std::vector<double>& theta, FitReport& rep) {
  const std::size_t P = objective.params().size();
  const bool binomial = objective.binomial();
  std::vector<double> cov(P * P, kNaN);
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
      for (std::size_t i = 0; i < P * P; ++i) cov[i] = scale * inv[i];
    } else {
      rep.identified = false;
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

std::vector<CrossingForecast> crossing_forecasts(const Model& model, const std::vector<Row>& rows,
                                                 const FitObjective& objective, const std::vector<double>& theta,
                                                 const std::vector<double>& cov, const std::vector<double>& grid,
                                                 const Evaluation& on_grid, bool identified, double z) {
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
  auto crossings_of = [&](const Evaluation& e) {
    std::vector<std::optional<double>> out;
    for (const auto& t : targets) {
      std::vector<double> y(grid.size());
      for (std::size_t j = 0; j < grid.size(); ++j) y[j] = e.metric(t.node, t.metric, j);
      out.push_back(first_crossing_up(grid, y, model.threshold(t.node)));
    }
    return out;
  };
  // The other trial points evaluate the model with Overrides (no rebuild).
  auto crossings = [&](const std::vector<double>& t) {
    EvalOptions options;
    options.overrides = objective.overrides(t);
    return crossings_of(evaluate(model, grid, options));
  };
  const auto best = crossings_of(on_grid);
  const std::size_t P = theta.size();
  std::vector<CrossingForecast> forecasts;
  std::vector<std::vector<double>> grad(targets.size(), std::vector<double>(P, kNaN));
  for (std::size_t i = 0; i < P && identified; ++i) {
    const double h = 1e-3 * std::max(1.0, std::fabs(theta[i]));
    std::vector<double> tp = theta, tm = theta;
    tp[i] += h;
    tm[i] -= h;
    const auto cp = crossings(tp);
    const auto cm = crossings(tm);
    for (std::size_t t = 0; t < targets.size(); ++t)
      if (cp[t] && cm[t]) grad[t][i] = (std::log10(*cp[t]) - std::log10(*cm[t])) / (2 * h);
  }
  for (std::size_t t = 0; t < targets.size(); ++t) {
    CrossingForecast cf;
    cf.task = model.node(targets[t].node).id;
    cf.metric = metric_label(targets[t].metric);
    cf.threshold = model.threshold(targets[t].node);
    cf.from = grid.front();
    cf.to = grid.back();
    cf.crossing = best[t];
    cf.at_start = best[t] && *best[t] == grid.front();
    if (best[t] && !cf.at_start && identified && P > 0) {
      double var = 0;
      for (std::size_t i = 0; i < P; ++i)
        for (std::size_t j = 0; j < P; ++j) var += grad[t][i] * cov[i * P + j] * grad[t][j];
      if (std::isfinite(var) && var >= 0) {
        const double l = std::log10(*best[t]), se = std::sqrt(var);
        cf.lo = std::pow(10.0, l - z * se);
        cf.hi = std::pow(10.0, l + z * se);
      }
    }
    forecasts.push_back(cf);
  }
  return forecasts;
}

}  // namespace capgraph::analysis::detail
