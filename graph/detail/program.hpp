// capgraph/graph/detail/program.hpp — internal: the evaluation program that
// Model::compile lays out and evaluate(), the bottleneck query and Shannon
// expansion run. Not part of the public API: the engine's own .cpp files
// read it through detail::program(model).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "graph/model.hpp"
#include "graph/overrides.hpp"

namespace capgraph::detail {

/// One node as evaluate() runs it: the fields its kernel reads, copied out
/// of the NodeSpec so that a pass over the model reads one compact array
/// front to back. Program::ops holds them in evaluation order; a node's uses
/// are [use_begin, use_end) of Program::use_pos (the child's position in
/// that order) and Program::use_count.
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
  std::uint32_t knot_begin = 0, knot_end = 0;  ///< `points` leaves: the knots in Program::knots
};

/// The evaluation program: one op per node in Model::topological_order(),
/// and each op's uses by position in that order. Immutable once compiled;
/// copies of a Model share it.
struct Program {
  std::vector<EvalOp> ops;
  std::vector<std::uint32_t> use_pos;
  std::vector<double> use_count;
  /// Per use: count * steps(child), the use's weight in partial credit.
  std::vector<double> use_steps;
  /// Position of node v in topological_order().
  std::vector<std::uint32_t> pos;
  /// The knots of every `points` curve, (log10 N, logit p), computed once
  /// at compile time rather than per evaluation; op.knot_begin..knot_end index them.
  std::vector<std::pair<double, double>> knots;
  /// The row of position i's ln P in an evaluation buffer: rows are reused
  /// once every task reading them has been evaluated, so a buffer needs
  /// `rows` rows, not size() (35% of them on the 100k benchmark spec).
  std::vector<std::uint32_t> row;
  std::size_t rows = 0;
  /// Per use: `row` of its child, so that evaluate() reads the rows of a
  /// node's children in order with its uses instead of looking each one up
  /// at a random place (at a million nodes those lookups were cache misses
  /// that cost more than the arithmetic at one point).
  std::vector<std::uint32_t> use_row;
  /// Per position i, ops[i].use_begin, and the number of uses at the end (so
  /// i's uses are [use_offset[i], use_offset[i + 1])), and `flags` bits:
  /// compact copies of what evaluate()'s set-up passes read, so that they
  /// do not stream the whole program (112 bytes a node).
  std::vector<std::uint32_t> use_offset;
  static constexpr std::uint8_t kAllTask = 1;         ///< an `all` task
  static constexpr std::uint8_t kReportsPartial = 2;  ///< a task whose metrics include partial credit
  std::vector<std::uint8_t> flags;
};

/// The program of a compiled model.
inline const Program& program(const Model& m) { return *m.program_; }

/// Checks a skill's curve, floor and ceiling as Model::compile does
/// (ModelError naming leaf.id, at leaf.loc).
void check_leaf(const NodeSpec& leaf);
/// Fills a skill's fields of op from its declaration, as Model::compile
/// does; a `points` curve's knots are appended to `knots`.
void fill_leaf_op(const NodeSpec& leaf, EvalOp& op, std::vector<std::pair<double, double>>& knots);

/// The program under Overrides (graph/overrides.hpp), as evaluate() runs it:
/// the ops of the rebuilt spec at the model's positions. The model's own
/// arrays serve for whatever is empty here.
struct PatchedProgram {
  std::vector<EvalOp> ops;
  std::vector<std::pair<double, double>> knots;  ///< the model's and the overrides' (empty: no `points` override)
  std::vector<std::uint8_t> cut;     ///< by node: a task evaluated as a skill (empty: none)
  std::vector<double> steps;         ///< with cut: steps by node, recounted
  std::vector<double> use_steps;     ///< with cut: by program use, from `steps`
  std::vector<std::uint8_t> flags;   ///< with cut: by position
  bool has_shared = false;           ///< a shared skill in the rebuilt spec
};
/// Checks every override: std::out_of_range for a node index out of range,
/// ModelError for a value Model::compile would refuse in the rebuilt spec.
void check_overrides(const Model& model, const Overrides& overrides);
/// The patched program (checks the overrides first).
PatchedProgram patch_program(const Model& model, const Overrides& overrides);

}  // namespace capgraph::detail
