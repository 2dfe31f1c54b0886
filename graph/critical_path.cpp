// capgraph/graph/critical_path.cpp — docs/measures.md §6: the critical path
// of the bottleneck query, from T down the children with the largest
// improvement potential.
#include "graph/importance_detail.hpp"

namespace capgraph::importance_detail {

std::vector<std::size_t> critical_path(const Model& model, std::size_t task, const std::vector<double>& improvement) {
  auto ip = [&](std::size_t c) { return improvement[detail::program(model).pos[c]]; };
  std::vector<std::size_t> path;
  std::size_t v = task;
  path.push_back(v);
  while (model.node(v).is_task) {
    std::size_t best = model.use_child(model.use_begin(v));
    for (std::size_t u = model.use_begin(v); u < model.use_end(v); ++u) {
      const std::size_t c = model.use_child(u);
      if (ip(c) > ip(best) || (ip(c) == ip(best) && c < best)) best = c;
    }
    v = best;
    path.push_back(v);
  }
  return path;
}

}  // namespace capgraph::importance_detail
