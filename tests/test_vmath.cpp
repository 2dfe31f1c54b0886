// tests/test_vmath.cpp — the vectorised math (graph/simd/vmath.hpp) against the
// scalar reference forms of curve_eval.hpp, and evaluate()'s blocks, kept
// rows and evaluation order against a plain evaluation.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "graph/curve_eval.hpp"
#include "graph/evaluation.hpp"
#include "graph/model.hpp"
#include "graph/node_kernels.hpp"
#include "graph/scale_axis.hpp"
#include "graph/simd/vmath.hpp"
#include "model_builder.hpp"

using namespace capgraph;
namespace vm = capgraph::detail::vmath;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Distance in units in the last place of `scale` (default: the larger of
// the two); 0 when both are the same infinity.
double ulps(double a, double b, double scale = 0) {
  if (a == b) return 0;
  if (!std::isfinite(a) || !std::isfinite(b)) return kInf;
  scale = std::max({scale, std::abs(a), std::abs(b)});
  const double ulp = std::nextafter(scale, kInf) - scale;
  return std::abs(a - b) / ulp;
}

// Inputs covering the ranges the engine uses: ln P from -1e4 to 0 (with the
// special values), logits from -800 to 800; lengths that leave every tail.
std::vector<double> log_probabilities() {
  std::vector<double> x = {-kInf, 0.0, -0.0, -1e-300, -1e-17, -1e-10, -0.6931471805599453, -0.69314718055994,
                           -0.69314718056, -1.0, -36.0, -37.5, -700.0, -745.0, -746.0, -1e4};
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-12.0, 1.0);
  for (int i = 0; i < 2000; ++i) x.push_back(-std::pow(10.0, u(rng)));
  x.push_back(-2.5);  // odd length: a tail
  return x;
}

// `scale(x)`: the magnitude an error is measured against (see logaddexp).
template <class Vec, class Ref, class Scale = double (*)(double)>
double max_ulps(const std::vector<double>& x, Vec vec, Ref ref, Scale scale = [](double) { return 0.0; }) {
  std::vector<double> y(x.size());
  vec(x.data(), y.data(), x.size());
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double r = ref(x[i]);
    INFO("x = " << x[i] << ", vector " << y[i] << ", scalar " << r);
    CHECK(std::isnan(y[i]) == std::isnan(r));
    if (std::isinf(r) || r == 0) {
      CHECK(y[i] == r);
      continue;
    }
    worst = std::max(worst, ulps(y[i], r, scale(x[i])));
  }
  return worst;
}

}  // namespace

