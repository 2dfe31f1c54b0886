// capgraph/graph/simd/vmath_simd.hpp — internal: the table of vmath.hpp's array
// functions that each SIMD file (vmath_avx2.cpp, vmath_avx512.cpp) fills,
// and vmath.cpp picks from once, by what the CPU supports. Call a table's
// functions only for at least 4 values, and only where vmath.cpp has
// checked the CPU. This header includes no C++ library header beyond
// <cstddef>, so that the SIMD files stay free of inline library code
// compiled for their ISA.
#pragma once

#include <cstddef>

namespace capgraph::detail::vmath {

struct Kernels {
  void (*exp)(const double* in, double* out, std::size_t n);
  void (*log)(const double* in, double* out, std::size_t n);
  void (*expm1)(const double* in, double* out, std::size_t n);
  void (*log1p)(const double* in, double* out, std::size_t n);
  void (*log1mexp)(const double* in, double* out, std::size_t n);
  void (*log_sigmoid)(const double* in, double* out, std::size_t n);
  void (*logaddexp_const)(double c, const double* in, double* out, std::size_t n);
  void (*logaddexp)(const double* a, const double* b, double* out, std::size_t n);
  void (*exp_and_complement)(const double* in, double* p, double* q, std::size_t n);
};

/// AVX2 + FMA, 4 doubles at a time (vmath_avx2.cpp).
const Kernels& avx2_kernels();
/// AVX-512F, 8 doubles at a time (vmath_avx512.cpp).
const Kernels& avx512_kernels();

}  // namespace capgraph::detail::vmath
