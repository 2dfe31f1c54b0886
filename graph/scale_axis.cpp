// capgraph/graph/scale_axis.cpp — docs/measures.md §1, "Scale axis".
#include "graph/scale_axis.hpp"

#include <cmath>
#include <stdexcept>

namespace capgraph {

ScaleAxis::ScaleAxis(const ScaleSpec& spec) : spec_(spec) {
  const ScalingLaw& L = spec_.law;
  const double s = L.alpha + L.beta;
  a_ = L.beta / s;
  b_ = L.alpha / s;
  G_ = std::pow(L.alpha * L.A / (L.beta * L.B), 1.0 / s);
}

ScalePoint ScaleAxis::at(double x) const {
  ScalePoint pt;
  pt.x = x;
  if (spec_.axis == Axis::params) {
    pt.N = x;
    pt.D = spec_.tokens_per_param * x;
    pt.dlogN = 1;
    pt.dlogD = 1;
    if (spec_.data_limit && pt.D > *spec_.data_limit) {
      pt.D = *spec_.data_limit;
      pt.dlogD = 0;
      pt.data_limited = true;
    }
  } else {
    const double c6 = x / 6.0;
    pt.N = G_ * std::pow(c6, a_);
    pt.D = std::pow(c6, b_) / G_;
    pt.dlogN = a_;
    pt.dlogD = b_;
    if (spec_.data_limit && pt.D > *spec_.data_limit) {
      pt.D = *spec_.data_limit;
      pt.N = x / (6.0 * pt.D);
      pt.dlogN = 1;
      pt.dlogD = 0;
      pt.data_limited = true;
    }
  }
  pt.C = 6.0 * pt.N * pt.D;
  return pt;
}

double ScaleAxis::loss(double N, double D) const {
  const ScalingLaw& L = spec_.law;
  return L.E + L.A / std::pow(N, L.alpha) + L.B / std::pow(D, L.beta);
}

std::vector<double> ScaleAxis::log_spaced(double from, double to, int n) {
  if (n < 1) throw std::invalid_argument("log_spaced: need at least one point");
  std::vector<double> xs(static_cast<std::size_t>(n));
  if (n == 1) {
    xs[0] = from;
    return xs;
  }
  const double l0 = std::log10(from), l1 = std::log10(to);
  for (int i = 0; i < n; ++i) xs[static_cast<std::size_t>(i)] = std::pow(10.0, l0 + (l1 - l0) * i / (n - 1));
  xs.front() = from;  // exact endpoints, whatever pow's rounding
  xs.back() = to;
  return xs;
}

}  // namespace capgraph
