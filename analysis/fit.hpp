// capgraph/analysis/fit.hpp — fitting a spec's skill curves to observations,
// forecasting threshold crossings, and backtesting the forecasts.
//
// The parameters of the spec's leaves (logistic: log10 mid and slope;
// power_law: log10 c and alpha; chinchilla: ln weight; constant: logit p)
// are fitted by maximum likelihood THROUGH the graph: every observation of
// a node (a task or a skill) is compared with the engine's value of the
// metric it was scored with (graph/evaluation.hpp, docs/measures.md §3), so an
// observation of a composite task constrains every leaf beneath it.
//
//   likelihood   binomial, sum k ln P + (n - k) ln(1 - P), when every
//                used row gives n (items scored; k = score * n);
//                otherwise least squares on the logit of the metric, with
//                observed and predicted values clamped to
//                [logit_floor, 1 - logit_floor] (log-likelihood rows: on
//                the value itself).
//   optimiser    NLopt (Debian libnlopt): BOBYQA inside bounds, restarted
//                from its optimum, then Sbplx; the best point wins.
//   errors       covariance from the finite-difference Hessian H of the
//                objective at the optimum: H^-1 (binomial) or
//                2 s^2 H^-1 with s^2 = SSE / (observations - parameters)
//                (least squares). Not positive definite = some parameters
//                are not identified by the data: their SEs are NaN.
//   forecasts    per task, the first scale where its metric reaches the
//                task's threshold (graph/emergence.hpp), with a 95 %
//                interval from the delta method on log10 of that scale.
//
// Backtest (train_below): fit on the rows below a scale, then per series
// the mean absolute error of the metric on the rows at or above it, and
// whether the threshold crossing was forecast within half a decade,
// against a baseline logistic fitted to that series' own training scores.
//
// Deterministic: same inputs, same numbers. Errors: FitError (usage-level:
// unknown leaf, no usable rows, several families without a choice).
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "observations.hpp"
#include "../graph/model.hpp"

namespace capgraph::analysis {

class FitError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct FitOptions {
  std::vector<std::string> fit_only;  ///< leaves to fit; empty = every leaf the data constrain
  std::vector<std::string> fixed;     ///< leaves kept as declared
  std::optional<std::string> family;  ///< use only this family's rows (pooled: hold out only its rows)
  bool pool = false;                  ///< fit every family at once, each shifted by an offset in log10 x
  std::optional<double> train_below;  ///< backtest: fit on rows with x < this
  double logit_floor = 1e-3;          ///< least squares on the logit: clamp to [f, 1 - f]
  int max_evaluations = 20000;        ///< per optimiser run
  double z = 1.959963984540054;       ///< interval half-width in SEs (95 %)
};

enum class Likelihood { binomial, logit_least_squares };
const char* likelihood_name(Likelihood l);

struct FitParameter {
  std::string leaf;
  std::string name;  ///< log10_mid, slope, log10_c, alpha, ln_weight, logit_value
  double start = 0, value = 0;
  double se = 0;     ///< NaN when not available
  bool at_bound = false;
};

struct FitPoint {
  int line = 0;  ///< row of the observations file
  double x = 0, observed = 0, predicted = 0;
  std::optional<double> n;  ///< items scored, if given
  bool train = true;
  std::optional<double> lo, hi;  ///< 95 % prediction interval (fit and observation noise); nullopt: not available
};

struct FitSeries {
  std::string task, family, metric, node;
  std::vector<FitPoint> points;  ///< by increasing x
  double rmse_train = 0;         ///< of observed - predicted, metric units, training rows
  std::optional<double> mae_test;
};

struct CrossingForecast {
  std::string task;
  std::string metric;  ///< metric label (metric_label)
  double threshold = 0.5;
  bool at_start = false;  ///< already reached at the start of the range
  std::optional<double> crossing;  ///< nullopt: not reached in [from, to]
  std::optional<double> lo, hi;    ///< interval; nullopt: not available
  double from = 0, to = 0;         ///< range searched
};

enum class CrossingCheck { hit, miss, consistent, unavailable };
const char* crossing_check_name(CrossingCheck c);

struct BacktestSeries {
  std::string task, family, metric;
  std::size_t n_train = 0, n_test = 0;
  double x_max = 0;  ///< largest observed scale
  std::optional<double> mae_graph, mae_baseline;
  std::optional<double> observed_crossing;  ///< from all rows (interpolated)
  std::optional<double> graph_crossing, baseline_crossing;
  bool crossed_in_training = false;  ///< the observed crossing lies below train_below
  /// hit: forecast within half a decade of the observed crossing; miss:
  /// not (or none forecast); when the series never reaches the threshold,
  /// miss if the forecast crosses before x_max / 10^0.5, else consistent
  /// (nothing to check against); unavailable: no forecast.
  CrossingCheck graph_check = CrossingCheck::unavailable, baseline_check = CrossingCheck::unavailable;
};

/// A pooled fit's family: its effective scale is x * 10^log10_offset, i.e.
/// it scores like the reference family at `multiplier` times its size.
struct FamilyOffset {
  std::string family;
  bool reference = false;  ///< offset 0 by definition
  double log10_offset = 0, se = 0;  ///< se NaN when not available
  double multiplier = 1, lo = 0, hi = 0;  ///< 10^offset and its 95 % interval (NaN: not available)
  std::size_t rows = 0, rows_train = 0;
};

struct FitReport {
  ModelSpec fitted;
  Likelihood likelihood = Likelihood::logit_least_squares;
  std::vector<FitParameter> parameters;
  std::vector<FitSeries> series;
  std::vector<CrossingForecast> forecasts;
  std::vector<BacktestSeries> backtest;  ///< empty unless train_below
  std::vector<FamilyOffset> offsets;     ///< pooled fits: reference first, then by name; else empty
  std::optional<double> train_below;
  double objective = 0;   ///< negative log-likelihood or SSE at the optimum
  double sigma = 0;       ///< least squares: residual SD on the logit scale
  std::size_t rows_used = 0, rows_train = 0;
  int evaluations = 0;
  bool identified = true; ///< Hessian positive definite
  std::vector<std::string> notes;
};

/// Fits `model`'s leaves to `obs`. The model's scale axis decides x (params
/// or train_flops). O(evaluations * cost of one evaluate()).
FitReport fit_model(const Model& model, const ObservationSet& obs, const FitOptions& options = {});

}  // namespace capgraph::analysis
