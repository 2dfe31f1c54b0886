// capgraph/graph/evaluation.hpp — success probabilities and metrics over scale.
//
// evaluate() is a pure function of a compiled Model and a list of scale
// values. It works through blocks of scale points: for each block, one pass
// over the nodes in topological order writes every node's ln P for the
// block into a per-thread buffer (node-major, the block's points contiguous,
// so every inner loop runs over contiguous points), and copies out the rows
// the caller asked to keep. ln P throughout (docs/measures.md §2: long `all`
// chains stay exact in log space); partial credit for the `all` nodes that
// need it (every other node's partial credit is its P).
//
// Memory: the kept rows (8 * points bytes each, plus a partial-credit row
// for a kept `all` node under a partial-credit task) plus one block buffer
// per thread (32 MiB, or up to 256 MiB for 64-point blocks on large
// models). Keeping every row (the default) costs
// 8 * nodes * points bytes; keeping only the reported tasks' rows is what
// makes 100,000 nodes x 1,000 points cheap (docs/benchmarks.md).
// Time: O((nodes + uses) * points), with at_least costing up to O(uses * k)
// per point (graph/successes.hpp: far less for many identical uses);
// with EvalOptions::keep, the nodes and uses of the kept nodes' cones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "large_buffer.hpp"
#include "model.hpp"
#include "overrides.hpp"
#include "scale_axis.hpp"

namespace capgraph {

struct EvalOptions {
  /// Worker threads over blocks of scale points (0 = hardware concurrency,
  /// capped by the number of points / 64).
  unsigned threads = 1;
  /// Exact evaluation of shared skills (docs/measures.md §4, bdd.hpp): the
  /// most nodes of the decision diagram, the most node evaluations (diagram
  /// nodes x points), and the most shared skills one task may correlate (0:
  /// no limit). Past any, evaluate() throws ModelError pointing to Monte
  /// Carlo. `shared_expansion` evaluates by Shannon expansion instead.
  std::size_t max_bdd_nodes = 1'000'000;
  double max_shared_work = 2e9;
  int max_shared_expanded = 0;
  bool shared_expansion = false;
  /// importance(): a task whose Shannon expansion costs at most this many
  /// node evaluations (2^shared x tasks) is expanded, which gives every
  /// measure in one go; a larger one goes through the diagram.
  double small_expansion = 4096;
  /// The most term updates one `at_least` gate may take at one scale point
  /// where its uses have several distinct probabilities (graph/successes.hpp:
  /// identical uses cost O(sqrt n) whatever their number); past it the
  /// engine throws ModelError naming the task and --max-at-least-work.
  double max_at_least_work = 1e8;
  /// The nodes whose rows the Evaluation keeps; nullopt keeps every node.
  /// With it, only the kept nodes' cones are evaluated (what they need),
  /// with the same bits as a whole evaluation.
  std::optional<std::vector<std::size_t>> keep;
  /// Scale points per block (0: automatic, see evaluation.cpp).
  std::size_t block_points = 0;
  /// Whether partial credit is computed along with P: for every task that
  /// reports it, or with `keep` for the kept rows only. Without it only
  /// ln P is evaluated, and Evaluation::partial_credit() works it out from
  /// the rows when asked, which needs the children's rows kept too (the
  /// bottleneck query keeps every row and reads only P).
  bool partial_credit = true;
  /// Nodes evaluated with another curve, or forced to a constant P,
  /// without rebuilding the model (graph/overrides.hpp, docs/measures.md §7):
  /// the results are those of the spec with those nodes so declared.
  /// Empty (the default): the model as compiled, at no cost.
  Overrides overrides;
};

class Evaluation {
 public:
  std::size_t num_points() const { return points_.size(); }
  std::size_t num_nodes() const { return num_nodes_; }
  /// How many nodes were evaluated: all of them, or with EvalOptions::keep
  /// the kept nodes' cones.
  std::size_t evaluated_nodes() const { return evaluated_nodes_; }
  /// The most points per block of the pass (EvalOptions::block_points, or
  /// the one chosen for the model's size when that is 0).
  std::size_t block_points() const { return block_points_; }
  const std::vector<ScalePoint>& points() const& { return points_; }
  const std::vector<ScalePoint>& points() && = delete;

  /// Whether node v's row was kept (EvalOptions::keep).
  bool has_row(std::size_t v) const { return row_of_.empty() ? v < num_nodes_ : row_of_[v] >= 0; }