// glibc documents at most 4 ulp for each libmvec function; a composite (two
// calls and a sum) may add them: 8 ulp (1.8e-15 relative) is the bound here.
TEST_CASE("vmath: every array function within 8 ulp of the scalar formula on every path of this CPU, special values exact", "[vmath]") {
  for (const vm::SimdPath path : {vm::SimdPath::avx512, vm::SimdPath::avx2}) {
    vm::set_simd_cap(path);
    if (vm::simd_path() != path) continue;  // the CPU does not have it
    INFO("vector path " << (path == vm::SimdPath::avx512 ? "AVX-512 (8 lanes)" : "AVX2 (4 lanes)"));
    const auto lp = log_probabilities();
    std::vector<double> z;
    for (double v : lp) {
      if (std::isfinite(v) && v > -800) {
        z.push_back(v);
        z.push_back(-v);
      }
    }
    CHECK(max_ulps(lp, vm::exp, [](double a) { return std::exp(a); }) <= 8);
    CHECK(max_ulps(lp, vm::log1mexp, [](double a) { return log1mexp(a); }) <= 8);
    CHECK(max_ulps(z, vm::log_sigmoid, [](double a) { return log_sigmoid(a); }) <= 8);
    std::vector<double> pos;
    for (double v : lp)
      if (v != 0) pos.push_back(-v);  // (0, inf]
    pos.push_back(0.0);
    CHECK(max_ulps(pos, vm::log, [](double a) { return std::log(a); }) <= 8);
    CHECK(max_ulps(z, vm::expm1, [](double a) { return std::expm1(a); }) <= 8);
    std::vector<double> above_minus_one = pos;  // (-1, inf]: log1p's domain
    for (double v : lp)
      if (v > -700) above_minus_one.push_back(-std::exp(v) * 0.999);
    CHECK(max_ulps(above_minus_one, vm::log1p, [](double a) { return std::log1p(a); }) <= 8);
    // ln(e^c + e^a) = max + log1p(...) cancels when the result is near 0 (both
    // paths): the error is measured against the larger argument's ulp.
    for (double c : {-kInf, -700.0, -3.0, -0.1}) {
      INFO("c = " << c);
      CHECK(max_ulps(
                lp, [c](const double* in, double* out, std::size_t n) { vm::logaddexp_const(c, in, out, n); },
                [c](double a) { return logaddexp(c, a); },
                [c](double a) { return std::isfinite(std::max(c, a)) ? std::abs(std::max(c, a)) : 0.0; }) <= 8);
    }
    // ln(e^a + e^b) of two arrays: every pair of the special values and a
    // sample of the rest, in both orders.
    std::vector<double> a, bb;
    for (std::size_t i = 0; i < lp.size(); i += 7)
      for (std::size_t k = 0; k < 16; ++k) a.push_back(lp[i]), bb.push_back(lp[k]);
    std::vector<double> sum(a.size());
    vm::logaddexp(a.data(), bb.data(), sum.data(), a.size());
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const double r = logaddexp(a[i], bb[i]), big = std::max(a[i], bb[i]);
      INFO("a = " << a[i] << ", b = " << bb[i] << ", vector " << sum[i] << ", scalar " << r);
      if (std::isinf(r) || r == 0) {
        CHECK(sum[i] == r);
        continue;
      }
      worst = std::max(worst, ulps(sum[i], r, std::isfinite(big) ? std::abs(big) : 0.0));
    }
    CHECK(worst <= 8);
    std::vector<double> p(lp.size()), q(lp.size());
    vm::exp_and_complement(lp.data(), p.data(), q.data(), lp.size());
    for (std::size_t i = 0; i < lp.size(); ++i) {
      INFO("x = " << lp[i]);
      CHECK(ulps(p[i], std::exp(lp[i])) <= 8);
      CHECK(ulps(q[i], -std::expm1(lp[i])) <= 8);
    }
  }
  vm::set_simd_cap(vm::SimdPath::avx512);
}

// vmath_lanes.hpp sets the lanes below -746 to +0 itself instead of letting
// libmvec take its scalar slow path for them. Past libmvec's fast range
// (below about -708.4) every lane must carry the scalar exp's exact bits,
// +0 included (not -0), whatever the other lanes of its vector hold; and
// exp's uses inside the composites must give the scalar formula there too.
TEST_CASE("vmath: exp far below zero has the scalar exp's exact bits, mixed with ordinary lanes", "[vmath]") {
  const std::vector<double> far = {-kInf, -1e4,   -800.0,   -746.0000001, -746.0, -745.99,
                                   -745.5, -745.13, -745.1, -740.0,       -720.0, -708.5};
  const std::vector<double> ordinary = {-0.5, -3.0, -50.0, -700.0};
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<std::size_t> pick_far(0, far.size() - 1), pick_ord(0, ordinary.size() - 1);
  std::bernoulli_distribution is_far(0.6);
  std::vector<double> x;
  for (int i = 0; i < 4003; ++i) x.push_back(is_far(rng) ? far[pick_far(rng)] : ordinary[pick_ord(rng)]);
  auto bits = [](double v) {
    std::uint64_t b;
    std::memcpy(&b, &v, sizeof b);
    return b;
  };
  for (const vm::SimdPath path : {vm::SimdPath::avx512, vm::SimdPath::avx2, vm::SimdPath::scalar}) {
    vm::set_simd_cap(path);
    if (vm::simd_path() != path) continue;
    INFO("path " << static_cast<int>(path));
    std::vector<double> y(x.size()), p(x.size()), q(x.size()), l(x.size());
    vm::exp(x.data(), y.data(), x.size());
    vm::exp_and_complement(x.data(), p.data(), q.data(), x.size());
    vm::log1mexp(x.data(), l.data(), x.size());
    std::size_t far_lanes = 0, zeros = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (x[i] > -708.5) continue;
      ++far_lanes;
      INFO("x = " << x[i] << ", vector " << y[i] << ", scalar " << std::exp(x[i]));
      CHECK(bits(y[i]) == bits(std::exp(x[i])));
      CHECK(bits(p[i]) == bits(std::exp(x[i])));
      CHECK(q[i] == 1.0);
      CHECK(std::abs(l[i] - std::log1p(-std::exp(x[i]))) <= 1e-300);  // -e^x or 0: subnormal at most
      zeros += y[i] == 0;
    }
    CHECK(far_lanes > 2000);
    CHECK(zeros > 1000);           // lanes set to +0 ...
    CHECK(zeros < far_lanes);      // ... and subnormal results still computed
  }
  vm::set_simd_cap(vm::SimdPath::avx512);
}

