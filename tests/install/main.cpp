#include <capgraph/analysis/observations.hpp>
#include <capgraph/graph/evaluation.hpp>
#include <capgraph/render/map.hpp>
#include <capgraph/specs/load.hpp>
#include <iostream>
// Uses each installed library: the engine, the renderer and the analysis.
int main(int argc, char** argv) {
  auto r = capgraph::specs::load_spec_file(argv[1]);
  if (!r.ok()) { for (auto& d : r.errors) std::cerr << d.to_string() << "\n"; return 1; }
  const auto m = capgraph::Model::compile(std::move(*r.spec));
  const std::vector<double> xs{1e10};
  const auto ev = capgraph::evaluate(m, xs);
  std::cout << m.node(m.tasks().back()).id << " P = " << ev.p(m.tasks().back(), 0) << "\n";
  capgraph::render::MapOptions mo;
  mo.format = capgraph::render::MapFormat::dot;
  const auto map = capgraph::render::render_map(m, 1e10, mo);
  std::cout << "map: " << map.nodes << " nodes\n";
  const auto obs = capgraph::analysis::read_observations_text(
      "task,family,params,metric,score\nemoji_movie,Pythia,1e9,exact_str_match,0.01\n", "inline.csv");
  std::cout << "observations: " << obs.set.rows.size() << " row(s), " << obs.errors.size() << " error(s)\n";
}
