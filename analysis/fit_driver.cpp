// capgraph/analysis/fit_driver.cpp — the optimiser (NLopt, multi-start) and
// fit_model(), which runs the pieces of analysis/fit_internal.hpp in order.
#include <nlopt.h>

#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <tuple>

#include "analysis/fit_internal.hpp"
#include "graph/curve_parameters.hpp"

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

namespace {

extern "C" double nlopt_plain(unsigned n, const double* x, double* grad, void* data) {
  (void)grad;
  return (*static_cast<const Objective*>(data))(std::vector<double>(x, x + n));
}

}  // namespace

bool constrained_minimise(const Objective& goal, const Objective& within, std::vector<double>& x,
                          const FitObjective& objective, const std::vector<double>& step, int max_eval) {
  const unsigned n = static_cast<unsigned>(x.size());
  std::vector<double> lo(n), hi(n);
  for (unsigned i = 0; i < n; ++i) lo[i] = objective.params()[i].lo, hi[i] = objective.params()[i].hi;
  nlopt_opt opt = nlopt_create(NLOPT_LN_COBYLA, n);
  nlopt_set_lower_bounds(opt, lo.data());
  nlopt_set_upper_bounds(opt, hi.data());
  nlopt_set_min_objective(opt, nlopt_plain, const_cast<Objective*>(&goal));
  nlopt_add_inequality_constraint(opt, nlopt_plain, const_cast<Objective*>(&within), 0.0);
  nlopt_set_xtol_rel(opt, 1e-6);
  nlopt_set_maxeval(opt, max_eval);
  nlopt_set_initial_step(opt, step.data());
  std::vector<double> y = x;
  double fy = 0;
  const nlopt_result res = nlopt_optimize(opt, y.data(), &fy);
  nlopt_destroy(opt);
  if (res < 0 && res != NLOPT_ROUNDOFF_LIMITED) return false;
  // COBYLA may end a hair outside the constraint: allow 1e-6 relative.
  const double w = within(y);
  if (!(w <= 1e-6 * std::max(1.0, std::fabs(within(x))))) {
    if (!(within(x) <= 0)) return false;
    return true;  // keep the start (the optimum itself)
  }
  x = y;
  return true;
}

namespace {

// The range a parameter's starts are drawn from: where curves that matter
// for data at scales xs have it (mid within a decade below and two above
// the data, slopes and exponents log-uniform over what published curves show).
std::pair<double, double> start_range(const std::string& name, const std::vector<double>& xs, bool& log_uniform) {
  const double l0 = std::log10(xs.front()), l1 = std::log10(xs.back());
  log_uniform = name == "slope" || name == "alpha";
  if (name == "log10_mid") return {l0 - 1, l1 + 2};
  if (name == "log10_c") return {l0 - 2, l1 + 2};
  if (name == "slope") return {0.2, 5};
  if (name == "alpha") return {0.05, 2};
  if (name == "ln_weight") return {-5, 3};
  if (name == kOffset) return {-2, 2};  // pooled families: within two decades of the reference
  return {-5, 5};  // logit_value
}

}  // namespace