TEST_CASE("vmath: in place, and the scalar path can be forced", "[vmath]") {
  std::vector<double> x = {-0.1, -1, -2, -3, -4, -5, -6};
  std::vector<double> y = x;
  vm::log1mexp(y.data(), y.data(), y.size());
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(ulps(y[i], log1mexp(x[i])) <= 8);
  vm::set_simd_allowed(false);
  CHECK_FALSE(vm::simd_enabled());
  std::vector<double> s = x;
  vm::log1mexp(s.data(), s.data(), s.size());
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(s[i] == log1mexp(x[i]));  // the scalar path is the reference itself
  vm::set_simd_allowed(true);
}

// Within a block size the numbers are bit-identical whatever the threads and
// kept rows; across block sizes a block's last 1-3 points may take the scalar
// path (graph/simd/vmath.hpp), so they agree to a few ulp.
TEST_CASE("evaluate: blocks, threads and kept rows give the same numbers", "[engine]") {
  std::mt19937_64 rng(2024);
  for (int trial = 0; trial < 40; ++trial) {
    testing::RandomModelOptions o;
    o.leaves = 5 + static_cast<int>(rng() % 10);
    o.tasks = 5 + static_cast<int>(rng() % 20);
    o.shared_fraction = trial % 4 == 0 ? 0.3 : 0.0;
    const Model model = Model::compile(testing::random_smooth_model(rng, o));
    const std::vector<double> xs = ScaleAxis::log_spaced(model.spec().scale.from, model.spec().scale.to, 37);
    const Evaluation ref = evaluate(model, xs);  // every row, automatic block
    const std::size_t n = model.size();
    // Partial credit by its definition (docs/measures.md §3), from ln P alone:
    // evaluate() computes it in reused buffer rows, which this does not.
    std::vector<std::vector<double>> pc_def(n, std::vector<double>(xs.size()));
    for (std::size_t v : model.topological_order()) {
      const NodeSpec& nd = model.node(v);
      for (std::size_t j = 0; j < xs.size(); ++j) {
        if (!nd.is_task || nd.gate != GateKind::all) {
          pc_def[v][j] = std::exp(ref.log_p(v, j));
          continue;
        }
        double num = 0, den = 0;
        for (std::size_t u = model.use_begin(v); u < model.use_end(v); ++u) {
          const double w = model.use_count(u) * model.steps(model.use_child(u));
          num += w * pc_def[model.use_child(u)][j];
          den += w;
        }
        pc_def[v][j] = nd.guess + (1 - nd.guess) * (num / den);
      }
    }

    std::vector<std::size_t> keep;
    for (std::size_t v = 0; v < n; ++v)
      if (rng() % 3 == 0) keep.push_back(v);
    keep.push_back(n - 1);
    for (std::size_t block : {1, 3, 8, 64}) {
      for (unsigned threads : {1u, 2u}) {
        INFO("trial " << trial << ", block " << block << ", threads " << threads);
        EvalOptions eo;
        eo.block_points = block;
        eo.threads = threads;
        const Evaluation all = evaluate(model, xs, eo);
        eo.keep = keep;
        const Evaluation some = evaluate(model, xs, eo);
        for (std::size_t v = 0; v < n; ++v) {
          const bool kept = std::find(keep.begin(), keep.end(), v) != keep.end();
          REQUIRE(some.has_row(v) == kept);
          REQUIRE(all.has_row(v));
          for (std::size_t j = 0; j < xs.size(); ++j) {
            const double a = all.log_p_row(v)[j], r = ref.log_p_row(v)[j];
            REQUIRE((a == r || std::abs(a - r) <= 1e-13 * std::max(1.0, std::abs(r))));
            REQUIRE(std::abs(all.partial_credit(v, j) - ref.partial_credit(v, j)) <= 1e-13);
            REQUIRE(std::abs(all.partial_credit(v, j) - pc_def[v][j]) <= 1e-13);
            if (kept) REQUIRE(std::abs(some.partial_credit(v, j) - pc_def[v][j]) <= 1e-13);
            if (kept) {  // same block size: identical bits
              REQUIRE(std::memcmp(&some.log_p_row(v)[j], &all.log_p_row(v)[j], sizeof(double)) == 0);
              REQUIRE(some.partial_credit(v, j) == all.partial_credit(v, j));
            }
          }
          if (!kept) CHECK_THROWS_AS(some.log_p(v, 0), std::out_of_range);
        }
      }
    }
  }
}

