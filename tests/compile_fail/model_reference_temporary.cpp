// A reference into a temporary Model (its spec, a node, its tasks): it
// would dangle at the semicolon. With CAPGRAPH_COMPILE_FAIL this must not
// compile (the accessors' deleted && overloads); without it, the same code
// with a named Model must (tests/CMakeLists.txt runs both).
#include <cstddef>

#include "graph/model.hpp"

std::size_t node_count(const capgraph::ModelSpec& spec) {
#ifdef CAPGRAPH_COMPILE_FAIL
  const capgraph::ModelSpec& s = capgraph::Model::compile(spec).spec();
#else
  const capgraph::Model model = capgraph::Model::compile(spec);
  const capgraph::ModelSpec& s = model.spec();
#endif
  return s.nodes.size();
}