std::vector<std::vector<double>> start_points(const std::vector<Param>& params, const std::vector<double>& declared,
                                              const std::vector<double>& xs, int count, std::uint64_t seed) {
  std::vector<std::vector<double>> out{declared};
  std::mt19937_64 rng(seed);
  for (int k = 0; k < count; ++k) {
    std::vector<double> t(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
      const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;  // raw bits: the same on every platform
      bool log_uniform = false;
      const auto [a, b] = start_range(params[i].name, xs, log_uniform);
      const double v = log_uniform ? std::exp(std::log(a) + u * (std::log(b) - std::log(a))) : a + u * (b - a);
      t[i] = std::clamp(v, params[i].lo, params[i].hi);
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace detail

using namespace detail;

double student_t_quantile(double p, double dof) {
  if (!(dof > 0)) return kNaN;
  if (std::isinf(dof)) return boost::math::quantile(boost::math::normal_distribution<double>(), p);
  return boost::math::quantile(boost::math::students_t_distribution<double>(dof), p);
}

namespace {

// Observed against predicted, per (task, family, metric) series.
std::vector<FitSeries> residuals(const ObservationSet& obs, const std::vector<Row>& rows,
                                 const std::vector<Prediction>& pred, const std::vector<std::pair<double, double>>& band) {
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
    if (i < band.size() && std::isfinite(band[i].first)) {
      pt.lo = band[i].first;
      pt.hi = band[i].second;
    }
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

const char* fit_status_name(FitStatus s) {
  switch (s) {
    case FitStatus::ok: return "ok";
    case FitStatus::not_converged: return "not converged";
    case FitStatus::not_identified: break;
  }
  return "not identified";
}

// Restarts near the best point when a single start reached it.
constexpr int kConfirmStarts = 4;


// The fitted spec's `fit` block: every curve parameter (not the families'
// offsets) with its covariance, the estimates read back from the curves as
// written, so the spec reader's check holds (docs/spec-format.md, "fit").
FitSpec fit_block(const ModelSpec& fitted, const std::vector<Param>& params, const std::vector<double>& cov) {
  const std::size_t P = params.size();
  std::vector<std::size_t> keep;
  for (std::size_t i = 0; i < P; ++i)
    if (params[i].name != kOffset) keep.push_back(i);
  FitSpec fit;
  for (std::size_t i : keep)
    fit.parameters.push_back({params[i].node, params[i].name, curve_parameter(fitted.nodes[params[i].node].curve, params[i].name)});
  for (std::size_t a : keep)
    for (std::size_t b : keep) fit.covariance.push_back(cov[a * P + b]);
  return fit;
}

FitReport fit_model(const Model& model, const ObservationSet& obs, const FitOptions& options) {
  FitReport rep;
  rep.train_below = options.train_below;
  const std::vector<Row> rows = usable_rows(model, obs, options, rep);
  std::vector<char> unconstrained_leaf;
  const std::vector<Param> params = free_parameters(model, rows, options, rep, unconstrained_leaf);
  const FitObjective objective(model, rows, params, rep.likelihood == Likelihood::binomial, options.logit_floor);
  const std::size_t P = params.size();

  std::vector<double> declared(P), lo(P), hi(P);
  for (std::size_t i = 0; i < P; ++i) {
    lo[i] = params[i].lo;
    hi[i] = params[i].hi;
    declared[i] = std::clamp(objective.declared(i), lo[i], hi[i]);
  }
  // Multi-start: the best objective wins (the first start on ties, so the
  // order of the starts, not timing, decides).
  const auto starts = start_points(params, declared, objective.xs(), P ? options.starts : 0, options.seed);
  std::vector<double> theta = declared, finals;
  rep.objective = kHuge;
  for (const auto& s0 : starts) {
    std::vector<double> t = s0;
    const double f = minimise(std::cref(objective), t, lo, hi, options.max_evaluations, rep.evaluations);
    finals.push_back(f);
    if (f < rep.objective) rep.objective = f, theta = t;
  }
  const double tol = 1e-6 * std::max(1.0, std::fabs(rep.objective));
  auto at_best = [&] {
    return static_cast<int>(
        std::count_if(finals.begin(), finals.end(), [&](double f) { return f - rep.objective <= tol; }));
  };
  if (P > 0 && at_best() < 2) {
    // One start alone found the best: restart near it (jittered, fixed
    // seed) to tell a narrow basin the optimiser returns to from a stall.
    std::mt19937_64 rng(options.seed + 1);
    for (int k = 0; k < kConfirmStarts; ++k) {
      std::vector<double> t = theta;
      for (std::size_t i = 0; i < P; ++i) {
        const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
        t[i] = std::clamp(t[i] + (u - 0.5) * 0.2 * std::max(1.0, std::fabs(t[i])), lo[i], hi[i]);
      }
      const double f = minimise(std::cref(objective), t, lo, hi, options.max_evaluations, rep.evaluations);
      finals.push_back(f);
      if (f < rep.objective) rep.objective = f, theta = t;
    }
  }
  rep.starts = static_cast<int>(finals.size());
  rep.starts_at_best = at_best();
  if (params.empty()) rep.notes.push_back("no parameter to fit: the spec is evaluated as declared");

  const bool binomial = rep.likelihood == Likelihood::binomial;
  rep.dof = static_cast<double>(rep.rows_train) - static_cast<double>(P);
  const double upper = 0.5 + options.level / 2;
  rep.quantile = binomial ? student_t_quantile(upper, INFINITY) : rep.dof > 0 ? student_t_quantile(upper, rep.dof) : kNaN;
  std::vector<char> flat;
  const std::vector<double> cov = covariance(objective, theta, rep, flat);
  rep.covariance = cov;
  rep.lr_bound = binomial ? rep.quantile * rep.quantile / 2 : rep.sigma * rep.sigma * rep.quantile * rep.quantile;
  for (std::size_t i = 0; i < P; ++i) {
    FitParameter fp;
    fp.leaf = params[i].name == kOffset ? rep.offsets[params[i].node].family : model.node(params[i].node).id;
    fp.name = params[i].name;
    fp.start = declared[i];
    fp.value = theta[i];
    fp.se = cov[i * P + i] >= 0 ? std::sqrt(cov[i * P + i]) : kNaN;
    const double btol = 1e-6 * (hi[i] - lo[i]);
    fp.at_bound = theta[i] - lo[i] < btol || hi[i] - theta[i] < btol;
    fp.identified = !fp.at_bound && !flat[i];
    if (!fp.identified) fp.se = kNaN;
    fp.lo = std::isfinite(fp.se) ? fp.value - rep.quantile * fp.se : kNaN;
    fp.hi = std::isfinite(fp.se) ? fp.value + rep.quantile * fp.se : kNaN;
    if (!fp.identified) rep.unidentified.push_back(fp.leaf + "." + fp.name);
    rep.parameters.push_back(fp);
  }
  if (std::any_of(rep.parameters.begin(), rep.parameters.end(), [](const FitParameter& p) { return p.at_bound; }))
    rep.notes.push_back("a parameter ended at a bound of its search range: the data do not pin it down");
  if (P > 0 && static_cast<double>(rep.rows_train) < 2.0 * static_cast<double>(P))
    rep.warnings.push_back(std::to_string(rep.rows_train) + " training observation(s) for " + std::to_string(P) +
                           " parameter(s), fewer than 2 per parameter: the fit can follow noise and its "
                           "intervals rest on very few residual degrees of freedom");
  if (P > 0 && rep.starts_at_best < 2) rep.status = FitStatus::not_converged;
  else if (!rep.unidentified.empty() || !rep.identified || (!binomial && P > 0 && !(rep.dof > 0)))
    rep.status = FitStatus::not_identified;
  if (rep.status == FitStatus::not_converged)
    rep.notes.push_back("only " + std::to_string(rep.starts_at_best) + " of " + std::to_string(rep.starts) +
                        " optimiser starts reached the best objective, none of the restarts near it: the optimum "
                        "is not confirmed; fix some skills with --fixed or add observations");
  if (rep.status == FitStatus::not_identified && rep.unidentified.empty() && rep.dof <= 0)
    rep.notes.push_back("no residual degree of freedom (" + std::to_string(rep.rows_train) + " observations, " +
                        std::to_string(P) + " parameters): nothing left to estimate the noise from");

  rep.fitted = objective.overrides(theta).apply(model.spec());
  const bool result = rep.status == FitStatus::ok;
  if (result) rep.fitted.fit = fit_block(rep.fitted, params, cov);
  const Model fitted = Model::compile(rep.fitted);
  const auto band = result ? prediction_intervals(obs, rows, objective, theta, cov, rep, options.level)
                           : std::vector<std::pair<double, double>>{};
  rep.series = residuals(obs, rows, objective.predictions(theta), band);
  if (!rep.offsets.empty()) {
    for (std::size_t i = 0; i < P; ++i) {
      if (params[i].name != kOffset) continue;
      FamilyOffset& f = rep.offsets[params[i].node];
      f.log10_offset = theta[i];
      f.se = rep.parameters[i].se;
      f.multiplier = std::pow(10.0, theta[i]);
      f.lo = std::isfinite(f.se) ? std::pow(10.0, theta[i] - rep.quantile * f.se) : kNaN;
      f.hi = std::isfinite(f.se) ? std::pow(10.0, theta[i] + rep.quantile * f.se) : kNaN;
    }
    rep.offsets[0].lo = rep.offsets[0].hi = 1;
  }
  if (!result) return rep;  // no forecast from a fit that is not a result

  const std::vector<double> grid = forecast_grid(model, objective.xs());
  const Evaluation on_grid = evaluate(fitted, grid);
  rep.forecasts = crossing_forecasts(model, rows, objective, theta, grid, on_grid, unconstrained_leaf, P > 0, rep,
                                     options.max_evaluations);
  if (options.train_below) rep.backtest = backtest(model, obs, rep, on_grid, grid, objective, options);
  return rep;
}

}  // namespace capgraph::analysis