  /// ln P_v at point j (may be -inf where P is exactly 0). Throws
  /// std::out_of_range when v's row was not kept.
  double log_p(std::size_t v, std::size_t j) const { return log_p_[row(v) * points_.size() + j]; }
  /// P_v at point j.
  double p(std::size_t v, std::size_t j) const;
  /// The row of ln P_v over all points.
  std::span<const double> log_p_row(std::size_t v) const& {
    return {log_p_.data() + row(v) * points_.size(), points_.size()};
  }
  std::span<const double> log_p_row(std::size_t v) && = delete;  // would dangle
  /// Expected fraction of atomic steps correct (docs/measures.md §3).
  double partial_credit(std::size_t v, std::size_t j) const;

  /// The value of one metric of node v at point j (docs/measures.md §3). For
  /// log_likelihood this is ln P (nats); see log_likelihood_per_step.
  double metric(std::size_t v, const Metric& m, std::size_t j) const;
  /// ln P_v / s_v (s_v as in the spec the overrides stand for).
  double log_likelihood_per_step(std::size_t v, std::size_t j) const;

  const Model& model() const { return *model_; }

 private:
  friend Evaluation evaluate(const Model&, std::span<const double>, const EvalOptions&);
  std::size_t row(std::size_t v) const {
    if (row_of_.empty()) return v;
    if (row_of_[v] < 0) throw_not_kept(v);
    return static_cast<std::size_t>(row_of_[v]);
  }
  [[noreturn]] void throw_not_kept(std::size_t v) const;
  double steps(std::size_t v) const { return steps_.empty() ? model_->steps(v) : steps_[v]; }
  const Model* model_ = nullptr;
  std::vector<std::uint8_t> cut_;  // node -> a task evaluated as a skill (EvalOptions::overrides); empty: none
  std::vector<double> steps_;      // node -> step count, when cut_ is not empty
  std::size_t num_nodes_ = 0;
  std::size_t evaluated_nodes_ = 0;
  std::size_t block_points_ = 0;
  std::vector<ScalePoint> points_;
  using Buffer = std::vector<double, detail::LargeBufferAllocator<double>>;
  std::vector<std::int32_t> row_of_;  // node -> row in log_p_ (empty: every node, in node order)
  Buffer log_p_;                        // kept rows, row-major
  std::vector<std::int32_t> pc_row_;  // node -> row in pc_ (-1: not stored)
  Buffer pc_;
};

/// Evaluates every node at the axis values xs (each > 0, finite) and keeps
/// the rows options.keep names (all by default). The Model must outlive the
/// Evaluation, so a temporary Model does not compile (the deleted overload
/// below). Shared skills are evaluated exactly by a decision diagram
/// (bdd.hpp), or by Shannon expansion (shared.hpp) where EvalOptions asks
/// for it; throws ModelError when that would exceed the limits in `options`.
Evaluation evaluate(const Model& model, std::span<const double> xs, const EvalOptions& options = {});
Evaluation evaluate(Model&& model, std::span<const double> xs, const EvalOptions& options = {}) = delete;

/// A reported series name for a metric: "exact_match", "partial_credit",
/// "log_likelihood", "multiple_choice:5", "pass_at:10".
std::string metric_label(const Metric& m);

/// The metric a label names, as metric_label writes it ("exact_match",
/// "multiple_choice:4" with K >= 2, "pass_at:10" with k >= 1); nullopt for
/// anything else (an unknown name, a missing or bad count, a count where
/// none is taken). Each caller words its own error.
std::optional<Metric> parse_metric(std::string_view label);

/// True for metrics valued in [0, 1] (threshold crossing applies).
bool metric_is_probability(const Metric& m);

/// One quantity `capgraph eval` reports of a node at a point.
struct NodeQuantity {
  enum Kind { p, log_p, partial_credit, steps, task_metric, log_likelihood_per_step } kind = p;
  Metric metric{};  ///< for `task_metric`
};

/// Appends the quantities reported of node v, each label once, in report
/// order: p, log_p, partial_credit, steps, then a task's metrics, each
/// log_likelihood followed by log_likelihood_per_step. A task's
/// `partial_credit` metric is its partial credit, already listed, so it is
/// not repeated (one row per (node, label) in long outputs). O(metrics).
void node_quantities(const Model& model, std::size_t v, std::vector<NodeQuantity>& out);
/// The label of a quantity ("p", "log_p", ..., metric_label for a metric).
std::string quantity_label(const NodeQuantity& q);
/// The value of a quantity of node v at point j.
double quantity_value(const Evaluation& ev, std::size_t v, const NodeQuantity& q, std::size_t j);

}  // namespace capgraph
