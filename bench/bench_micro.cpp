// bench/bench_micro.cpp — Google Benchmark micro-benchmarks of the engine's
// inner loops: the array math (graph/simd/vmath.hpp) on the vector and the
// scalar path, and evaluate() on in-process layered models. Whole-process
// figures (load, memory, the NumPy peer) are bench/run.sh's job.
//
//   bench_micro [--benchmark_filter=REGEX] [--benchmark_min_time=0.2] ...
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

#include "graph/evaluation.hpp"
#include "graph/model.hpp"
#include "graph/scale_axis.hpp"
#include "graph/simd/vmath.hpp"

namespace {

namespace vm = capgraph::detail::vmath;

std::vector<double> log_probabilities(std::size_t n) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(-8.0, 1.0);
  std::vector<double> x(n);
  for (double& v : x) v = -std::pow(10.0, u(rng));
  return x;
}

template <void (*F)(const double*, double*, std::size_t)>
void BM_array(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  const auto path = static_cast<vm::SimdPath>(st.range(1));  // 0 scalar, 1 AVX2, 2 AVX-512
  vm::set_simd_cap(path);
  if (vm::simd_path() != path) st.SkipWithError("this CPU does not have that vector path");
  const std::vector<double> x = log_probabilities(n);
  std::vector<double> y(n);
  for (auto _ : st) {
    F(x.data(), y.data(), n);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()) * st.range(0));
  vm::set_simd_allowed(true);
}
BENCHMARK_TEMPLATE(BM_array, vm::exp)->ArgNames({"n", "simd"})->Args({1024, 0})->Args({1024, 1})->Args({1024, 2});
BENCHMARK_TEMPLATE(BM_array, vm::log1mexp)->ArgNames({"n", "simd"})->Args({1024, 0})->Args({1024, 1})->Args({1024, 2});
BENCHMARK_TEMPLATE(BM_array, vm::log_sigmoid)->ArgNames({"n", "simd"})->Args({1024, 0})->Args({1024, 1})->Args({1024, 2});

// A layered model like bench/gen_spec.py's, built in memory: 40% logistic
// skills, tasks over 2-4 earlier nodes (half from the previous layer),
// gates all 70% / any 20% / mean 10%.
capgraph::Model layered_model(std::size_t nodes) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  capgraph::ModelSpec spec;
  spec.name = "bench";
  const std::size_t leaves = nodes * 2 / 5;
  for (std::size_t i = 0; i < nodes; ++i) {
    capgraph::NodeSpec n;
    n.id = "n" + std::to_string(i);
    if (i < leaves) {
      n.curve.kind = capgraph::CurveKind::logistic;
      n.curve.mid = std::pow(10.0, 8 + 5 * u(rng));
      n.curve.slope = 0.5 + 3 * u(rng);
    } else {
      n.is_task = true;
      const double g = u(rng);
      n.gate = g < 0.7 ? capgraph::GateKind::all : g < 0.9 ? capgraph::GateKind::any : capgraph::GateKind::mean;
      const std::size_t refs = 2 + rng() % 3;
      for (std::size_t r = 0; r < refs; ++r) {
        const std::size_t lo = r % 2 == 0 && i > leaves + 16 ? i - 16 : 0;
        std::size_t c = lo + rng() % (i - lo);
        bool dup = false;
        for (const auto& use : n.uses) dup |= use.node == c;
        if (!dup) n.uses.push_back(capgraph::Use{c, 1.0 + static_cast<double>(rng() % 2), {}});
      }
    }
    spec.nodes.push_back(std::move(n));
  }
  return capgraph::Model::compile(std::move(spec));
}

void BM_evaluate(benchmark::State& st) {
  const auto nodes = static_cast<std::size_t>(st.range(0));
  const auto points = static_cast<int>(st.range(1));
  vm::set_simd_cap(static_cast<vm::SimdPath>(st.range(2)));  // 0 scalar, 1 AVX2, 2 AVX-512
  const capgraph::Model model = layered_model(nodes);
  const auto xs = capgraph::ScaleAxis::log_spaced(1e8, 1e13, points);
  capgraph::EvalOptions eo;
  eo.keep = std::vector<std::size_t>{model.size() - 1};
  for (auto _ : st) {
    capgraph::Evaluation ev = capgraph::evaluate(model, xs, eo);
    benchmark::DoNotOptimize(ev.log_p(model.size() - 1, 0));
  }
  st.counters["ns_per_node_point"] = benchmark::Counter(
      static_cast<double>(nodes) * points, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  vm::set_simd_allowed(true);
}
BENCHMARK(BM_evaluate)
    ->ArgNames({"nodes", "points", "simd"})
    ->Args({1000, 1, 2})
    ->Args({1000, 1000, 0})
    ->Args({1000, 1000, 1})
    ->Args({1000, 1000, 2})
    ->Args({10000, 100, 2})
    ->Args({10000, 1000, 1})
    ->Args({10000, 1000, 2})
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
