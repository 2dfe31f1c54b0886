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
//   optimiser    deterministic multi-start: the spec's values and
//                `starts` points spread over each parameter's plausible
//                range by a fixed-seed generator (start_points()); from
//                each, NLopt BOBYQA inside bounds, restarted from its
//                optimum, then Sbplx. The best objective wins; the report
//                counts the starts that reached it (relative 1e-6).
//   status       FitStatus: converged needs two or more starts at the best
//                objective (when one start alone reaches it, 4 restarts
//                jittered around it may confirm it); identified needs the
//                Hessian positive definite and no parameter on a bound. Anything else is not a
//                result: no forecasts, no prediction intervals (the CLI
//                exits 4 and writes no output file).
//   errors       covariance from the finite-difference Hessian H of the
//                objective at the optimum: H^-1 (binomial) or
//                2 s^2 H^-1 with s^2 = SSE / (observations - parameters)
//                (least squares). Parameter intervals: estimate +- q SE,
//                q the Student t quantile with observations - parameters
//                degrees of freedom (least squares) or the normal one
//                (binomial).
//   predictions  per observed point a 95 % prediction interval on the
//                logit of the metric: fit variance (delta method) plus
//                observation noise, binomial 1 / (n p (1 - p)) with the
//                row's n, else the series' own dispersion
//                SSE_k / dof_k with dof_k = n_k (N - P) / N and a t
//                quantile with dof_k degrees of freedom.
//   forecasts    per task, the first scale where its metric reaches the
//                task's threshold (graph/emergence.hpp), with a 95 %
//                profile-likelihood interval: the smallest and largest
//                crossing over the parameters whose objective lies within
//                the likelihood-ratio bound of the optimum (asymmetric in
//                log N).
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
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "observations.hpp"
#include "../graph/model.hpp"
#include "../graph/overrides.hpp"

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
  int starts = 8;                     ///< spread start points besides the spec's values
  std::uint64_t seed = 1;             ///< of the spread (std::mt19937_64, raw outputs)
  double level = 0.95;                ///< confidence of every interval
};

/// Quantile of Student's t with `dof` (> 0, may be fractional) degrees of
/// freedom at probability p (Boost.Math); dof = +inf gives the normal one.
double student_t_quantile(double p, double dof);

/// ok: a result (converged and identified). not_converged: fewer than two starts
/// reached the best objective. not_identified: the curvature at the
/// optimum is singular or a parameter ended on a bound of its range.
enum class FitStatus { ok, not_converged, not_identified };
const char* fit_status_name(FitStatus s);

enum class Likelihood { binomial, logit_least_squares };
const char* likelihood_name(Likelihood l);

struct FitParameter {
  std::string leaf;
  std::string name;  ///< log10_mid, slope, log10_c, alpha, ln_weight, logit_value
  double start = 0, value = 0;
  double se = 0;     ///< NaN when not available
  double lo = 0, hi = 0;  ///< value -+ q SE (FitReport::quantile); NaN when not available
  bool at_bound = false;
  bool identified = true;  ///< false: on a bound, or in a direction the data do not constrain
};

struct FitPoint {
  int line = 0;  ///< row of the observations file
  double x = 0, observed = 0, predicted = 0;
  std::optional<double> n;  ///< items scored, if given
  bool train = true;
  /// 95 % prediction interval of the observed value (metric units); nullopt
  /// when the fit is not a result or the series has no dispersion estimate.
  std::optional<double> lo, hi;
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
  bool at_start = false;  ///< already above at the start of the range: no crossing
  /// false: the task rests on a skill no training row constrains (kept as
  /// declared); no crossing is forecast.
  bool constrained = true;
  std::optional<double> crossing;  ///< nullopt: not reached in [from, to] (or at_start, !constrained)
  /// Profile-likelihood interval. lo nullopt: some parameters within the
  /// bound cross at the start of the range; hi nullopt: some never cross
  /// by `to` (open interval). Both nullopt with a crossing: not available.
  std::optional<double> lo, hi;
  bool interval = false;           ///< an interval was computed
  double from = 0, to = 0;         ///< range searched
};

enum class CrossingCheck { hit, miss, consistent, unavailable };
const char* crossing_check_name(CrossingCheck c);

struct BacktestSeries {
  std::string task, family, metric;
  std::size_t n_train = 0, n_test = 0;
  double x_max = 0;  ///< largest observed scale
  std::optional<double> mae_graph, mae_baseline;
  std::optional<double> observed_crossing;  ///< from all rows (interpolated); nullopt if above_at_start
  bool above_at_start = false;  ///< the first observed point is at or above the threshold: no crossing, no check
  std::optional<double> graph_crossing, baseline_crossing;
  bool crossed_in_training = false;  ///< the first point at or above the threshold is a training row
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
  FitStatus status = FitStatus::ok;
  int starts = 0, starts_at_best = 0;  ///< optimiser runs, and how many reached the best objective
  double dof = 0;         ///< residual degrees of freedom: training rows - parameters
  double quantile = 0;    ///< of the parameter intervals: t(level, dof), or normal (binomial)
  double lr_bound = 0;    ///< profile intervals: objective within this of the optimum
  /// P x P covariance of the parameters (row-major, order of `parameters`);
  /// NaN where not available.
  std::vector<double> covariance;
  /// "leaf.name" of the parameters the data do not identify.
  std::vector<std::string> unidentified;
  /// Skills kept as declared because no training row lies above them.
  std::vector<std::string> unconstrained;
  std::vector<std::string> warnings;  ///< also printed on standard error by the CLI
  std::vector<std::string> notes;
};

/// Fits `model`'s leaves to `obs`. The model's scale axis decides x (params
/// or train_flops). O(evaluations * cost of one evaluate()).
FitReport fit_model(const Model& model, const ObservationSet& obs, const FitOptions& options = {});

/// `count` draws of a fitted spec's skill curves: the parameters of its
/// `fit` block drawn from Normal(estimate, covariance) (the fit's normal
/// approximation; docs/spec-format.md, "fit"), each draw as the Overrides
/// that set those curves. Deterministic for a seed (mt19937_64 and
/// Box-Muller, the same on every platform). Empty when the spec has no
/// `fit` block. Throws FitError when the covariance is not positive
/// semi-definite. O(count * P^2).
std::vector<Overrides> fit_draws(const Model& model, std::size_t count, std::uint64_t seed = 1);

}  // namespace capgraph::analysis
