// capgraph/bench/bench_render.cpp — map render times for generated specs of
// 100, 300, 1,000 and 3,000 nodes (issue 4 targets: 300 nodes <= 1 s,
// 3,000 nodes <= 3 s with the large-map strategy, never minutes).
//
// Usage: bench_render [out_dir]   (writes map_<n>_<groups>.svg there if given)
// Prints one line per case: nodes, groups, engine, drawn nodes, seconds
// (best of 3, wall-clock and process CPU, evaluation included), and the
// start of the strategy note. CPU time is the fairer figure on a busy machine.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>

#include "render/map.hpp"
#include "tests/test_render_support.hpp"

int main(int argc, char** argv) {
  using namespace capgraph;
  const std::string out_dir = argc > 1 ? argv[1] : "";
  std::printf("%6s %6s %6s %6s %8s %8s  %s\n", "nodes", "groups", "engine", "drawn", "wall s", "cpu s", "note");
  for (std::size_t n : {100, 300, 1000, 3000}) {
    for (std::size_t groups : {std::size_t{0}, n / 50}) {
      const Model m = Model::compile(test::generated_spec(n, groups, 1));
      double best = 1e300, best_cpu = 1e300;
      render::MapResult r;
      for (int rep = 0; rep < 3; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        const std::clock_t c0 = std::clock();
        r = render::render_map(m, 1e10);
        const std::clock_t c1 = std::clock();
        const auto t1 = std::chrono::steady_clock::now();
        best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
        best_cpu = std::min(best_cpu, static_cast<double>(c1 - c0) / CLOCKS_PER_SEC);
      }
      std::printf("%6zu %6zu %6s %6zu %8.3f %8.3f  %s\n", n, groups, r.engine.c_str(), r.nodes, best, best_cpu,
                  r.notes.empty() ? "" : r.notes.front().substr(0, 60).c_str());
      if (!out_dir.empty())
        std::ofstream(out_dir + "/map_" + std::to_string(n) + "_" + std::to_string(groups) + ".svg") << r.data;
    }
  }
  return 0;
}
