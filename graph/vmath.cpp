// capgraph/graph/vmath.cpp — dispatch between the AVX2 bodies
// (vmath_avx2.cpp) and the scalar reference forms (curve_eval.cpp).
#include "graph/vmath.hpp"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "graph/curve_eval.hpp"

#if defined(CAPGRAPH_HAVE_AVX2_KERNELS)
#include "graph/vmath_avx2.hpp"
#endif

namespace capgraph::detail::vmath {

namespace {

bool cpu_and_environment_allow() {
#if defined(CAPGRAPH_HAVE_AVX2_KERNELS)
  const char* env = std::getenv("CAPGRAPH_SIMD");
  if (env && std::strcmp(env, "0") == 0) return false;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

const bool kAvailable = cpu_and_environment_allow();
std::atomic<bool> g_allowed{true};

inline bool use_simd() { return kAvailable && g_allowed.load(std::memory_order_relaxed); }

}  // namespace

bool simd_enabled() { return use_simd(); }
void set_simd_allowed(bool allowed) { g_allowed.store(allowed); }

#if defined(CAPGRAPH_HAVE_AVX2_KERNELS)
// Fewer than four values (one scale point: `eval`, `bottleneck` and its
// re-evaluations) go the scalar way: a padded four-lane call costs more
// than one scalar call.
#define CAPGRAPH_VMATH_DISPATCH(call) \
  if (n >= 4 && use_simd()) return avx2::call
#else
#define CAPGRAPH_VMATH_DISPATCH(call) (void)0
#endif

void exp(const double* in, double* out, std::size_t n) {
  CAPGRAPH_VMATH_DISPATCH(exp(in, out, n));
  for (std::size_t i = 0; i < n; ++i) out[i] = std::exp(in[i]);
}

void log(const double* in, double* out, std::size_t n) {
  CAPGRAPH_VMATH_DISPATCH(log(in, out, n));
  for (std::size_t i = 0; i < n; ++i) out[i] = std::log(in[i]);
}

void log1mexp(const double* in, double* out, std::size_t n) {
  CAPGRAPH_VMATH_DISPATCH(log1mexp(in, out, n));
  for (std::size_t i = 0; i < n; ++i) out[i] = capgraph::log1mexp(in[i]);
}

void log_sigmoid(const double* in, double* out, std::size_t n) {
  CAPGRAPH_VMATH_DISPATCH(log_sigmoid(in, out, n));
  for (std::size_t i = 0; i < n; ++i) out[i] = capgraph::log_sigmoid(in[i]);
}

void logaddexp_const(double c, const double* in, double* out, std::size_t n) {
  CAPGRAPH_VMATH_DISPATCH(logaddexp_const(c, in, out, n));
  for (std::size_t i = 0; i < n; ++i) out[i] = capgraph::logaddexp(c, in[i]);
}

void exp_and_complement(const double* in, double* p, double* q, std::size_t n) {
  CAPGRAPH_VMATH_DISPATCH(exp_and_complement(in, p, q, n));
  for (std::size_t i = 0; i < n; ++i) {
    p[i] = std::exp(in[i]);
    q[i] = -std::expm1(in[i]);
  }
}

#undef CAPGRAPH_VMATH_DISPATCH

}  // namespace capgraph::detail::vmath
