// capgraph/graph/simd/vmath_lanes.hpp — internal: vmath.hpp's array functions
// written once over a SIMD "lane set" V, for the ISA files that include it
// (vmath_avx2.cpp: 4 doubles per vector; vmath_avx512.cpp: 8).
//
// V provides: type v (a vector) and m (a lane mask); load, store, set1;
// the libmvec calls exp, log, log1p, expm1 (glibc's vector math library;
// their accuracy and this folder's guarantee: vmath.hpp); neg, abs, min, max, sub, add; gt and eq (ordered
// compares to a mask), none and all (of a mask), select(mask, if_true,
// if_false).
//
// Only vmath_avx2.cpp and vmath_avx512.cpp include this, each compiled for
// its own ISA; everything here has internal linkage (an unnamed namespace),
// so no function compiled for one ISA can be picked by the linker for code
// that runs on another. No C++ library header is included for the same
// reason.
#pragma once

#include <cstddef>

#include "vmath_simd.hpp"

namespace capgraph::detail::vmath {
namespace {

template <class V>
struct Lanes {
  using v = typename V::v;

  // e^a. Where a < -746, e^a rounds to +0 (so does -inf): those lanes are
  // set to +0 here, because libmvec sends every lane past its range through
  // its slow path, one scalar call each, and ln P far below -708 is common
  // (deep `all` cones at small scale: 3% of a 100k x 1,000 evaluation's
  // time was that path). The bits are the scalar exp's either way.
  static v exp0(v a) {
    const auto zero = V::gt(V::set1(-746.0), a);
    if (V::none(zero)) return V::exp(a);
    const v z = V::set1(0.0);
    return V::select(zero, z, V::exp(V::select(zero, z, a)));
  }

  // ln(1 - e^a): log(-expm1(a)) where a > -ln 2, else log1p(-exp(a)); the
  // other branch is skipped when no lane needs it.
  static v log1mexp(v a) {
    const auto near = V::gt(a, V::set1(-0.6931471805599453));
    if (V::none(near)) return V::log1p(V::neg(exp0(a)));
    if (V::all(near)) return V::log(V::neg(V::expm1(a)));
    return V::select(near, V::log(V::neg(V::expm1(a))), V::log1p(V::neg(exp0(a))));
  }

  // ln sigmoid(z) = min(z, 0) - log1p(exp(-|z|))
  static v log_sigmoid(v z) { return V::sub(V::min(z, V::set1(0.0)), V::log1p(exp0(V::neg(V::abs(z))))); }

  // ln(e^c + e^b), exact when either is -inf.
  static v logaddexp(v c, v b) {
    const v m = V::max(c, b);
    const v d = V::abs(V::sub(c, b));  // NaN when both are -inf
    v r = V::add(m, V::log1p(exp0(V::neg(d))));
    const v ninf = V::set1(-__builtin_inf());
    r = V::select(V::eq(c, ninf), b, r);  // where either is -inf the answer is the other one
    r = V::select(V::eq(b, ninf), c, r);
    return r;
  }

  // Applies f to whole vectors, then to the tail padded with `pad`.
  template <class F>
  static void map(const double* in, double* out, std::size_t n, double pad, F f) {
    std::size_t i = 0;
    for (; i + V::kWidth <= n; i += V::kWidth) V::store(out + i, f(V::load(in + i)));
    if (i < n) {
      alignas(64) double t[V::kWidth];
      for (std::size_t k = 0; k < V::kWidth; ++k) t[k] = i + k < n ? in[i + k] : pad;
      V::store(t, f(V::load(t)));
      for (std::size_t k = 0; i + k < n; ++k) out[i + k] = t[k];
    }
  }

  static void exp_a(const double* in, double* out, std::size_t n) { map(in, out, n, 0.0, exp0); }
  static void log_a(const double* in, double* out, std::size_t n) { map(in, out, n, 1.0, V::log); }
  static void expm1_a(const double* in, double* out, std::size_t n) { map(in, out, n, 0.0, V::expm1); }
  static void log1p_a(const double* in, double* out, std::size_t n) { map(in, out, n, 0.0, V::log1p); }
  static void log1mexp_a(const double* in, double* out, std::size_t n) { map(in, out, n, -1.0, log1mexp); }
  static void log_sigmoid_a(const double* in, double* out, std::size_t n) { map(in, out, n, 0.0, log_sigmoid); }
  static void logaddexp_const_a(double c, const double* in, double* out, std::size_t n) {
    const v cv = V::set1(c);
    map(in, out, n, 0.0, [cv](v b) { return logaddexp(cv, b); });
  }
  static void logaddexp_a(const double* a, const double* b, double* out, std::size_t n) {
    std::size_t i = 0;
    for (; i + V::kWidth <= n; i += V::kWidth) V::store(out + i, logaddexp(V::load(a + i), V::load(b + i)));
    if (i < n) {
      alignas(64) double ta[V::kWidth], tb[V::kWidth];
      for (std::size_t k = 0; k < V::kWidth; ++k) {
        ta[k] = i + k < n ? a[i + k] : 0.0;
        tb[k] = i + k < n ? b[i + k] : 0.0;
      }
      V::store(ta, logaddexp(V::load(ta), V::load(tb)));
      for (std::size_t k = 0; i + k < n; ++k) out[i + k] = ta[k];
    }
  }
  static void exp_and_complement_a(const double* in, double* p, double* q, std::size_t n) {
    std::size_t i = 0;
    for (; i + V::kWidth <= n; i += V::kWidth) {
      const v a = V::load(in + i);
      V::store(p + i, exp0(a));
      V::store(q + i, V::neg(V::expm1(a)));
    }
    if (i < n) {
      alignas(64) double t[V::kWidth], tp[V::kWidth], tq[V::kWidth];
      for (std::size_t k = 0; k < V::kWidth; ++k) t[k] = i + k < n ? in[i + k] : 0.0;
      const v a = V::load(t);
      V::store(tp, exp0(a));
      V::store(tq, V::neg(V::expm1(a)));
      for (std::size_t k = 0; i + k < n; ++k) {
        p[i + k] = tp[k];
        q[i + k] = tq[k];
      }
    }
  }

  static constexpr Kernels kKernels{exp_a,         log_a,       expm1_a,    log1p_a,
                                    log1mexp_a,    log_sigmoid_a, logaddexp_const_a, logaddexp_a,
                                    exp_and_complement_a};
};

}  // namespace
}  // namespace capgraph::detail::vmath
