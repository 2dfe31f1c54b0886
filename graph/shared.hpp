// capgraph/graph/shared.hpp — internal: exact evaluation of shared skills
// (docs/measures.md §4), used by evaluate() and importance(): by the decision
// diagram of bdd.hpp, or by the Shannon expansion below (kept for small
// bottleneck queries, whose every measure it gives at once, and as an
// independent check in tests and bench/).
//
// A shared skill has one outcome per instance of the task being evaluated.
// Given the outcomes of all shared skills, every use is again an independent
// trial, so P(v | a) follows the ordinary gate formulas and
//   P_v = sum over assignments a of w(a) P(v | a).
// Only the shared skills that reach v by two or more use paths (counting
// multiplicities and best_of attempts) need expanding — a skill used once
// behaves like an independent one — so v's expansion set K(v) holds just
// those; and K(u) is a subset of K(v) for every u below v, so expanding v
// over K(v) with the ordinary formulas below is exact. Nodes of v's cone
// with no member of K(v) below them are not re-evaluated (they are modules
// independent of the expansion).
//
// Cost: sum over tasks v with K(v) nonempty of 2^|K(v)| * |affected(v)| * points.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bdd.hpp"
#include "model.hpp"
#include "node_kernels.hpp"

namespace capgraph::detail {

/// The expansion of one task.
struct SharedExpansion {
  std::size_t task = 0;
  std::vector<std::size_t> shared;    ///< K(v): shared skills to expand, ascending
  std::vector<std::size_t> affected;  ///< tasks of the cone with a K member below, topological, ending with v
  std::vector<std::size_t> inputs;    ///< other children of affected tasks (read, not recomputed)
  double cost() const;                ///< 2^|K| * |affected|
};

struct SharedPlan {
  std::vector<std::ptrdiff_t> index;        ///< node -> position in expansions (0 with the diagram), or -1
  std::vector<SharedExpansion> expansions;  ///< in topological order of their tasks
  std::shared_ptr<const DiagramPlan> diagram;  ///< the diagram, unless the plan expands
  /// Scratch rows per point of a block that the evaluation needs besides the nodes' rows.
  std::size_t scratch_rows() const { return diagram ? diagram->rows_per_point() : 0; }
};

/// Limits of exact shared evaluation.
struct SharedLimits {
  int max_expanded = 0;           ///< largest |K(v)| (0: no limit; the expansion stops at 62)
  double max_work = 2e9;          ///< diagram nodes * points, or the expansion's sum of cost() * points
  std::size_t max_nodes = 1'000'000;  ///< diagram nodes
  bool expansion = false;         ///< Shannon expansion instead of the diagram
};

/// Builds the plan: the decision diagram over the shared skills, or the
/// Shannon expansion (SharedLimits::expansion). Throws ModelError naming the
/// task and the limit when exactness would cost too much (the message points
/// to --monte-carlo). `cut` (by node; null: none) marks tasks evaluated as
/// skills (graph/overrides.hpp): their uses are not read.
SharedPlan plan_shared(const Model& model, std::size_t points, const SharedLimits& limits,
                       const std::vector<std::uint8_t>* cut = nullptr);

/// The Shannon expansion of `task` when it costs at most max_cost node
/// evaluations at one point (2^|K| * |affected|), else nullopt; nullopt
/// also when task correlates no shared skill (`needed` says which).
std::optional<SharedExpansion> small_expansion(const Model& model, std::size_t task, double max_cost, bool& needed);

/// At node v's place in the pass: the diagram's items owned by v, or v's
/// expansion (rows by node, stride = the block's length, points [0, len)).
void run_shared(const Model& model, const SharedPlan& plan, std::size_t v, double* rows, std::size_t stride,
                std::size_t len, Workspace& ws, std::vector<double>& scratch);

/// Overwrites rows[e.task] over points [j0, j1) with the exact ln P, given
/// exact rows for every node below (stride = row length). `scratch` is
/// resized as needed (nodes * block).
void expand_shared(const Model& model, const SharedExpansion& e, double* rows, std::size_t stride, std::size_t j0,
                   std::size_t j1, Workspace& ws, std::vector<double>& scratch);

/// ln w(a) for assignment bits `a` over e.shared at one point: sum of ln p_s
/// (bit set) or ln(1 - p_s) (bit clear), from the skills' rows.
double log_weight(const SharedExpansion& e, std::uint64_t a, const double* rows, std::size_t stride, std::size_t j);

}  // namespace capgraph::detail
