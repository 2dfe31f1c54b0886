// capgraph/graph/vmath_avx2.hpp — internal: the AVX2 + FMA bodies of
// vmath.hpp's functions (defined in vmath_avx2.cpp, which alone is compiled
// with -mavx2 -mfma). Call them only where vmath.cpp has checked the CPU.
// This header includes no C++ library header beyond <cstddef>, so that
// vmath_avx2.cpp stays free of inline library code compiled for AVX2.
#pragma once

#include <cstddef>

namespace capgraph::detail::vmath::avx2 {

void exp(const double* in, double* out, std::size_t n);
void log(const double* in, double* out, std::size_t n);
void log1mexp(const double* in, double* out, std::size_t n);
void log_sigmoid(const double* in, double* out, std::size_t n);
void logaddexp_const(double c, const double* in, double* out, std::size_t n);
void exp_and_complement(const double* in, double* p, double* q, std::size_t n);

}  // namespace capgraph::detail::vmath::avx2
