// capgraph/analysis/backtest.cpp — fit on the rows below a scale, then
// score the held-out rows and the threshold crossing against a logistic
// baseline fitted to each series' own training rows (analysis/fit.hpp).
#include <cmath>

#include "analysis/fit_internal.hpp"
#include "graph/curve_eval.hpp"
#include "graph/emergence.hpp"

namespace capgraph::analysis::detail {

namespace {

// The logistic baseline of the backtest: p = sigmoid(s (log10 x - m)).
double logistic_at(double m, double s, double x) { return 1.0 / (1.0 + std::exp(-s * (std::log10(x) - m))); }

}  // namespace

std::vector<BacktestSeries> backtest(const Model& model, const ObservationSet& obs, const FitReport& rep,
                                     const Evaluation& on_grid, const std::vector<double>& grid,
                                     const FitObjective& objective, const FitOptions& options) {
  const bool binomial = objective.binomial();
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
    }
    // baseline: a logistic in log10 x fitted to the series' own training rows
    if (b.n_train >= 2) {
      auto bobj = [&](const std::vector<double>& t) {
        double sum = 0;
        for (std::size_t i = 0; i < tx.size(); ++i) {
          const double p = logistic_at(t[0], t[1], tx[i]);
          if (binomial && ns[i]) {
            const double k = ty[i] * *ns[i];
            const double z = t[1] * (std::log10(tx[i]) - t[0]);
            sum -= k * log_sigmoid(z) + (*ns[i] - k) * log_sigmoid(-z);
          } else {
            const double d = objective.clamp_logit(ty[i]) - objective.clamp_logit(p);
            sum += d * d;
          }
        }
        return std::isfinite(sum) ? sum : kHuge;
      };
      std::vector<double> t{std::log10(tx.back()) + 1, 1.0};
      int evals = 0;
      minimise(bobj, t, {-10, 1e-3}, {40, 50}, options.max_evaluations, evals);
      double bae = 0;
      for (const auto& p : s.points)
        if (!p.train) bae += std::fabs(p.observed - logistic_at(t[0], t[1], p.x));
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
