// capgraph/analysis/fit_driver.cpp — the optimiser (NLopt) and fit_model(),
// which runs the pieces of analysis/fit_internal.hpp in order.
#include <nlopt.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "analysis/fit_internal.hpp"

namespace capgraph::analysis {

namespace detail {

namespace {

extern "C" double nlopt_trampoline(unsigned n, const double* x, double* grad, void* data) {
  (void)grad;  // derivative-free algorithms only
  auto& f = *static_cast<std::pair<Objective*, int*>*>(data);
  ++*f.second;
  return (*f.first)(std::vector<double>(x, x + n));
}

}  // namespace

double minimise(Objective f, std::vector<double>& x, const std::vector<double>& lo, const std::vector<double>& hi,
                int max_eval, int& evaluations) {
  const unsigned n = static_cast<unsigned>(x.size());
  double best = f(x);
  ++evaluations;
  if (n == 0) return best;
  std::pair<Objective*, int*> data{&f, &evaluations};
  for (nlopt_algorithm alg : {NLOPT_LN_BOBYQA, NLOPT_LN_BOBYQA, NLOPT_LN_SBPLX}) {
    nlopt_opt opt = nlopt_create(alg, n);
    nlopt_set_lower_bounds(opt, lo.data());
    nlopt_set_upper_bounds(opt, hi.data());
    nlopt_set_min_objective(opt, nlopt_trampoline, &data);
    nlopt_set_xtol_rel(opt, 1e-10);
    nlopt_set_ftol_rel(opt, 1e-14);
    nlopt_set_maxeval(opt, max_eval);
    std::vector<double> step(n);
    for (unsigned i = 0; i < n; ++i) step[i] = std::min(0.25, 0.25 * (hi[i] - lo[i]));
    nlopt_set_initial_step(opt, step.data());
    std::vector<double> y = x;
    double fy = kHuge;
    const nlopt_result res = nlopt_optimize(opt, y.data(), &fy);
    nlopt_destroy(opt);
    if (res > 0 && fy < best) {
      best = fy;
      x = y;
    }
  }
  return best;
}

}  // namespace detail

using namespace detail;

namespace {

// Observed against predicted, per (task, family, metric) series.
std::vector<FitSeries> residuals(const ObservationSet& obs, const std::vector<Row>& rows,
                                 const std::vector<Prediction>& pred,
                                 const std::vector<std::optional<std::pair<double, double>>>& band) {
  std::vector<FitSeries> series;
  std::map<std::tuple<std::string, std::string, std::string>, std::size_t> idx;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Observation& o = obs.rows[rows[i].obs];
    const auto key = std::make_tuple(o.task, o.family, o.metric);
    auto it = idx.find(key);
    if (it == idx.end()) {
      it = idx.emplace(key, series.size()).first;
      series.push_back(FitSeries{o.task, o.family, o.metric, o.node, {}, 0, std::nullopt});
    }
    FitPoint pt{o.line, rows[i].x, rows[i].value, pred[i].value, rows[i].n, rows[i].train, std::nullopt, std::nullopt};
    if (band[i]) pt.lo = band[i]->first, pt.hi = band[i]->second;
    series[it->second].points.push_back(pt);
  }
  for (auto& s : series) {
    std::stable_sort(s.points.begin(), s.points.end(), [](const FitPoint& a, const FitPoint& b) { return a.x < b.x; });
    double ss = 0, ae = 0;
    std::size_t nt = 0, ne = 0;
    for (const auto& p : s.points) {
      const double d = p.observed - p.predicted;
      if (p.train) ss += d * d, ++nt;
      else ae += std::fabs(d), ++ne;
    }
    s.rmse_train = nt ? std::sqrt(ss / static_cast<double>(nt)) : kNaN;
    if (ne) s.mae_test = ae / static_cast<double>(ne);
  }
  return series;
}

}  // namespace

const char* crossing_check_name(CrossingCheck c) {
  switch (c) {
    case CrossingCheck::hit: return "hit";
    case CrossingCheck::miss: return "miss";
    case CrossingCheck::consistent: return "consistent";
    case CrossingCheck::unavailable: break;
  }
  return "n/a";
}

const char* likelihood_name(Likelihood l) {
  return l == Likelihood::binomial ? "binomial" : "least squares on the logit";
}

FitReport fit_model(const Model& model, const ObservationSet& obs, const FitOptions& options) {
  FitReport rep;
  rep.train_below = options.train_below;
  const std::vector<Row> rows = usable_rows(model, obs, options, rep);
  const std::vector<Param> params = free_parameters(model, rows, options, rep);
  const FitObjective objective(model, rows, params, rep.likelihood == Likelihood::binomial, options.logit_floor);

  std::vector<double> theta(params.size()), lo(params.size()), hi(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    lo[i] = params[i].lo;
    hi[i] = params[i].hi;
    theta[i] = std::clamp(objective.declared(i), lo[i], hi[i]);
  }
  const std::vector<double> start = theta;
  rep.objective = minimise(std::cref(objective), theta, lo, hi, options.max_evaluations, rep.evaluations);
  if (params.empty()) rep.notes.push_back("no parameter to fit: the spec is evaluated as declared");

  const std::size_t P = params.size();
  const std::vector<double> cov = covariance(objective, theta, rep);
  for (std::size_t i = 0; i < P; ++i) {
    FitParameter fp;
    fp.leaf = params[i].name == kOffset ? rep.offsets[params[i].node].family : model.node(params[i].node).id;
    fp.name = params[i].name;
    fp.start = start[i];
    fp.value = theta[i];
    fp.se = cov[i * P + i] >= 0 ? std::sqrt(cov[i * P + i]) : kNaN;
    const double tol = 1e-6 * (hi[i] - lo[i]);
    fp.at_bound = theta[i] - lo[i] < tol || hi[i] - theta[i] < tol;
    if (fp.at_bound) fp.se = kNaN;
    rep.parameters.push_back(fp);
  }
  if (std::any_of(rep.parameters.begin(), rep.parameters.end(), [](const FitParameter& p) { return p.at_bound; }))
    rep.notes.push_back("a parameter ended at a bound of its search range: the data do not pin it down");
  rep.fitted = objective.overrides(theta).apply(model.spec());
  const Model fitted = Model::compile(rep.fitted);
  rep.series = residuals(obs, rows, objective.predictions(theta), prediction_intervals(objective, rows, theta, cov, rep));
  if (!rep.offsets.empty()) {
    const double q = interval_quantile(rep, P);
    for (std::size_t i = 0; i < P; ++i) {
      if (params[i].name != kOffset) continue;
      FamilyOffset& f = rep.offsets[params[i].node];
      f.log10_offset = theta[i];
      f.se = rep.parameters[i].se;
      f.multiplier = std::pow(10.0, theta[i]);
      f.lo = std::isfinite(f.se) ? std::pow(10.0, theta[i] - q * f.se) : kNaN;
      f.hi = std::isfinite(f.se) ? std::pow(10.0, theta[i] + q * f.se) : kNaN;
    }
    rep.offsets[0].lo = rep.offsets[0].hi = 1;
  }

  const std::vector<double> grid = forecast_grid(model, objective.xs());
  const Evaluation on_grid = evaluate(fitted, grid);
  rep.forecasts = crossing_forecasts(model, rows, objective, theta, cov, grid, on_grid, rep.identified, options.z);
  if (options.train_below) rep.backtest = backtest(model, obs, rep, on_grid, grid, objective, options);
  return rep;
}

}  // namespace capgraph::analysis
