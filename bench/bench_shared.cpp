// bench/bench_shared.cpp — exact evaluation of shared skills: the decision
// diagram (graph/bdd.hpp) beside the Shannon expansion.
//
//   bench_shared SPEC TASK [--points P] [--expansion] [--bottleneck] [--repeat R]
//
// Times (CPU seconds of this process, std::clock, and wall seconds,
// steady_clock; the best of R runs):
//   eval_1_s     evaluate() at one point (the diagram is built inside)
//   eval_P_s     evaluate() at P log-spaced points over the spec's range
//   bottleneck_s importance() of TASK at the middle of the range, from the
//                diagram (EvalOptions::small_expansion = 0)
// With --expansion, the same evaluations by Shannon expansion
// (EvalOptions::shared_expansion), or the reason it refused. Also the
// diagram's size (with modules substituted, and without: what the modules
// save) and TASK's P from each method. One JSON object on stdout.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "graph/bdd.hpp"
#include "graph/evaluation.hpp"
#include "graph/importance.hpp"
#include "specs/load.hpp"

using namespace capgraph;

namespace {

struct Time {
  double cpu = 1e300, wall = 1e300;
};

template <class F>
Time best_of(int repeat, F&& f) {
  Time t;
  for (int r = 0; r < repeat; ++r) {
    const std::clock_t c0 = std::clock();
    const auto w0 = std::chrono::steady_clock::now();
    f();
    const auto w1 = std::chrono::steady_clock::now();
    const std::clock_t c1 = std::clock();
    t.cpu = std::min(t.cpu, static_cast<double>(c1 - c0) / CLOCKS_PER_SEC);
    t.wall = std::min(t.wall, std::chrono::duration<double>(w1 - w0).count());
  }
  return t;
}

std::string json(const Time& t) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "{\"cpu_s\": %.4f, \"wall_s\": %.4f}", t.cpu, t.wall);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_shared SPEC TASK [--points P] [--expansion] [--bottleneck] [--repeat R]\n");
    return 2;
  }
  std::size_t points = 1000;
  bool expansion = false, bottleneck = false;
  int repeat = 3;
  for (int i = 3; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--points") && i + 1 < argc) points = std::stoul(argv[++i]);
    else if (!std::strcmp(argv[i], "--expansion")) expansion = true;
    else if (!std::strcmp(argv[i], "--bottleneck")) bottleneck = true;
    else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = std::stoi(argv[++i]);
  }
  const auto loaded = specs::load_spec_file(argv[1]);
  if (!loaded.ok()) {
    for (const auto& d : loaded.errors) std::fprintf(stderr, "%s\n", d.to_string().c_str());
    return 1;
  }
  const Model model = Model::compile(*loaded.spec);
  const auto task = model.find(argv[2]);
  if (!task) {
    std::fprintf(stderr, "no task %s\n", argv[2]);
    return 1;
  }
  const ScaleSpec& sc = loaded.spec->scale;
  const double lo = std::log10(sc.from), hi = std::log10(sc.to);
  std::vector<double> one{std::pow(10.0, (lo + hi) / 2)}, many;
  for (std::size_t j = 0; j < points; ++j) many.push_back(std::pow(10.0, lo + (hi - lo) * j / std::max<std::size_t>(1, points - 1)));

  const auto plan = detail::plan_diagram(model, 1'000'000'000);
  const auto whole = detail::plan_diagram(model, 1'000'000'000, nullptr, /*modules=*/false);
  EvalOptions diagram;
  diagram.threads = 1;
  diagram.max_bdd_nodes = 1'000'000'000;
  diagram.max_shared_work = 1e15;
  double p_diagram = 0, p_expansion = -1;
  const Time e1 = best_of(repeat, [&] { p_diagram = evaluate(model, one, diagram).p(*task, 0); });
  const Time ep = best_of(repeat, [&] { (void)evaluate(model, many, diagram); });
  std::printf("{\"spec\": \"%s\", \"nodes\": %zu, \"task\": \"%s\", \"points\": %zu, \"diagram_nodes\": %zu,\n", argv[1],
              model.size(), argv[2], points, plan.diagram->size());
  std::printf(" \"modules\": %zu, \"diagram_nodes_without_modules\": %zu,\n", plan.diagram->substituted(),
              whole.diagram->size());
  std::printf(" \"diagram\": {\"p\": %.17g, \"eval_1\": %s, \"eval_P\": %s", p_diagram, json(e1).c_str(), json(ep).c_str());
  if (bottleneck) {
    EvalOptions o = diagram;
    o.small_expansion = 0;
    const Time b = best_of(repeat, [&] { (void)importance(model, *task, one[0], ImportanceOrder::potential, o); });
    std::printf(", \"bottleneck\": %s", json(b).c_str());
  }
  std::printf("}");
  if (expansion) {
    EvalOptions o;
    o.threads = 1;
    o.shared_expansion = true;
    try {
      const Time x1 = best_of(1, [&] { p_expansion = evaluate(model, one, o).p(*task, 0); });
      std::printf(",\n \"expansion\": {\"p\": %.17g, \"eval_1\": %s", p_expansion, json(x1).c_str());
      try {
        const Time xp = best_of(1, [&] { (void)evaluate(model, many, o); });
        std::printf(", \"eval_P\": %s}", json(xp).c_str());
      } catch (const ModelError&) {
        std::printf(", \"eval_P\": \"refused\"}");
      }
    } catch (const ModelError& e) {
      std::printf(",\n \"expansion\": \"refused: %s\"", e.what());
    }
  }
  std::printf("}\n");
  return 0;
}
