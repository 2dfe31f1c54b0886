// capgraph/graph/curve_parameters.cpp — see curve_parameters.hpp.
#include "graph/curve_parameters.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace capgraph {

namespace {

constexpr std::array<std::string_view, 2> kLogistic = {"log10_mid", "slope"};
constexpr std::array<std::string_view, 2> kPowerLaw = {"log10_c", "alpha"};
constexpr std::array<std::string_view, 1> kChinchilla = {"ln_weight"};
constexpr std::array<std::string_view, 1> kConstant = {"logit_value"};

}  // namespace

std::span<const std::string_view> curve_parameter_names(CurveKind kind) {
  switch (kind) {
    case CurveKind::logistic: return kLogistic;
    case CurveKind::power_law: return kPowerLaw;
    case CurveKind::chinchilla: return kChinchilla;
    case CurveKind::constant: return kConstant;
    case CurveKind::points: break;
  }
  return {};
}

bool is_curve_parameter(CurveKind kind, std::string_view name) {
  const auto names = curve_parameter_names(kind);
  return std::find(names.begin(), names.end(), name) != names.end();
}

double curve_parameter(const Curve& c, std::string_view name) {
  if (name == "log10_mid") return std::log10(c.mid);
  if (name == "slope") return c.slope;
  if (name == "log10_c") return std::log10(c.c);
  if (name == "alpha") return c.alpha;
  if (name == "ln_weight") return std::log(c.weight);
  const double p = std::clamp(c.value, 1e-12, 1 - 1e-12);
  return std::log(p) - std::log1p(-p);
}

void set_curve_parameter(Curve& c, std::string_view name, double v) {
  if (!is_curve_parameter(c.kind, name)) return;
  if (name == "log10_mid") c.mid = std::pow(10.0, v);
  else if (name == "slope") c.slope = v;
  else if (name == "log10_c") c.c = std::pow(10.0, v);
  else if (name == "alpha") c.alpha = v;
  else if (name == "ln_weight") c.weight = std::exp(v);
  else if (name == "logit_value") c.value = 1.0 / (1.0 + std::exp(-v));
}

}  // namespace capgraph