// With `keep`, evaluate() runs only the kept nodes' cones. The cone here is
// found independently, from the spec's references; every kept value must
// carry the bits of the whole evaluation (shared skills included).
TEST_CASE("evaluate: with keep, only the kept nodes' cones are evaluated, with the whole evaluation's bits",
          "[engine]") {
  std::mt19937_64 rng(515);
  std::size_t restricted = 0;
  for (int trial = 0; trial < 40; ++trial) {
    testing::RandomModelOptions o;
    o.leaves = 5 + static_cast<int>(rng() % 20);
    o.tasks = 5 + static_cast<int>(rng() % 40);
    o.shared_fraction = trial % 3 == 0 ? 0.3 : 0.0;
    const Model model = Model::compile(testing::random_smooth_model(rng, o));
    const std::size_t n = model.size();
    const std::vector<double> xs = ScaleAxis::log_spaced(model.spec().scale.from, model.spec().scale.to, 21);
    const Evaluation all = evaluate(model, xs);
    CHECK(all.evaluated_nodes() == n);
    // Keep one or two random nodes.
    std::vector<std::size_t> keep{static_cast<std::size_t>(rng() % n)};
    if (rng() % 2) keep.push_back(static_cast<std::size_t>(rng() % n));
    std::vector<char> in_cone(n, 0);
    std::vector<std::size_t> stack = keep;
    while (!stack.empty()) {
      const std::size_t v = stack.back();
      stack.pop_back();
      if (in_cone[v]) continue;
      in_cone[v] = 1;
      for (const Use& u : model.node(v).uses) stack.push_back(u.node);
    }
    const auto cone = static_cast<std::size_t>(std::count(in_cone.begin(), in_cone.end(), 1));
    for (unsigned threads : {1u, 2u}) {
      EvalOptions eo;
      eo.threads = threads;
      eo.keep = keep;
      const Evaluation some = evaluate(model, xs, eo);
      INFO("trial " << trial << ", threads " << threads << ", cone " << cone << " of " << n);
      REQUIRE(some.evaluated_nodes() == cone);
      restricted += cone < n;
      for (std::size_t v : keep)
        for (std::size_t j = 0; j < xs.size(); ++j) {
          REQUIRE(std::memcmp(&some.log_p_row(v)[j], &all.log_p_row(v)[j], sizeof(double)) == 0);
          REQUIRE(some.partial_credit(v, j) == all.partial_credit(v, j));
        }
    }
  }
  CHECK(restricted > 40);  // most trials really skip part of the model
}

