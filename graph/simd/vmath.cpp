// capgraph/graph/simd/vmath.cpp — dispatch between the SIMD bodies
// (vmath_avx512.cpp, vmath_avx2.cpp; vmath_lanes.hpp) and the scalar
// reference forms (curve_eval.cpp).
#include "graph/simd/vmath.hpp"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "graph/curve_eval.hpp"
#include "graph/simd/vmath_simd.hpp"

namespace capgraph::detail::vmath {

namespace {

// The widest vector path this CPU has and CAPGRAPH_SIMD allows
// (0: scalar; avx2: at most AVX2).
SimdPath detect() {
#if defined(CAPGRAPH_HAVE_SIMD_KERNELS)
  const char* env = std::getenv("CAPGRAPH_SIMD");
  if (env && std::strcmp(env, "0") == 0) return SimdPath::scalar;
  __builtin_cpu_init();
  if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return SimdPath::scalar;
  if (env && std::strcmp(env, "avx2") == 0) return SimdPath::avx2;
  return __builtin_cpu_supports("avx512f") ? SimdPath::avx512 : SimdPath::avx2;
#else
  return SimdPath::scalar;
#endif
}

const SimdPath kBest = detect();
std::atomic<SimdPath> g_cap{SimdPath::avx512};

inline const Kernels* kernels() {
#if defined(CAPGRAPH_HAVE_SIMD_KERNELS)
  const SimdPath cap = g_cap.load(std::memory_order_relaxed);
  const SimdPath path = cap < kBest ? cap : kBest;
  if (path == SimdPath::avx512) return &avx512_kernels();
  if (path == SimdPath::avx2) return &avx2_kernels();
#endif
  return nullptr;
}

}  // namespace

SimdPath simd_path() {
  const SimdPath cap = g_cap.load();
  return cap < kBest ? cap : kBest;
}
bool simd_enabled() { return simd_path() != SimdPath::scalar; }
void set_simd_allowed(bool allowed) { g_cap.store(allowed ? SimdPath::avx512 : SimdPath::scalar); }
void set_simd_cap(SimdPath cap) { g_cap.store(cap); }

// Fewer than four values (one scale point: `eval`, `bottleneck` and its
// re-evaluations) go the scalar way: a padded vector call costs more than
// one scalar call.
#define CAPGRAPH_VMATH_DISPATCH(fn, ...) \
  if (n >= 4)                              \
    if (const Kernels* k = kernels()) return k->fn(__VA_ARGS__)

void exp(const double* in, double* out, std::size_t n) {
  CAPGRAPH_VMATH_DISPATCH(exp, in, out, n);
  for (std::size_t i = 0; i < n; ++i) out[i] = std::exp(in[i]);
}

void log(const double* in, double* out, std::size_t n) {
  CAPGRAPH_VMATH_DISPATCH(log, in, out, n);
  for (std::size_t i = 0; i < n; ++i) out[i] = std::log(in[i]);
}

void expm1(const double* in, double* out, std::size_t n) {
  CAPGRAPH_VMATH_DISPATCH(expm1, in, out, n);
  for (std::size_t i = 0; i < n; ++i) out[i] = std::expm1(in[i]);
}

void log1p(const double* in, double* out, std::size_t n) {
  CAPGRAPH_VMATH_DISPATCH(log1p, in, out, n);
  for (std::size_t i = 0; i < n; ++i) out[i] = std::log1p(in[i]);
}

void log1mexp(const double* in, double* out, std::size_t n) {
  CAPGRAPH_VMATH_DISPATCH(log1mexp, in, out, n);
  for (std::size_t i = 0; i < n; ++i) out[i] = capgraph::log1mexp(in[i]);
}

void log_sigmoid(const double* in, double* out, std::size_t n) {
  CAPGRAPH_VMATH_DISPATCH(log_sigmoid, in, out, n);
  for (std::size_t i = 0; i < n; ++i) out[i] = capgraph::log_sigmoid(in[i]);
}

void logaddexp_const(double c, const double* in, double* out, std::size_t n) {
  CAPGRAPH_VMATH_DISPATCH(logaddexp_const, c, in, out, n);
  for (std::size_t i = 0; i < n; ++i) out[i] = capgraph::logaddexp(c, in[i]);
}

void logaddexp(const double* a, const double* b, double* out, std::size_t n) {
  CAPGRAPH_VMATH_DISPATCH(logaddexp, a, b, out, n);
  for (std::size_t i = 0; i < n; ++i) out[i] = capgraph::logaddexp(a[i], b[i]);
}

void exp_and_complement(const double* in, double* p, double* q, std::size_t n) {
  CAPGRAPH_VMATH_DISPATCH(exp_and_complement, in, p, q, n);
  for (std::size_t i = 0; i < n; ++i) {
    p[i] = std::exp(in[i]);
    q[i] = -std::expm1(in[i]);
  }
}

#undef CAPGRAPH_VMATH_DISPATCH

}  // namespace capgraph::detail::vmath
