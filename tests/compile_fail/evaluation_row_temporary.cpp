// A row of a temporary Evaluation (a span into it): it would dangle at the
// semicolon. With CAPGRAPH_COMPILE_FAIL this must not compile
// (log_p_row's deleted && overload); without it, the same code with a
// named Evaluation must (tests/CMakeLists.txt runs both).
#include <span>
#include <vector>

#include "graph/evaluation.hpp"

double first(const capgraph::Model& model, const std::vector<double>& xs) {
#ifdef CAPGRAPH_COMPILE_FAIL
  const std::span<const double> row = capgraph::evaluate(model, xs).log_p_row(0);
#else
  const capgraph::Evaluation ev = capgraph::evaluate(model, xs);
  const std::span<const double> row = ev.log_p_row(0);
#endif
  return row[0];
}
