// capgraph/specs/spec_reader.hpp — from a YAML tree to a ModelSpec.
//
// Reads format v1 (docs/spec-format.md) in two passes,
// as SCRAM's Initializer does: (1) register every skill and task id
// (syntax, uniqueness across both maps, the node limit); (2) read each
// node's body, checking every key, type and domain, and resolving each
// reference to a node index (unknown ids get a did-you-mean hint). Then the
// whole model is validated (validate.hpp: cycles).
//
// Node order in ModelSpec::nodes: the skills in file order, then the tasks
// in file order. Every problem is reported to the Diagnostics sink with the
// position of the offending key or value; reading goes on after an error
// wherever the rest can still be checked meaningfully.
//
// Complexity: O(YAML nodes) plus, per unknown reference, a scan of the ids
// for a hint (only for the first 200 unknown names of a file).
#pragma once

#include "../graph/model_spec.hpp"
#include "diagnostics.hpp"
#include "load.hpp"
#include "yaml_tree.hpp"

namespace capgraph::specs {

/// Fills `spec` from `tree` (whose root must exist). `spec` is meaningful
/// only if no error was reported.
void read_spec(const YamlTree& tree, const LoadOptions& options, Diagnostics& diag, ModelSpec& spec);

/// True if `id` matches [A-Za-z_][A-Za-z0-9_.-]*.
bool is_valid_id(std::string_view id);

}  // namespace capgraph::specs
