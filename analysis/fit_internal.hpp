// capgraph/analysis/fit_internal.hpp — internal: the pieces of fit_model()
// (analysis/fit.hpp), one file each: the objective (fit_objective.cpp),
// the optimiser and the driver (fit_driver.cpp), the standard errors and
// forecast intervals (fit_intervals.cpp), the backtest (backtest.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fit.hpp"
#include "../graph/evaluation.hpp"
#include "../graph/overrides.hpp"

namespace capgraph::analysis::detail {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kHuge = 1e300;

double logit(double p);

// One free parameter: which leaf, which field, its bounds. A pooled fit's
// family offsets (name kOffset) come after every curve parameter; their
// `node` is the family's group (Row::group, >= 1).
inline constexpr const char* kOffset = "log10_offset";
struct Param {
  std::size_t node;
  std::string name;
  double lo, hi;
};

// A row the fit uses.
struct Row {
  std::size_t obs;   // index into ObservationSet::rows
  std::size_t node;  // model node
  Metric metric;
  double x;
  double value;
  std::optional<double> n;
  bool train = true;
  std::size_t group = 0;  // pooled fit: the row's family (0 = reference, no offset)
};

// log of the predicted metric (exact for exact match via ln P) and the value.
struct Prediction {
  double value, log_value, log1m_value;
};

Prediction predict(const Evaluation& ev, const Row& r, std::size_t j);

/// The observations the fit can use; fills rep's notes, rows_used,
/// rows_train and likelihood. Throws FitError when none is usable.
/// Pooled, a family whose training scores all sit at the floor or ceiling
/// is left out (with a note) unless it is options.family or
/// every_family is set (listing the families a backtest runs over).
std::vector<Row> usable_rows(const Model& model, const ObservationSet& obs, const FitOptions& options, FitReport& rep,
                             bool every_family = false);

/// The parameters to fit: those of the chosen leaves that some training
/// row lies above. The others chosen are kept as declared, marked in
/// `unconstrained_leaf` (by node) and listed in rep.unconstrained.
std::vector<Param> free_parameters(const Model& model, const std::vector<Row>& rows, const FitOptions& options,
                                   FitReport& rep, std::vector<char>& unconstrained_leaf);

/// The objective: negative log-likelihood (binomial) or SSE on the logit of
/// the training rows, with the free parameters at theta. Each call
/// evaluates the model with the trial curves as Overrides (no rebuild);
/// a value the model refuses (ModelError) scores kHuge.
class FitObjective {
 public:
  FitObjective(const Model& model, const std::vector<Row>& rows, const std::vector<Param>& params, bool binomial,
               double logit_floor);
  double operator()(const std::vector<double>& theta) const;
  /// Every row's prediction (training and held out) at theta: the model
  /// evaluated at each row's effective scale x * 10^offset(group).
  std::vector<Prediction> predictions(const std::vector<double>& theta) const;
  /// The fitted leaves with their curves at theta.
  Overrides overrides(const std::vector<double>& theta) const;
  /// Parameter i as declared in the spec.
  double declared(std::size_t i) const;
  /// The distinct scales of the rows, ascending, and row i's index in them
  /// (pooled fits: the scales as observed, before the families' offsets).
  const std::vector<double>& xs() const { return xs_; }
  std::size_t point_of(std::size_t row) const { return xj_[row]; }
  /// logit(p) with p clamped to [f, 1 - f] (f: the logit floor).
  double clamp_logit(double p) const;
  bool binomial() const { return binomial_; }
  const std::vector<Param>& params() const { return params_; }
  const Model& model() const { return model_; }

 private:
  double term(const Row& r, const Prediction& p) const;
  const Model& model_;
  const std::vector<Row>& rows_;
  const std::vector<Param>& params_;
  bool binomial_;
  double floor_;
  std::vector<double> xs_;
  std::vector<std::size_t> xj_;
};

using Objective = std::function<double(const std::vector<double>&)>;

/// Minimises f inside [lo, hi] from x (updated in place): BOBYQA, BOBYQA
/// again from its optimum, then Sbplx; returns the best value found.
/// `evaluations` counts the calls of f.
double minimise(Objective f, std::vector<double>& x, const std::vector<double>& lo, const std::vector<double>& hi,
                int max_eval, int& evaluations);

/// Minimises `goal` from x (updated in place) subject to within(x) <= 0,
/// inside the parameters' bounds (NLopt COBYLA, initial steps `step`).
/// False when NLopt fails or the end point violates the constraint.
bool constrained_minimise(const Objective& goal, const Objective& within, std::vector<double>& x,
                          const FitObjective& objective, const std::vector<double>& step, int max_eval);

/// The start points of the multi-start: `declared` (clamped into the
/// bounds) first, then `count` points drawn uniformly from each
/// parameter's plausible range (start_range()) by std::mt19937_64(seed),
/// using its raw outputs only, so every platform draws the same points.
std::vector<std::vector<double>> start_points(const std::vector<Param>& params, const std::vector<double>& declared,
                                              const std::vector<double>& xs, int count, std::uint64_t seed);

/// The covariance of the estimates at the optimum theta (P x P, NaN where
/// not available) from the finite-difference Hessian; sets rep.sigma,
/// rep.identified and a note when the Hessian is not positive definite.
/// `unidentified` receives, per parameter, whether it loads on a direction
/// of (numerically) zero curvature.
std::vector<double> covariance(const FitObjective& objective, const std::vector<double>& theta, FitReport& rep,
                               std::vector<char>& unidentified);

/// The 95 % (options' level) prediction interval of every row's observed
/// value, metric units, in the order of `rows`; NaN pairs where none:
/// fit variance by the delta method on the logit of the prediction (on the
/// value for log-likelihood rows) plus observation noise (binomial with n,
/// else the series' own dispersion; analysis/fit.hpp).
std::vector<std::pair<double, double>> prediction_intervals(const ObservationSet& obs, const std::vector<Row>& rows,
                                                            const FitObjective& objective,
                                                            const std::vector<double>& theta,
                                                            const std::vector<double>& cov, const FitReport& rep,
                                                            double level);

/// The scale grid of the forecasts: from the spec's range and the data's
/// (to 100x the largest observed scale), 50 points a decade.
std::vector<double> forecast_grid(const Model& model, const std::vector<double>& xs);

/// Per task, the first crossing of its threshold on `grid` (`on_grid`: the
/// fitted model evaluated there). With `intervals`, a profile-likelihood
/// interval: the smallest and the largest crossing over the parameters
/// whose objective is at most f0 + rep.lr_bound (NLopt COBYLA, from theta).
/// The metric forecast for a task: that of its first row with a metric
/// valued in [0, 1], else exact match. Tasks above a skill in
/// `unconstrained_leaf` get no crossing (constrained = false).
std::vector<CrossingForecast> crossing_forecasts(const Model& model, const std::vector<Row>& rows,
                                                 const FitObjective& objective, const std::vector<double>& theta,
                                                 const std::vector<double>& grid, const Evaluation& on_grid,
                                                 const std::vector<char>& unconstrained_leaf, bool intervals,
                                                 const FitReport& rep, int max_eval);

/// The backtest of rep.series (fit on rows below options.train_below),
/// `on_grid` the fitted model evaluated at `grid`.
std::vector<BacktestSeries> backtest(const Model& model, const ObservationSet& obs, const FitReport& rep,
                                     const Evaluation& on_grid, const std::vector<double>& grid,
                                     const FitObjective& objective, const FitOptions& options);

}  // namespace capgraph::analysis::detail
