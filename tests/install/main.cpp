#include <capgraph/graph/evaluation.hpp>
#include <capgraph/specs/load.hpp>
#include <iostream>
int main(int argc, char** argv) {
  auto r = capgraph::specs::load_spec_file(argv[1]);
  if (!r.ok()) { for (auto& d : r.errors) std::cerr << d.to_string() << "\n"; return 1; }
  const auto m = capgraph::Model::compile(std::move(*r.spec));
  const std::vector<double> xs{1e10};
  const auto ev = capgraph::evaluate(m, xs);
  std::cout << m.node(m.tasks().back()).id << " P = " << ev.p(m.tasks().back(), 0) << "\n";
}
