// capgraph/graph/overrides.hpp — evaluating a model with some nodes changed,
// without rebuilding it.
//
// An Overrides names nodes and what each becomes: a skill with a given
// curve, floor and ceiling. force(v, p) makes node v a constant p (floor 0,
// ceiling 1): a task's gate and uses are then not read, so its P is p
// whatever its prerequisites (the improvement potential's "what if P_v =
// 1"). set_curve(v, ...) replaces a skill's curve, floor and ceiling (a
// fit's trial parameters). Passed as EvalOptions::overrides (evaluate()) or
// MonteCarloOptions::overrides (monte_carlo()), the results are bit for bit
// those on Model::compile(overrides.apply(model.spec())): every node's ln P,
// partial credit and metrics (tasks above a forced task count it as one
// atomic step, as in that spec), shared skills' exact expansion, and the
// Monte Carlo estimates for the same seed. docs/measures.md §7.
//
// The values are checked as Model::compile checks a skill's (ModelError,
// with the node's source position) when the evaluation starts. Cost per
// call: nothing when empty; otherwise a patched copy of the evaluation
// program (O(nodes)), and with forced tasks the step counts recounted
// (O(nodes + uses)). The Model itself is never changed, and
// Evaluation::model() is the model as compiled.
#pragma once

#include <cstddef>
#include <vector>

#include "graph/model.hpp"
#include "graph/model_spec.hpp"

namespace capgraph {

class Overrides {
 public:
  /// One overridden node: a skill with this curve, floor and ceiling.
  struct Leaf {
    std::size_t node = 0;
    Curve curve;
    double floor = 0, ceiling = 1;
  };

  /// Node v (task or skill) is a constant p, floor 0, ceiling 1.
  Overrides& force(std::size_t v, double p = 1.0);
  /// Node v is a skill with this curve, floor and ceiling (for a skill, its
  /// declared ones replaced; pass model.node(v).floor and .ceiling to keep them).
  Overrides& set_curve(std::size_t v, Curve curve, double floor, double ceiling);
  /// Forgets every override (keeps the storage, for reuse in a loop).
  void clear() { leaves_.clear(); }

  bool empty() const { return leaves_.empty(); }
  /// The overrides in the order given; a node named twice has two entries,
  /// and the later one wins (an O(1) append, whatever the count).
  const std::vector<Leaf>& leaves() const { return leaves_; }

  /// The spec the results equal: each overridden node declared a skill with
  /// its curve, floor and ceiling (no uses; id, metrics, threshold and
  /// `shared` as declared). Throws ModelError for a node index out of range.
  ModelSpec apply(ModelSpec spec) const;

 private:
  std::vector<Leaf> leaves_;
};

}  // namespace capgraph
