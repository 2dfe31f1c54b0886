// capgraph/graph/vmath_avx2.cpp — internal: the AVX2 + FMA bodies of
// vmath.hpp, four doubles at a time through glibc's libmvec.
//
// This file alone is compiled with -mavx2 -mfma (CMakeLists.txt), and
// vmath.cpp calls it only after checking the CPU. It includes no C++
// library header beyond <cstddef>, so no inline function compiled for AVX2
// can be picked by the linker for code that runs on other CPUs.
#include "graph/vmath_avx2.hpp"

#include <immintrin.h>

#include <cstddef>

extern "C" {
// glibc libmvec, AVX2 ABI ("d", 4 lanes).
__m256d _ZGVdN4v_exp(__m256d);
__m256d _ZGVdN4v_log(__m256d);
__m256d _ZGVdN4v_log1p(__m256d);
__m256d _ZGVdN4v_expm1(__m256d);
}

namespace capgraph::detail::vmath::avx2 {

namespace {

const __m256d kZero = _mm256_setzero_pd();
const __m256d kSign = _mm256_set1_pd(-0.0);
const __m256d kMinusLn2 = _mm256_set1_pd(-0.6931471805599453);
const __m256d kNegInf = _mm256_set1_pd(-__builtin_inf());

inline __m256d neg(__m256d a) { return _mm256_xor_pd(a, kSign); }

// ln(1 - e^a): log(-expm1(a)) where a > -ln 2, else log1p(-exp(a)); the
// other branch is skipped when no lane needs it.
inline __m256d log1mexp4(__m256d a) {
  const __m256d near = _mm256_cmp_pd(a, kMinusLn2, _CMP_GT_OQ);
  const int mask = _mm256_movemask_pd(near);
  if (mask == 0) return _ZGVdN4v_log1p(neg(_ZGVdN4v_exp(a)));
  if (mask == 0xF) return _ZGVdN4v_log(neg(_ZGVdN4v_expm1(a)));
  const __m256d far_v = _ZGVdN4v_log1p(neg(_ZGVdN4v_exp(a)));
  const __m256d near_v = _ZGVdN4v_log(neg(_ZGVdN4v_expm1(a)));
  return _mm256_blendv_pd(far_v, near_v, near);
}

// ln sigmoid(z) = min(z, 0) - log1p(exp(-|z|))
inline __m256d log_sigmoid4(__m256d z) {
  const __m256d abs = _mm256_andnot_pd(kSign, z);
  return _mm256_sub_pd(_mm256_min_pd(z, kZero), _ZGVdN4v_log1p(_ZGVdN4v_exp(neg(abs))));
}

// ln(e^c + e^b), exact when either is -inf.
inline __m256d logaddexp4(__m256d c, __m256d b) {
  const __m256d m = _mm256_max_pd(c, b);
  const __m256d d = _mm256_andnot_pd(kSign, _mm256_sub_pd(c, b));  // NaN when both are -inf
  __m256d r = _mm256_add_pd(m, _ZGVdN4v_log1p(_ZGVdN4v_exp(neg(d))));
  // Where either is -inf the answer is the other one.
  r = _mm256_blendv_pd(r, b, _mm256_cmp_pd(c, kNegInf, _CMP_EQ_OQ));
  r = _mm256_blendv_pd(r, c, _mm256_cmp_pd(b, kNegInf, _CMP_EQ_OQ));
  return r;
}

// Applies f to whole vectors, then to the tail padded with `pad`.
template <class F>
inline void map(const double* in, double* out, std::size_t n, double pad, F f) {
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) _mm256_storeu_pd(out + i, f(_mm256_loadu_pd(in + i)));
  if (i < n) {
    alignas(32) double t[4] = {pad, pad, pad, pad};
    for (std::size_t k = 0; i + k < n; ++k) t[k] = in[i + k];
    _mm256_store_pd(t, f(_mm256_load_pd(t)));
    for (std::size_t k = 0; i + k < n; ++k) out[i + k] = t[k];
  }
}

}  // namespace

void exp(const double* in, double* out, std::size_t n) { map(in, out, n, 0.0, [](__m256d a) { return _ZGVdN4v_exp(a); }); }
void log(const double* in, double* out, std::size_t n) { map(in, out, n, 1.0, [](__m256d a) { return _ZGVdN4v_log(a); }); }
void log1mexp(const double* in, double* out, std::size_t n) { map(in, out, n, -1.0, log1mexp4); }
void log_sigmoid(const double* in, double* out, std::size_t n) { map(in, out, n, 0.0, log_sigmoid4); }
void logaddexp_const(double c, const double* in, double* out, std::size_t n) {
  const __m256d cv = _mm256_set1_pd(c);
  map(in, out, n, 0.0, [cv](__m256d b) { return logaddexp4(cv, b); });
}
void exp_and_complement(const double* in, double* p, double* q, std::size_t n) {
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d a = _mm256_loadu_pd(in + i);
    _mm256_storeu_pd(p + i, _ZGVdN4v_exp(a));
    _mm256_storeu_pd(q + i, neg(_ZGVdN4v_expm1(a)));
  }
  if (i < n) {
    alignas(32) double t[4] = {0, 0, 0, 0}, tp[4], tq[4];
    for (std::size_t k = 0; i + k < n; ++k) t[k] = in[i + k];
    const __m256d a = _mm256_load_pd(t);
    _mm256_store_pd(tp, _ZGVdN4v_exp(a));
    _mm256_store_pd(tq, neg(_ZGVdN4v_expm1(a)));
    for (std::size_t k = 0; i + k < n; ++k) {
      p[i + k] = tp[k];
      q[i + k] = tq[k];
    }
  }
}

}  // namespace capgraph::detail::vmath::avx2
