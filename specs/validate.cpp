// capgraph/specs/validate.cpp — see validate.hpp.
#include "specs/validate.hpp"

#include "graph/model.hpp"

namespace capgraph::specs {

void validate_model(const ModelSpec& spec, Diagnostics& diag) {
  const std::vector<std::size_t> cycle = find_cycle(spec);
  if (cycle.empty()) return;
  const NodeSpec& first = spec.nodes[cycle.front()];
  if (cycle.size() <= 2) {
    diag.error(first.loc, "task `" + first.id + "` uses itself");
    return;
  }
  std::string path = "cycle: ";
  for (std::size_t i = 0; i < cycle.size(); ++i) {
    if (i > 0) path += " -> ";
    path += spec.nodes[cycle[i]].id;
  }
  diag.error(first.loc, std::move(path));
}

}  // namespace capgraph::specs
