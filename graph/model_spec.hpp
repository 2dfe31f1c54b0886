// capgraph/graph/model_spec.hpp — the declaration of a capability model.
//
// A ModelSpec is what a spec file says, in plain C++ values, with references
// already resolved to node indices. The spec layer (specs/) builds it from
// YAML and validates it with source positions; the engine compiles it into an
// immutable Model (model.hpp). Nothing here knows about YAML.
//
// Semantics of every field: docs/spec-format.md and docs/measures.md.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace capgraph {

/// Where something was declared (1-based; 0 = unknown). Used only in messages.
struct SourceLoc {
  int line = 0;
  int column = 0;
};

/// What a sweep varies: parameters N, or training compute C (FLOPs).
enum class Axis { params, compute };

/// Chinchilla-form loss L(N, D) = E + A / N^alpha + B / D^beta.
struct ScalingLaw {
  std::string name;  ///< "chinchilla", "epoch2024" or "custom"
  double E = 0, A = 0, B = 0, alpha = 0, beta = 0;
};

/// Hoffmann et al. 2022, approach 3 (data/scaling_law_constants.csv).
ScalingLaw chinchilla_law();
/// Besiroglu et al. 2024, the Epoch AI replication.
ScalingLaw epoch2024_law();
/// Looks a law up by name ("chinchilla", "epoch2024"); nullopt if unknown.
std::optional<ScalingLaw> law_by_name(const std::string& name);

/// The `scale:` block (docs/spec-format.md).
struct ScaleSpec {
  Axis axis = Axis::params;
  double from = 1e8;   ///< default sweep range along the axis
  double to = 1e13;
  int points = 61;     ///< default number of log-spaced sweep points
  double tokens_per_param = 20;
  std::optional<double> data_limit;  ///< cap on training tokens D
  ScalingLaw law = chinchilla_law();
};

enum class CurveKind { logistic, power_law, chinchilla, points, constant };

/// A leaf's smooth success curve p(x) (docs/measures.md §1).
struct Curve {
  CurveKind kind = CurveKind::constant;
  double mid = 0, slope = 0;           ///< logistic
  double c = 0, alpha = 0;             ///< power_law
  double weight = 0;                   ///< chinchilla
  double value = 0;                    ///< constant
  std::vector<std::pair<double, double>> knots;  ///< points: (N, p), N increasing
};

enum class GateKind { all, any, at_least, best_of, mean };

/// One reference from a task to a prerequisite: `id` or `{id: n}`.
struct Use {
  std::size_t node = 0;  ///< index into ModelSpec::nodes
  double count = 1;      ///< independent uses (all/any/at_least/best_of) or weight (mean)
  SourceLoc loc;
};

enum class MetricKind { exact_match, partial_credit, log_likelihood, multiple_choice, pass_at };

/// A metric an evaluation reports (docs/measures.md §3). `k` is K for
/// multiple_choice and k for pass_at, unused otherwise.
struct Metric {
  MetricKind kind = MetricKind::exact_match;
  int k = 0;
  friend bool operator==(const Metric&, const Metric&) = default;
};

/// A skill (leaf) or a task (composite with exactly one gate).
struct NodeSpec {
  std::string id;
  std::string label;        ///< display name; empty = id
  std::string group;        ///< cluster in maps; empty = none
  std::string description;
  bool is_task = false;
  SourceLoc loc;

  // skills
  Curve curve;
  double floor = 0;
  double ceiling = 1;
  bool shared = false;

  // tasks
  GateKind gate = GateKind::all;
  std::vector<Use> uses;          ///< for best_of: exactly one, count 1
  int k = 0;                      ///< at_least: K
  int best_n = 1;                 ///< best_of: N
  double guess = 0;
  std::optional<double> threshold;
  std::vector<Metric> metrics;    ///< empty = defaults (see default_metrics())

  const std::string& display_name() const { return label.empty() ? id : label; }
};

/// The whole model declaration.
/// One fitted parameter of a skill's curve (graph/curve_parameters.hpp).
struct FitParameterSpec {
  std::size_t node = 0;    ///< index into ModelSpec::nodes (a skill)
  std::string parameter;   ///< log10_mid, slope, log10_c, alpha, ln_weight, logit_value
  double estimate = 0;     ///< equals the curve's value of it
};

/// A spec written by `capgraph fit -o`: the fitted parameters and their
/// covariance (the normal approximation at the optimum), from which the
/// report draws uncertainty bands (docs/spec-format.md, "fit").
struct FitSpec {
  std::vector<FitParameterSpec> parameters;
  std::vector<double> covariance;  ///< P x P, row-major, symmetric
  SourceLoc loc;                   ///< of the `fit` key
};

struct ModelSpec {
  std::string name;
  std::string description;
  double threshold = 0.5;
  ScaleSpec scale;
  std::vector<NodeSpec> nodes;  ///< skills and tasks, in spec order
  std::optional<FitSpec> fit;   ///< only in a fitted spec
};

/// Metrics reported for a task that lists none: exact match, partial credit,
/// log-likelihood (the three that show the "mirage" side by side).
std::vector<Metric> default_metrics();

/// "exact_match", "partial_credit", "log_likelihood", "multiple_choice", "pass_at".
const char* metric_kind_name(MetricKind kind);
const char* gate_kind_name(GateKind kind);
const char* curve_kind_name(CurveKind kind);

}  // namespace capgraph
