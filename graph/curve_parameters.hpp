// capgraph/graph/curve_parameters.hpp — a skill curve's free parameters by
// name, in the units a fit estimates them in (docs/spec-format.md, "fit"):
//
//   logistic    log10_mid (log10 of the midpoint), slope
//   power_law   log10_c, alpha
//   chinchilla  ln_weight
//   constant    logit_value
//
// `points` curves have none. A fit (analysis/fit.hpp), the `fit` block of a
// spec and the report's uncertainty bands all read and write curves through
// these, so a parameter means the same thing everywhere.
#pragma once

#include <span>
#include <string_view>

#include "model_spec.hpp"

namespace capgraph {

/// The parameter names of a curve kind, in the order a fit lists them.
std::span<const std::string_view> curve_parameter_names(CurveKind kind);

/// Whether `name` is one of `kind`'s parameters.
bool is_curve_parameter(CurveKind kind, std::string_view name);

/// The parameter's value on `curve` (a constant's value clamped to
/// [1e-12, 1 - 1e-12] before the logit).
double curve_parameter(const Curve& curve, std::string_view name);

/// Sets the parameter on `curve` (e.g. log10_mid = v sets mid = 10^v).
/// A name that is not one of the curve's parameters leaves it unchanged.
void set_curve_parameter(Curve& curve, std::string_view name, double value);

}  // namespace capgraph
