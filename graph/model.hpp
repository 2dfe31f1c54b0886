// capgraph/graph/model.hpp — the compiled, immutable capability model.
//
// Model::compile checks a ModelSpec's structure (indices in range, one gate
// per task, no cycle: Boost.Graph depth-first search) and lays it out for
// evaluation: a topological order (prerequisites first), flat compressed
// arrays of uses, and the evaluation program (graph/detail/program.hpp,
// internal to the engine). Spec-level validation with source positions is
// the spec layer's job (specs/validate.hpp); compile() throws ModelError
// for anything it cannot evaluate, so library users who build a ModelSpec
// by hand get a clear message too.
//
// Complexity: O(nodes + uses). Errors: ModelError.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "graph/model_spec.hpp"
#include "graph/scale_axis.hpp"

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

/// A cycle in the declared dependencies, as node indices a -> b -> ... -> a
/// (first element repeated at the end). Empty if the graph is acyclic.
/// Found with boost::depth_first_search (back edge), in spec order, so the
/// same spec always reports the same cycle.
std::vector<std::size_t> find_cycle(const ModelSpec& spec);

class Model;
namespace detail {
struct Program;
inline const Program& program(const Model& m);  // graph/detail/program.hpp
}  // namespace detail

class Model {
 public:
  /// Compiles a declaration. Throws ModelError on a cycle, an out-of-range
  /// index, a value outside its domain, or a feature not yet supported.
  static Model compile(ModelSpec spec);

  // Accessors that return references into the Model are deleted on a
  // temporary (Model::compile(spec).spec() would dangle at the semicolon).
  const ModelSpec& spec() const& { return spec_; }
  const ModelSpec& spec() && = delete;
  std::size_t size() const { return spec_.nodes.size(); }
  const NodeSpec& node(std::size_t i) const& { return spec_.nodes[i]; }
  const NodeSpec& node(std::size_t i) && = delete;
  const ScaleAxis& axis() const& { return axis_; }
  const ScaleAxis& axis() && = delete;

  /// Node index by id, or nullopt.
  std::optional<std::size_t> find(const std::string& id) const;

  /// Every node, prerequisites before the tasks that use them: depth-first
  /// post-order from the tasks nothing uses, in spec order (so most
  /// prerequisites come just before the first task that needs them).
  const std::vector<std::size_t>& topological_order() const& { return order_; }
  const std::vector<std::size_t>& topological_order() && = delete;

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
  const std::vector<Metric>& metrics(std::size_t v) const&;
  const std::vector<Metric>& metrics(std::size_t v) && = delete;
  /// The emergence threshold of a task (its own, else the spec's).
  double threshold(std::size_t v) const;
  /// Indices of all tasks, in spec order.
  const std::vector<std::size_t>& tasks() const& { return tasks_; }
  const std::vector<std::size_t>& tasks() && = delete;
  /// True if any skill is declared `shared: true`.
  bool has_shared() const { return has_shared_; }

 private:
  explicit Model(ModelSpec spec);
  void build_program();
  friend const detail::Program& detail::program(const Model& m);

  ModelSpec spec_;
  ScaleAxis axis_;
  std::vector<std::size_t> order_;
  std::vector<std::size_t> use_offset_;
  std::vector<std::size_t> use_child_;
  std::vector<double> use_count_;
  std::vector<double> steps_;
  std::vector<int> depth_;
  std::vector<std::size_t> tasks_;
  std::vector<Metric> default_metrics_;
  bool has_shared_ = false;
  // The evaluation program (graph/detail/program.hpp): immutable, so
  // copies of the Model share it.
  std::shared_ptr<const detail::Program> program_;
};

}  // namespace capgraph
