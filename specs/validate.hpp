// capgraph/specs/validate.hpp — whole-model checks with source positions.
//
// The last of the spec layer's passes, run on a ModelSpec whose references
// are resolved: checks that need the whole graph. Today that is the cycle
// check (graph/model.hpp find_cycle: Boost.Graph DFS back edge, spec
// order), reported as `cycle: a -> b -> c -> a` at the position of the
// first node of the path, or `task `t` uses itself` for a 1-cycle.
//
// Complexity: O(nodes + uses).
#pragma once

#include "../graph/model_spec.hpp"
#include "diagnostics.hpp"

namespace capgraph::specs {

/// Reports whole-model problems of `spec` to `diag`.
void validate_model(const ModelSpec& spec, Diagnostics& diag);

}  // namespace capgraph::specs