TEST_CASE("evaluate: the evaluation order puts every prerequisite before its task", "[engine]") {
  std::mt19937_64 rng(99);
  for (int trial = 0; trial < 50; ++trial) {
    const Model model = Model::compile(testing::random_smooth_model(rng));
    const auto& order = model.topological_order();
    REQUIRE(order.size() == model.size());
    std::vector<std::size_t> pos(model.size(), model.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
      REQUIRE(pos[order[i]] == model.size());  // each node once
      pos[order[i]] = i;
    }
    for (std::size_t v = 0; v < model.size(); ++v)
      for (std::size_t u = model.use_begin(v); u < model.use_end(v); ++u) REQUIRE(pos[model.use_child(u)] < pos[v]);
  }
}

// evaluate()'s pass over the points exists once per ISA (graph/evaluation.cpp:
// SSE2, AVX2, AVX-512, picked like vmath's path). Each must compute every
// task exactly as the node kernel does on its own (detail::eval_task, built
// for the baseline ISA) from the same children's values: the same bits, not
// merely close. Leaves against the scalar curve formulas.
TEST_CASE("evaluate: every ISA version of the pass gives each task the node kernel's exact bits", "[engine][vmath]") {
  std::mt19937_64 rng(777);
  constexpr std::size_t kPoints = 64, kBlock = 16;  // blocks of >= 4 points: vmath's vector path throughout
  int paths_run = 0;
  for (const vm::SimdPath path : {vm::SimdPath::avx512, vm::SimdPath::avx2, vm::SimdPath::scalar}) {
    vm::set_simd_cap(path);
    if (vm::simd_path() != path) continue;  // the CPU does not have it
    ++paths_run;
    for (int trial = 0; trial < 30; ++trial) {
      testing::RandomModelOptions o;
      o.leaves = 4 + static_cast<int>(rng() % 8);
      o.tasks = 8 + static_cast<int>(rng() % 20);
      o.zero_leaves = trial % 3 == 0;
      o.compute_axis = trial % 5 == 0;
      const Model model = Model::compile(testing::random_smooth_model(rng, o));
      const std::vector<double> xs = ScaleAxis::log_spaced(model.spec().scale.from, model.spec().scale.to, kPoints);
      EvalOptions eo;
      eo.block_points = kBlock;
      eo.threads = 1 + static_cast<unsigned>(trial % 2);
      const Evaluation ev = evaluate(model, xs, eo);
      const std::size_t n = model.size();
      std::vector<double> all(n * kPoints);  // every row, as evaluate() gave it
      for (std::size_t v = 0; v < n; ++v) std::copy_n(ev.log_p_row(v).begin(), kPoints, &all[v * kPoints]);
      detail::Workspace ws;
      std::vector<double> row(kPoints);
      for (std::size_t v = 0; v < n; ++v) {
        INFO("path " << static_cast<int>(path) << ", trial " << trial << ", node " << model.node(v).id);
        const NodeSpec& nd = model.node(v);
        if (!nd.is_task) {
          for (std::size_t j = 0; j < kPoints; ++j) {
            const double r = std::min(
                0.0, leaf_log_p(curve_log_p(nd.curve, model.spec().scale.law, ev.points()[j]), nd.floor, nd.ceiling));
            const double a = all[v * kPoints + j];
            if (std::isinf(r)) REQUIRE(a == r);
            else REQUIRE(std::abs(a - r) <= 1e-13 * std::max(1.0, std::abs(r)));
          }
          continue;
        }
        for (std::size_t j0 = 0; j0 < kPoints; j0 += kBlock)
          detail::eval_task(model, v, all.data(), kPoints, row.data(), j0, j0 + kBlock, ws);
        REQUIRE(std::memcmp(row.data(), &all[v * kPoints], kPoints * sizeof(double)) == 0);
      }
    }
  }
  vm::set_simd_cap(vm::SimdPath::avx512);
  REQUIRE(paths_run >= 1);
}
