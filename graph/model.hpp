// capgraph/graph/model.hpp — the compiled, immutable capability model.
//
// Model::compile checks a ModelSpec's structure (indices in range, one gate
// per task, no cycle: Boost.Graph depth-first search) and lays it out for
// evaluation: a Boost.Graph adjacency_list (edge task -> prerequisite, with
// the use count), a topological order (prerequisites first), and flat
// compressed arrays of uses. Spec-level validation with source positions is
// the spec layer's job (specs/validate.hpp); compile() throws ModelError
// for anything it cannot evaluate, so library users who build a ModelSpec
// by hand get a clear message too.
//
// Complexity: O(nodes + uses). Errors: ModelError.
#pragma once

#include <boost/graph/adjacency_list.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "model_spec.hpp"
#include "scale_axis.hpp"

namespace capgraph {

/// The model cannot be compiled or evaluated as declared.
class ModelError : public std::runtime_error {
 public:
  ModelError(const std::string& message, SourceLoc loc = {})
      : std::runtime_error(message), loc_(loc) {}
  SourceLoc loc() const { return loc_; }

 private:
  SourceLoc loc_;
};

/// Edge property: how many independent uses (or the mean weight).
struct UseEdge {
  double count = 1;
};

using CapabilityGraph =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, boost::no_property, UseEdge>;

/// A cycle in the declared dependencies, as node indices a -> b -> ... -> a
/// (first element repeated at the end). Empty if the graph is acyclic.
/// Found with boost::depth_first_search (back edge), in spec order, so the
/// same spec always reports the same cycle.
std::vector<std::size_t> find_cycle(const ModelSpec& spec);

namespace detail {
/// One node as evaluate() runs it (internal): the fields its kernel reads,
/// copied out of the NodeSpec so that a pass over the model reads one
/// compact array front to back. Model::eval_ops() holds them in evaluation
/// order; a node's uses are [use_begin, use_end) of Model::eval_use_pos()
/// (the child's position in that order) and Model::eval_use_count().
struct EvalOp {
  std::uint32_t node = 0;   ///< node index
  bool is_task = false;
  bool reports_partial_credit = false;  ///< a task whose metrics include partial credit
  GateKind gate = GateKind::all;
  CurveKind curve = CurveKind::constant;
  std::int32_t k = 0, best_n = 1;
  double guess = 0, total_uses = 0;
  double c0 = 0, c1 = 0;    ///< logistic: log10 mid, slope; power_law: ln c, alpha; constant: ln value; chinchilla: weight
  double floor = 0, ceiling = 1;
  double ln_floor = 0, ln_span = 0, ln_ceiling = 0;  ///< leaves: ln floor, ln(ceiling - floor), ln ceiling
  std::uint32_t use_begin = 0, use_end = 0;
  std::uint32_t knot_begin = 0, knot_end = 0;  ///< `points` leaves: the knots in Model::eval_knots()
};
}  // namespace detail

class Model {
 public:
  /// Compiles a declaration. Throws ModelError on a cycle, an out-of-range
  /// index, a value outside its domain, or a feature not yet supported.
  static Model compile(ModelSpec spec);

  const ModelSpec& spec() const { return spec_; }
  std::size_t size() const { return spec_.nodes.size(); }
  const NodeSpec& node(std::size_t i) const { return spec_.nodes[i]; }
  const ScaleAxis& axis() const { return axis_; }
  const CapabilityGraph& graph() const { return graph_; }

  /// Node index by id, or nullopt.
  std::optional<std::size_t> find(const std::string& id) const;

  /// Every node, prerequisites before the tasks that use them: depth-first
  /// post-order from the tasks nothing uses, in spec order (so most
  /// prerequisites come just before the first task that needs them).
  const std::vector<std::size_t>& topological_order() const { return order_; }

  /// The uses of node v: children [use_begin(v), use_end(v)) in use_child/use_count.
  std::size_t use_begin(std::size_t v) const { return use_offset_[v]; }
  std::size_t use_end(std::size_t v) const { return use_offset_[v + 1]; }
  std::size_t use_child(std::size_t u) const { return use_child_[u]; }
  double use_count(std::size_t u) const { return use_count_[u]; }

