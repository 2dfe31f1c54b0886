// capgraph/graph/evaluation.hpp — success probabilities and metrics over scale.
//
// evaluate() is a pure function of a compiled Model and a list of scale
// values: one pass over the nodes in topological order, each node's row of
// m scale points contiguous (node-major), so every inner loop runs over
// contiguous points. It stores ln P for every node (DESIGN.md 3.1: long
// `all` chains stay exact in log space) and partial credit for the `all`
// nodes that need it (every other node's partial credit is its P).
//
// Memory: 8 * nodes * points bytes for ln P, plus 8 * points per `all`
// node under a partial-credit task. Time: O((nodes + uses) * points), with
// at_least costing O(uses * k) per point.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "graph/large_buffer.hpp"
#include "graph/model.hpp"
#include "graph/scale_axis.hpp"

namespace capgraph {

struct EvalOptions {
  /// Worker threads over blocks of scale points (0 = hardware concurrency,
  /// capped by the number of points / 64).
  unsigned threads = 1;
  /// Exact evaluation of shared skills (DESIGN.md 3.3, shared.hpp): the most
  /// shared skills one task may correlate, and the most node evaluations the
  /// Shannon expansion may take (over all tasks and points). Past either,
  /// evaluate() throws ModelError pointing to Monte Carlo.
  int max_shared_expanded = 24;
  double max_shared_work = 2e9;
};

class Evaluation {
 public:
  std::size_t num_points() const { return points_.size(); }
  std::size_t num_nodes() const { return num_nodes_; }
  const std::vector<ScalePoint>& points() const { return points_; }

  /// ln P_v at point j (may be -inf where P is exactly 0).
  double log_p(std::size_t v, std::size_t j) const { return log_p_[v * points_.size() + j]; }
  /// P_v at point j.
  double p(std::size_t v, std::size_t j) const;
  /// The row of ln P_v over all points.
  std::span<const double> log_p_row(std::size_t v) const {
    return {log_p_.data() + v * points_.size(), points_.size()};
  }
  /// Expected fraction of atomic steps correct (DESIGN.md 3.2).
  double partial_credit(std::size_t v, std::size_t j) const;

  /// The value of one metric of node v at point j (DESIGN.md 3.2). For
  /// log_likelihood this is ln P (nats); see log_likelihood_per_step.
  double metric(std::size_t v, const Metric& m, std::size_t j) const;
  /// ln P_v / s_v.
  double log_likelihood_per_step(std::size_t v, std::size_t j) const;

  const Model& model() const { return *model_; }

 private:
  friend Evaluation evaluate(const Model&, std::span<const double>, const EvalOptions&);
  const Model* model_ = nullptr;
  std::size_t num_nodes_ = 0;
  std::vector<ScalePoint> points_;
  using Buffer = std::vector<double, detail::LargeBufferAllocator<double>>;
  Buffer log_p_;                        // node-major
  std::vector<std::ptrdiff_t> pc_row_;  // node -> row in pc_ (-1: partial credit = P)
  Buffer pc_;
};

/// Evaluates every node at the axis values xs (each > 0, finite). The Model
/// must outlive the Evaluation. Shared skills are evaluated exactly by
/// Shannon expansion (shared.hpp); throws ModelError when that would exceed
/// the limits in `options`.
Evaluation evaluate(const Model& model, std::span<const double> xs, const EvalOptions& options = {});

/// A reported series name for a metric: "exact_match", "partial_credit",
/// "log_likelihood", "multiple_choice:5", "pass_at:10".
std::string metric_label(const Metric& m);

/// True for metrics valued in [0, 1] (threshold crossing applies).
bool metric_is_probability(const Metric& m);

}  // namespace capgraph
