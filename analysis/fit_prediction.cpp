// capgraph/analysis/fit_prediction.cpp — per-observation 95 % prediction
// intervals of a fit: the uncertainty of the fitted curves plus the noise
// of one observation, on the logit scale the likelihood works on.
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>

#include "analysis/fit_internal.hpp"

namespace capgraph::analysis::detail {

double interval_quantile(const FitReport& rep, std::size_t n_params) {
  if (rep.likelihood == Likelihood::binomial)
    return boost::math::quantile(boost::math::normal_distribution<double>(), 0.975);
  const std::size_t dof = rep.rows_train > n_params ? rep.rows_train - n_params : 0;
  if (dof == 0) return kNaN;
  return boost::math::quantile(boost::math::students_t_distribution<double>(static_cast<double>(dof)), 0.975);
}

std::vector<std::optional<std::pair<double, double>>> prediction_intervals(const FitObjective& objective,
                                                                           const std::vector<Row>& rows,
                                                                           const std::vector<double>& theta,
                                                                           const std::vector<double>& cov,
                                                                           const FitReport& rep) {
  const std::size_t P = theta.size(), R = rows.size();
  std::vector<std::optional<std::pair<double, double>>> out(R);
  const double q = interval_quantile(rep, P);
  if (!rep.identified || !std::isfinite(q)) return out;
  const bool binomial = objective.binomial();
  if (!binomial && !std::isfinite(rep.sigma)) return out;
  // The scale an interval is built on: the logit (clamped as in the fit),
  // or the value itself for log-likelihood rows.
  auto eta = [&](const Row& r, const Prediction& p) {
    return r.metric.kind == MetricKind::log_likelihood ? p.value : objective.clamp_logit(p.value);
  };
  const std::vector<Prediction> at = objective.predictions(theta);
  std::vector<std::vector<double>> grad(R, std::vector<double>(P, 0.0));
  for (std::size_t k = 0; k < P; ++k) {
    const double h = 1e-4 * std::max(1.0, std::fabs(theta[k]));
    std::vector<double> tp = theta, tm = theta;
    tp[k] += h;
    tm[k] -= h;
    const auto pp = objective.predictions(tp), pm = objective.predictions(tm);
    for (std::size_t i = 0; i < R; ++i) grad[i][k] = (eta(rows[i], pp[i]) - eta(rows[i], pm[i])) / (2 * h);
  }
  const double floor_logit = objective.clamp_logit(0.0);  // logit of the floor
  for (std::size_t i = 0; i < R; ++i) {
    double var = 0;
    for (std::size_t a = 0; a < P; ++a)
      for (std::size_t b = 0; b < P; ++b) var += grad[i][a] * cov[a * P + b] * grad[i][b];
    const double e = eta(rows[i], at[i]);
    if (binomial) {
      const double p = std::clamp(at[i].value, 1e-12, 1 - 1e-12);
      var += 1.0 / (*rows[i].n * p * (1 - p));
    } else {
      var += rep.sigma * rep.sigma;
    }
    if (!std::isfinite(var) || var < 0) continue;
    const double lo = e - q * std::sqrt(var), hi = e + q * std::sqrt(var);
    if (rows[i].metric.kind == MetricKind::log_likelihood) {
      out[i] = {lo, std::min(hi, 0.0)};
      continue;
    }
    auto prob = [](double z) { return 1.0 / (1.0 + std::exp(-z)); };
    out[i] = {lo <= floor_logit ? 0.0 : prob(lo), hi >= -floor_logit ? 1.0 : prob(hi)};
  }
  return out;
}

}  // namespace capgraph::analysis::detail
