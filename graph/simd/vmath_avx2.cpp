// capgraph/graph/simd/vmath_avx2.cpp — internal: vmath.hpp's array functions
// four doubles at a time, AVX2 + FMA, through glibc's libmvec ("d" ABI).
//
// This file alone is compiled with -mavx2 -mfma (CMakeLists.txt), and
// vmath.cpp calls it only after checking the CPU. The bodies are
// vmath_lanes.hpp's, over the lane set below.
#include <immintrin.h>

#include <cstddef>

#include "graph/simd/vmath_lanes.hpp"

extern "C" {
__m256d _ZGVdN4v_exp(__m256d);
__m256d _ZGVdN4v_log(__m256d);
__m256d _ZGVdN4v_log1p(__m256d);
__m256d _ZGVdN4v_expm1(__m256d);
}

namespace capgraph::detail::vmath {
namespace {

struct Avx2 {
  using v = __m256d;
  using m = __m256d;  // a lane is all ones where the compare held
  static constexpr std::size_t kWidth = 4;
  static v load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, v a) { _mm256_storeu_pd(p, a); }
  static v set1(double x) { return _mm256_set1_pd(x); }
  static v exp(v a) { return _ZGVdN4v_exp(a); }
  static v log(v a) { return _ZGVdN4v_log(a); }
  static v log1p(v a) { return _ZGVdN4v_log1p(a); }
  static v expm1(v a) { return _ZGVdN4v_expm1(a); }
  static v neg(v a) { return _mm256_xor_pd(a, _mm256_set1_pd(-0.0)); }
  static v abs(v a) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a); }
  static v min(v a, v b) { return _mm256_min_pd(a, b); }
  static v max(v a, v b) { return _mm256_max_pd(a, b); }
  static v add(v a, v b) { return _mm256_add_pd(a, b); }
  static v sub(v a, v b) { return _mm256_sub_pd(a, b); }
  static m gt(v a, v b) { return _mm256_cmp_pd(a, b, _CMP_GT_OQ); }
  static m eq(v a, v b) { return _mm256_cmp_pd(a, b, _CMP_EQ_OQ); }
  static bool none(m k) { return _mm256_movemask_pd(k) == 0; }
  static bool all(m k) { return _mm256_movemask_pd(k) == 0xF; }
  static v select(m k, v if_true, v if_false) { return _mm256_blendv_pd(if_false, if_true, k); }
};

}  // namespace

const Kernels& avx2_kernels() { return Lanes<Avx2>::kKernels; }

}  // namespace capgraph::detail::vmath
