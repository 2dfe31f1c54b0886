// capgraph/graph/scale_axis.hpp — what a scale point means: N, D and C.
//
// docs/measures.md §1, "Scale axis". On the `params` axis x = N and
// D = min(tokens_per_param * N, data_limit). On the `compute` axis x = C
// FLOPs, split compute-optimally: N = G (C/6)^a, D = (C/6)^b / G with
// a = beta/(alpha+beta), b = alpha/(alpha+beta),
// G = (alpha A / (beta B))^(1/(alpha+beta)); when D exceeds data_limit,
// D = data_limit and N = C / (6 D). Every point reports C = 6 N D.
#pragma once

#include <vector>

#include "model_spec.hpp"

namespace capgraph {

/// One point on the scale axis, with the elasticities the scale drive needs.
struct ScalePoint {
  double x = 0;  ///< the axis value (N on params, C on compute)
  double N = 0;  ///< parameters
  double D = 0;  ///< training tokens
  double C = 0;  ///< training compute 6 N D (FLOPs)
  double dlogN = 1;  ///< d log N / d log x
  double dlogD = 1;  ///< d log D / d log x
  bool data_limited = false;  ///< D was capped by data_limit
};

class ScaleAxis {
 public:
  explicit ScaleAxis(const ScaleSpec& spec);

  /// The point at axis value x (> 0). O(1).
  ScalePoint at(double x) const;
  /// Chinchilla loss E + A / N^alpha + B / D^beta under this axis's law.
  double loss(double N, double D) const;

  /// n log-spaced values from `from` to `to` inclusive (n >= 1; n == 1 gives
  /// `from`). Endpoints are exact.
  static std::vector<double> log_spaced(double from, double to, int n);

  const ScaleSpec& spec() const { return spec_; }
  /// Compute-optimal exponents and constant (meaningful on both axes).
  double a() const { return a_; }
  double b() const { return b_; }
  double G() const { return G_; }

 private:
  ScaleSpec spec_;
  double a_, b_, G_;
};

}  // namespace capgraph
