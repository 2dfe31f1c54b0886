// capgraph/analysis/backtest.cpp — fit on the rows below a scale, then
// score the held-out rows and the threshold crossing against a logistic
// baseline fitted to each series' own training rows (analysis/fit.hpp).
#include <algorithm>
#include <cmath>

#include "analysis/backtest.hpp"
#include "analysis/fit_internal.hpp"
#include "graph/curve_eval.hpp"
#include "graph/emergence.hpp"

namespace capgraph::analysis {

double Logistic::at(double x) const { return 1.0 / (1.0 + std::exp(-slope * (std::log10(x) - log10_mid))); }

Logistic fit_logistic(const std::vector<double>& x, const std::vector<double>& y,
                      const std::vector<std::optional<double>>& n, double logit_floor, int max_evaluations) {
  using detail::logit;
  const bool binomial = !n.empty() && std::all_of(n.begin(), n.end(), [](const auto& v) { return v.has_value(); });
  const double f = std::clamp(logit_floor, 1e-12, 0.49);
  auto cl = [f](double p) { return logit(std::clamp(p, f, 1 - f)); };
  auto objective = [&](const std::vector<double>& t) {
    double sum = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double z = t[1] * (std::log10(x[i]) - t[0]);
      if (binomial) {
        const double k = y[i] * *n[i];
        sum -= k * log_sigmoid(z) + (*n[i] - k) * log_sigmoid(-z);
      } else {
        const double d = cl(y[i]) - cl(1.0 / (1.0 + std::exp(-z)));
        sum += d * d;
      }
    }
    return std::isfinite(sum) ? sum : detail::kHuge;
  };
  const std::vector<double> lo{-10, 1e-3}, hi{40, 50};
  // Two starts: a decade above the largest x with slope 1, and the line
  // through the clamped logits (least squares in log10 x) when it rises.
  std::vector<std::vector<double>> starts{{std::log10(x.back()) + 1, 1.0}};
  if (x.size() >= 2) {
    double mx = 0, my = 0;
    for (std::size_t i = 0; i < x.size(); ++i) mx += std::log10(x[i]), my += cl(y[i]);
    mx /= static_cast<double>(x.size());
    my /= static_cast<double>(x.size());
    double sxy = 0, sxx = 0;
    for (std::size_t i = 0; i < x.size(); ++i)
      sxy += (std::log10(x[i]) - mx) * (cl(y[i]) - my), sxx += (std::log10(x[i]) - mx) * (std::log10(x[i]) - mx);
    if (sxx > 0 && sxy > 0) {
      const double b = std::clamp(sxy / sxx, lo[1], hi[1]);
      starts.push_back({std::clamp(mx - my / b, lo[0], hi[0]), b});
    }
  }
  Logistic best;
  double fbest = detail::kHuge * 2;
  for (auto t : starts) {
    int evals = 0;
    const double v = detail::minimise(objective, t, lo, hi, max_evaluations, evals);
    if (v < fbest) fbest = v, best = Logistic{t[0], t[1]};
  }
  return best;
}

}  // namespace capgraph::analysis

namespace capgraph::analysis::detail {

std::vector<BacktestSeries> backtest(const Model& model, const ObservationSet& obs, const FitReport& rep,
                                     const Evaluation& on_grid, const std::vector<double>& grid,
                                     const FitObjective& objective, const FitOptions& options) {
  (void)objective;  // the baseline uses the fit's floor and likelihood through options and the rows' n
  std::vector<BacktestSeries> out;
  for (const auto& s : rep.series) {
    BacktestSeries b;
    b.task = s.task;
    b.family = s.family;
    b.metric = s.metric;
    const MetricInfo& mi = obs.metrics.at(s.metric);
    const std::size_t node = *model.find(s.node);
    const double thr = model.threshold(node);
    std::vector<double> x, y, tx, ty;
    std::vector<std::optional<double>> ns;  // items per training point (binomial baseline)
    for (const auto& p : s.points) {
      x.push_back(p.x);
      y.push_back(p.observed);
      if (p.train) {
        ++b.n_train;
        tx.push_back(p.x);
        ty.push_back(p.observed);
        ns.push_back(p.n);
      } else {
        ++b.n_test;
      }
    }
    b.x_max = x.back();
    if (b.n_test == 0 || !mi.unit_interval) {
      out.push_back(b);
      continue;
    }
    double ae = 0;
    for (const auto& p : s.points)
      if (!p.train) ae += std::fabs(p.observed - p.predicted);
    b.mae_graph = ae / static_cast<double>(b.n_test);
    // A series at or above the threshold from its first point has no
    // crossing to check ("already above").
    b.above_at_start = y.front() >= thr;
    if (!b.above_at_start) b.observed_crossing = first_crossing_up(x, y, thr);
    // graph forecast of this series' metric over the grid
    {
      const Metric m = *mi.engine;
      std::vector<double> py(grid.size());
      for (std::size_t j = 0; j < grid.size(); ++j) py[j] = on_grid.metric(node, m, j);
      b.graph_crossing = first_crossing_up(grid, py, thr);
      // Pooled: the grid is in the reference family's scale.
      for (const auto& f : rep.offsets)
        if (f.family == s.family && b.graph_crossing) *b.graph_crossing /= f.multiplier;
    }
    // baseline: a logistic in log10 x fitted to the series' own training rows
    if (b.n_train >= 2) {
      const Logistic lg = fit_logistic(tx, ty, ns, options.logit_floor, options.max_evaluations);
      const std::vector<double> t{lg.log10_mid, lg.slope};
      double bae = 0;
      for (const auto& p : s.points)
        if (!p.train) bae += std::fabs(p.observed - lg.at(p.x));
      b.mae_baseline = bae / static_cast<double>(b.n_test);
      // A logistic stopped on a bound of its search range is no forecast.
      const bool at_bound = t[0] <= -10 + 1e-6 || t[0] >= 40 - 1e-6 || t[1] <= 1e-3 * (1 + 1e-6) || t[1] >= 50 - 1e-6;
      const double lx = t[0] + logit(std::clamp(thr, 1e-12, 1 - 1e-12)) / t[1];
      if (!at_bound) b.baseline_crossing = std::pow(10.0, lx);
    }
    // "(train)": the first point at or above the threshold is a training row.
    if (b.observed_crossing)
      for (const auto& p : s.points)
        if (p.observed >= thr) {
          b.crossed_in_training = p.train;
          break;
        }
    auto check = [&](const std::optional<double>& forecast) {
      if (b.observed_crossing)
        return forecast && std::fabs(std::log10(*forecast) - std::log10(*b.observed_crossing)) <= 0.5
                   ? CrossingCheck::hit
                   : CrossingCheck::miss;
      return forecast && *forecast <= b.x_max / std::sqrt(10.0) ? CrossingCheck::miss : CrossingCheck::consistent;
    };
    if (!b.above_at_start) {
      b.graph_check = check(b.graph_crossing);
      if (b.mae_baseline) b.baseline_check = check(b.baseline_crossing);
    }
    out.push_back(b);
  }
  return out;
}

}  // namespace capgraph::analysis::detail
