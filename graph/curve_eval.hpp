// capgraph/graph/curve_eval.hpp — leaf success probabilities in log space.
//
// docs/measures.md §1 (curves) and §2 (leaf row):
//   p_leaf = floor + (ceiling - floor) * p(x).
// Everything is returned as ln p so that long `all` chains never underflow.
#pragma once

#include <bit>
#include <cstdint>
#include <limits>

#include "model_spec.hpp"
#include "scale_axis.hpp"

namespace capgraph {

/// ln p(x) of the bare curve (before floor/ceiling), at a scale point.
double curve_log_p(const Curve& curve, const ScalingLaw& law, const ScalePoint& pt);

/// d p(x) / d log10(x) of the bare curve along the scale axis (for the scale
/// drive, docs/measures.md §6). At a `points` knot the right-hand slope is used.
double curve_dp_dlog10x(const Curve& curve, const ScalingLaw& law, const ScalePoint& pt);

/// ln(floor + (ceiling - floor) * exp(log_p)), without cancellation.
double leaf_log_p(double log_p, double floor, double ceiling);

// ---- numerics shared by the engine (Maechler 2012) -------------------------

/// ln(1 - e^a) for a <= 0: log(-expm1(a)) for a > -ln 2, log1p(-exp(a)) otherwise.
double log1mexp(double a);
/// ln(e^a + e^b), exact for -inf arguments.
double logaddexp(double a, double b);
/// ln(1 / (1 + e^-z)) without overflow.
double log_sigmoid(double z);
/// An upper bound on expm1(x) for x > 0 with no transcendental function
/// (the bottleneck sweep's drop rule takes it for 97% of its decisions):
/// x (1 + x + 2^-50) for x <= 1, at most 1.2 expm1(x) there (the series
/// after x + x²/2 sums to at most (e - 2.5) x³; 2^-50 covers the rounding);
/// 2^(floor(x log2 e) + 2), between 2 and 7 expm1(x), up to x = 700;
/// +inf past that. Inline: the sweep calls it 1.5 million times a query.
inline double expm1_upper(double x) {
  if (x <= 1) return x * (1 + x + 0x1p-50);
  if (x < 700) {
    const auto k = static_cast<std::uint64_t>(x * 1.4426950408889634) + 2;  // <= 1012
    return std::bit_cast<double>((1023 + k) << 52);                       // 2^k
  }
  return std::numeric_limits<double>::infinity();
}

}  // namespace capgraph
