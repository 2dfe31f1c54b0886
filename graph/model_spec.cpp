// capgraph/graph/model_spec.cpp — named constants and names of the spec enums.
#include "graph/model_spec.hpp"

namespace capgraph {

// Hoffmann et al. 2022, approach 3, as published (rounded); the digits of
// docs/measures.md §1 (Hoffmann et al. 2022, approach 3).
ScalingLaw chinchilla_law() { return {"chinchilla", 1.69, 406.4, 410.7, 0.34, 0.28}; }

// Besiroglu et al. 2024 (Epoch AI replication), BFGS fit excluding 5 outliers;
// scaling_law_constants.csv row 3.
ScalingLaw epoch2024_law() { return {"epoch2024", 1.81686, 482.006, 2085.434, 0.34781, 0.36585}; }

std::optional<ScalingLaw> law_by_name(const std::string& name) {
  if (name == "chinchilla") return chinchilla_law();
  if (name == "epoch2024") return epoch2024_law();
  return std::nullopt;
}

std::vector<Metric> default_metrics() {
  return {{MetricKind::exact_match, 0}, {MetricKind::partial_credit, 0}, {MetricKind::log_likelihood, 0}};
}

const char* metric_kind_name(MetricKind kind) {
  switch (kind) {
    case MetricKind::exact_match: return "exact_match";
    case MetricKind::partial_credit: return "partial_credit";
    case MetricKind::log_likelihood: return "log_likelihood";
    case MetricKind::multiple_choice: return "multiple_choice";
    case MetricKind::pass_at: return "pass_at";
  }
  return "?";
}

const char* gate_kind_name(GateKind kind) {
  switch (kind) {
    case GateKind::all: return "all";
    case GateKind::any: return "any";
    case GateKind::at_least: return "at_least";
    case GateKind::best_of: return "best_of";
    case GateKind::mean: return "mean";
  }
  return "?";
}

const char* curve_kind_name(CurveKind kind) {
  switch (kind) {
    case CurveKind::logistic: return "logistic";
    case CurveKind::power_law: return "power_law";
    case CurveKind::chinchilla: return "chinchilla";
    case CurveKind::points: return "points";
    case CurveKind::constant: return "constant";
  }
  return "?";
}

}  // namespace capgraph
