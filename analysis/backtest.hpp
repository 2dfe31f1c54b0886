// capgraph/analysis/backtest.hpp — `fit --backtest`: for every family, its
// last two models forecast from the rest, scored against two baselines
// fitted to the same training points of the same series.
//
//   cut          the family's second-largest scale: its rows at or above it
//                (its last two models) are held out. Pooled, every other
//                family's rows train (analysis/fit.hpp, FitOptions::pool).
//   series       (family, task, metric) with a metric in [0, 1] that the
//                graph predicts, at least 2 training points (the logistic
//                baseline has two parameters) and a held-out point.
//   logistic     p = sigmoid(slope (log10 x - log10_mid)) fitted to the
//                series' own training points with the fit's likelihood.
//   flat         the series' score at its largest training scale.
//   coverage     held-out points inside their 95 % prediction interval
//                (FitPoint::lo, hi); a point without one counts as outside.
//   no forecast  a fit that is not a result (FitStatus) forecasts nothing:
//                its series count as losses to both baselines, their MAE
//                is NaN and their points are outside.
//
// Deterministic; O(families * cost of one fit).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "fit.hpp"

namespace capgraph::analysis {

/// The per-task baseline: a logistic in log10 x.
struct Logistic {
  double log10_mid = 0, slope = 1;
  double at(double x) const;
};

/// Fits a logistic in log10 x to (x, y): binomial likelihood when every
/// point has n, else least squares on the logit with values clamped to
/// [floor, 1 - floor] (as fit_model does). Slope within [1e-3, 50].
Logistic fit_logistic(const std::vector<double>& x, const std::vector<double>& y,
                      const std::vector<std::optional<double>>& n, double logit_floor, int max_evaluations = 20000);

struct BacktestRow {
  std::string family, task, metric;
  double cut = 0;  ///< held out: this series' rows at or above it
  FitStatus status = FitStatus::ok;  ///< of the family's fit; not ok: no graph forecast (mae_graph NaN)
  std::size_t n_train = 0, n_test = 0;
  double mae_graph = 0, mae_logistic = 0, mae_flat = 0;
  std::size_t inside = 0;       ///< held-out points inside their 95 % prediction interval
  std::size_t no_interval = 0;  ///< held-out points without an interval (counted as outside)
};

struct BacktestTotals {
  std::size_t backtests = 0;
  std::size_t graph_le_logistic = 0, graph_lt_flat = 0;
  std::size_t points = 0, inside = 0, no_interval = 0;
  std::size_t no_forecast = 0;  ///< backtests whose fit is not a result
  double mean_mae_graph = 0;    ///< over the backtests with a forecast (NaN: none)
  double mean_mae_logistic = 0, mean_mae_flat = 0;  ///< over all backtests
};

struct BacktestSuite {
  bool pool = false;
  std::vector<BacktestRow> rows;   ///< by family name, then task, metric
  BacktestTotals totals;
  std::vector<std::string> notes;  ///< families or series left out, and why; fits not identified
};

/// Runs the backtest of every family in `obs` that has rows the spec can
/// use. `base` gives --fit, --fixed, the logit floor and whether to pool;
/// its family and train_below are set per family.
BacktestSuite run_backtests(const Model& model, const ObservationSet& obs, const FitOptions& base);

}  // namespace capgraph::analysis
