// capgraph/graph/curve_eval.cpp — docs/measures.md §1 (curves), §2 (leaf).
#include "graph/curve_eval.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace capgraph {

namespace {
constexpr double kLn10 = 2.302585092994045684;
constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// The logit z(log10 N) of a `points` curve and its slope dz/dlog10N: linear
// in (log10 N, logit p) between knots, constant beyond the ends.
void points_logit(const Curve& c, double log10N, double& z, double& dz) {
  const auto& k = c.knots;
  auto logit = [](double p) { return std::log(p) - std::log1p(-p); };
  if (k.size() == 1 || log10N <= std::log10(k.front().first)) {
    z = logit(k.front().second);
    dz = 0;
    return;
  }
  if (log10N >= std::log10(k.back().first)) {
    z = logit(k.back().second);
    dz = 0;
    return;
  }
  // First knot with log10 N_i > log10N; the segment is [i-1, i].
  std::size_t i = 1;
  while (i < k.size() && std::log10(k[i].first) <= log10N) ++i;
  const double x0 = std::log10(k[i - 1].first), x1 = std::log10(k[i].first);
  const double z0 = logit(k[i - 1].second), z1 = logit(k[i].second);
  dz = (z1 - z0) / (x1 - x0);
  z = z0 + dz * (log10N - x0);
}
}  // namespace

double log1mexp(double a) {
  if (a > -0.6931471805599453) return std::log(-std::expm1(a));
  return std::log1p(-std::exp(a));
}

double logaddexp(double a, double b) {
  if (a == kNegInf) return b;
  if (b == kNegInf) return a;
  const double m = std::max(a, b);
  return m + std::log1p(std::exp(-std::abs(a - b)));
}

double log_sigmoid(double z) {
  if (z < 0) return z - std::log1p(std::exp(z));
  return -std::log1p(std::exp(-z));
}

double curve_log_p(const Curve& c, const ScalingLaw& law, const ScalePoint& pt) {
  switch (c.kind) {
    case CurveKind::logistic:
      return log_sigmoid(c.slope * (std::log10(pt.N) - std::log10(c.mid)));
    case CurveKind::power_law:
      // per-token loss (N/c)^-alpha; p = exp(-loss)
      return -std::pow(pt.N / c.c, -c.alpha);
    case CurveKind::chinchilla:
      return -c.weight * (law.A / std::pow(pt.N, law.alpha) + law.B / std::pow(pt.D, law.beta));
    case CurveKind::points: {
      double z, dz;
      points_logit(c, std::log10(pt.N), z, dz);
      return log_sigmoid(z);
    }
    case CurveKind::constant:
      return c.value > 0 ? std::log(c.value) : kNegInf;
  }
  return kNegInf;
}

double curve_dp_dlog10x(const Curve& c, const ScalingLaw& law, const ScalePoint& pt) {
  // dp/dlog10x = p * dlnp/dlnx * ln10, with dlnN/dlnx = pt.dlogN etc.
  const double p = std::exp(curve_log_p(c, law, pt));
  switch (c.kind) {
    case CurveKind::logistic:
      // dp/dlog10N = slope p (1-p)
      return c.slope * p * (1 - p) * pt.dlogN;
    case CurveKind::power_law: {
      // ln p = -(N/c)^-alpha; dlnp/dlnN = alpha (N/c)^-alpha
      const double dlnp_dlnN = c.alpha * std::pow(pt.N / c.c, -c.alpha);
      return p * dlnp_dlnN * pt.dlogN * kLn10;
    }
    case CurveKind::chinchilla: {
      const double tn = law.alpha * law.A / std::pow(pt.N, law.alpha);
      const double td = law.beta * law.B / std::pow(pt.D, law.beta);
      return p * c.weight * (tn * pt.dlogN + td * pt.dlogD) * kLn10;
    }
    case CurveKind::points: {
      double z, dz;
      points_logit(c, std::log10(pt.N), z, dz);
      return dz * p * (1 - p) * pt.dlogN;
    }
    case CurveKind::constant:
      return 0;
  }
  return 0;
}

double leaf_log_p(double log_p, double floor, double ceiling) {
  if (floor == 0 && ceiling == 1) return log_p;
  const double span = ceiling - floor;
  const double scaled = span > 0 ? std::log(span) + log_p : kNegInf;
  const double log_floor = floor > 0 ? std::log(floor) : kNegInf;
  // floor <= P <= ceiling <= 1 exactly; rounding in the sum may step past
  // either end (floor 0.0626 + 0.9374 * 1 gave ln P = +5.6e-17, and a
  // best_of over it NaN): clamp to the true range.
  const double log_ceiling = ceiling > 0 ? std::log(ceiling) : kNegInf;
  return std::max(log_floor, std::min(logaddexp(log_floor, scaled), log_ceiling));
}

}  // namespace capgraph
