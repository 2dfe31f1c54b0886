// capgraph/graph/curve_eval.hpp — leaf success probabilities in log space.
//
// DESIGN.md section 2 (curve table) and 3.1 (leaf row):
//   p_leaf = floor + (ceiling - floor) * p(x).
// Everything is returned as ln p so that long `all` chains never underflow.
#pragma once

#include "graph/model_spec.hpp"
#include "graph/scale_axis.hpp"

namespace capgraph {

/// ln p(x) of the bare curve (before floor/ceiling), at a scale point.
double curve_log_p(const Curve& curve, const ScalingLaw& law, const ScalePoint& pt);

/// d p(x) / d log10(x) of the bare curve along the scale axis (for the scale
/// drive, DESIGN.md 3.5). At a `points` knot the right-hand slope is used.
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

}  // namespace capgraph
