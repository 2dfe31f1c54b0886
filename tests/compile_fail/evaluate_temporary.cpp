// evaluate() on a temporary Model: the Evaluation would point to a Model
// destroyed at the semicolon. With CAPGRAPH_COMPILE_FAIL this must not
// compile (evaluate's deleted Model&& overload); without it, the same
// code with a named Model must (tests/CMakeLists.txt runs both).
#include <vector>

#include "graph/evaluation.hpp"

double first_log_p(const capgraph::ModelSpec& spec, const std::vector<double>& xs) {
#ifdef CAPGRAPH_COMPILE_FAIL
  const capgraph::Evaluation ev = capgraph::evaluate(capgraph::Model::compile(spec), xs);
#else
  const capgraph::Model model = capgraph::Model::compile(spec);
  const capgraph::Evaluation ev = capgraph::evaluate(model, xs);
#endif
  return ev.log_p(0, 0);
}