  /// Atomic step count s (docs/measures.md §3): leaf 1; `all` sum n_i s_i; other gates 1.
  double steps(std::size_t v) const { return steps_[v]; }
  /// Dependency depth: 0 for skills, 1 + max over children for tasks.
  int depth(std::size_t v) const { return depth_[v]; }
  /// Metrics a task reports (its own list, or default_metrics()).
  const std::vector<Metric>& metrics(std::size_t v) const;
  /// The emergence threshold of a task (its own, else the spec's).
  double threshold(std::size_t v) const;
  /// Indices of all tasks, in spec order.
  const std::vector<std::size_t>& tasks() const { return tasks_; }
  /// True if any skill is declared `shared: true`.
  bool has_shared() const { return has_shared_; }

  /// The evaluation program (internal; see detail::EvalOp): one op per node
  /// in topological_order(), and each op's uses by position in that order.
  const std::vector<detail::EvalOp>& eval_ops() const { return ops_; }
  const std::vector<std::uint32_t>& eval_use_pos() const { return op_use_pos_; }
  const std::vector<double>& eval_use_count() const { return op_use_count_; }
  /// Per program use: count * steps(child), the use's weight in partial credit.
  const std::vector<double>& eval_use_steps() const { return op_use_steps_; }
  /// Position of node v in topological_order().
  std::size_t eval_position(std::size_t v) const { return pos_[v]; }
  /// The knots of every `points` curve, (log10 N, logit p), computed once
  /// here rather than per evaluation; op.knot_begin..knot_end index them.
  const std::vector<std::pair<double, double>>& eval_knots() const { return op_knots_; }
  /// The row of position i's ln P in an evaluation buffer: rows are reused
  /// once every task reading them has been evaluated, so a buffer needs
  /// eval_rows() rows, not size() (35% of them on the 100k benchmark spec).
  const std::vector<std::uint32_t>& eval_row() const { return op_row_; }
  std::size_t eval_rows() const { return op_rows_; }
  /// Per program use: eval_row() of its child, so that evaluate() reads the
  /// rows of a node's children in order with its uses instead of looking
  /// each one up at a random place (at a million nodes those lookups were
  /// cache misses that cost more than the arithmetic at one point).
  const std::vector<std::uint32_t>& eval_use_row() const { return op_use_row_; }
  /// Per position i, eval_ops()[i].use_begin, and size() at the end (so
  /// i's uses are [eval_use_offset()[i], eval_use_offset()[i + 1])), and
  /// eval_flags() bits: compact copies of what evaluate()'s set-up passes
  /// read, so that they do not stream the whole program (112 bytes a node).
  const std::vector<std::uint32_t>& eval_use_offset() const { return op_use_offset_; }
  static constexpr std::uint8_t kAllTask = 1;        ///< an `all` task
  static constexpr std::uint8_t kReportsPartial = 2;  ///< a task whose metrics include partial credit
  const std::vector<std::uint8_t>& eval_flags() const { return op_flags_; }

 private:
  explicit Model(ModelSpec spec);

  ModelSpec spec_;
  ScaleAxis axis_;
  CapabilityGraph graph_;
  std::vector<std::size_t> order_;
  std::vector<std::size_t> use_offset_;
  std::vector<std::size_t> use_child_;
  std::vector<double> use_count_;
  std::vector<double> steps_;
  std::vector<int> depth_;
  std::vector<std::size_t> tasks_;
  std::vector<Metric> default_metrics_;
  bool has_shared_ = false;
  std::vector<detail::EvalOp> ops_;
  std::vector<std::uint32_t> op_use_pos_;
  std::vector<double> op_use_count_, op_use_steps_;
  std::vector<std::pair<double, double>> op_knots_;
  std::vector<std::uint32_t> op_row_, op_use_row_, op_use_offset_;
  std::vector<std::uint8_t> op_flags_;
  std::size_t op_rows_ = 0;
  std::vector<std::uint32_t> pos_;
};

}  // namespace capgraph
