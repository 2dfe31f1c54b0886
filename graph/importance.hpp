// capgraph/graph/importance.hpp — which prerequisites bottleneck a task.
//
// docs/measures.md §6, the fault-tree importance measures on the success side:
//   Birnbaum B_i        dP_T / dP_i (total derivative through every path
//                       from T to i); for a shared skill P(T|i=1) - P(T|i=0)
//   criticality C_i     B_i P_i / P_T
//   improvement IP_i    P_T with P_i set to 1, minus P_T
//   scale drive D_i     B_i dP_i/dlog10(x), leaves only; summed over leaves it
//                       is dP_T/dlog10(x) when no skill is shared
//   critical path       from T, the child with the largest IP, down to a leaf
// All B_i of one task come from one reverse (adjoint) pass over its cone.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "evaluation.hpp"
#include "model.hpp"
#include "scale_axis.hpp"

namespace capgraph {

/// One prerequisite of the task in the table.
struct Prerequisite {
  std::size_t node = 0;
  double p = 0;             ///< P_i at the point
  double uses = 0;          ///< total uses of i in one instance of T (product of counts along paths, summed)
  double birnbaum = 0;
  double criticality = 0;
  double improvement = 0;   ///< improvement potential
  std::optional<double> drive;  ///< leaves only
};

enum class ImportanceOrder { potential, birnbaum, criticality, drive };

struct ImportanceTable {
  std::size_t task = 0;
  ScalePoint point;
  double p_task = 0;
  double dp_task_dlog10x = 0;          ///< along the scale axis
  std::vector<Prerequisite> rows;      ///< every node in T's cone except T, ranked
  std::vector<std::size_t> critical_path;  ///< T, ..., leaf
};

/// The bottleneck table of `task` at axis value x, ranked by `order`
/// (descending; ties by spec order). O(cone nodes + cone uses) for Birnbaum
/// and drive; the exact improvement potential of a prerequisite reached by
/// several paths updates its ancestors incrementally, O(references among
/// them), spread over `options.threads` workers (0 = hardware; the table
/// is the same for any count). Throws ModelError for a skill (not a task).
/// `options` also carries the shared-skill limits (see EvalOptions).
ImportanceTable importance(const Model& model, std::size_t task, double x,
                           ImportanceOrder order = ImportanceOrder::potential, const EvalOptions& options = {});

}  // namespace capgraph
