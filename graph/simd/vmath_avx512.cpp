// capgraph/graph/simd/vmath_avx512.cpp — internal: vmath.hpp's array functions
// eight doubles at a time, AVX-512F, through glibc's libmvec ("e" ABI).
//
// This file alone is compiled with -mavx512f (CMakeLists.txt), and
// vmath.cpp calls it only after checking the CPU. The bodies are
// vmath_lanes.hpp's, over the lane set below. On the benchmark machine
// (AMD EPYC, AVX-512) libmvec's 8-lane exp, log and log1p take 0.88, 1.04
// and 0.90 ns per value against 1.27, 1.57 and 1.98 for the 4-lane ones.
// GCC 12's AVX-512 intrinsics pass _mm512_undefined_*() as the masked-off
// source and then warn that it "may be used uninitialized" (GCC bug 105593,
// fixed in GCC 13); the warning says nothing about this file.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include <cstddef>

#include "graph/simd/vmath_lanes.hpp"

extern "C" {
__m512d _ZGVeN8v_exp(__m512d);
__m512d _ZGVeN8v_log(__m512d);
__m512d _ZGVeN8v_log1p(__m512d);
__m512d _ZGVeN8v_expm1(__m512d);
}

namespace capgraph::detail::vmath {
namespace {

struct Avx512 {
  using v = __m512d;
  using m = __mmask8;
  static constexpr std::size_t kWidth = 8;
  static v load(const double* p) { return _mm512_loadu_pd(p); }
  static void store(double* p, v a) { _mm512_storeu_pd(p, a); }
  static v set1(double x) { return _mm512_set1_pd(x); }
  static v exp(v a) { return _ZGVeN8v_exp(a); }
  static v log(v a) { return _ZGVeN8v_log(a); }
  static v log1p(v a) { return _ZGVeN8v_log1p(a); }
  static v expm1(v a) { return _ZGVeN8v_expm1(a); }
  // Sign flips and masks through the integer lanes (plain AVX-512F has no
  // xor_pd / andnot_pd on 512-bit vectors; those are AVX512DQ).
  static v neg(v a) {
    return _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(a), _mm512_set1_epi64(kSignBit)));
  }
  static v abs(v a) {
    return _mm512_castsi512_pd(_mm512_andnot_si512(_mm512_set1_epi64(kSignBit), _mm512_castpd_si512(a)));
  }
  static v min(v a, v b) { return _mm512_min_pd(a, b); }
  static v max(v a, v b) { return _mm512_max_pd(a, b); }
  static v add(v a, v b) { return _mm512_add_pd(a, b); }
  static v sub(v a, v b) { return _mm512_sub_pd(a, b); }
  static m gt(v a, v b) { return _mm512_cmp_pd_mask(a, b, _CMP_GT_OQ); }
  static m eq(v a, v b) { return _mm512_cmp_pd_mask(a, b, _CMP_EQ_OQ); }
  static bool none(m k) { return k == 0; }
  static bool all(m k) { return k == 0xFF; }
  static v select(m k, v if_true, v if_false) { return _mm512_mask_blend_pd(k, if_false, if_true); }

 private:
  static constexpr long long kSignBit = static_cast<long long>(0x8000000000000000ULL);
};

}  // namespace

const Kernels& avx512_kernels() { return Lanes<Avx512>::kKernels; }

}  // namespace capgraph::detail::vmath
