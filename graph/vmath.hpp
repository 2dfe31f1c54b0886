// capgraph/graph/vmath.hpp — internal: the engine's elementwise math over
// arrays of scale points (exp, log, log1p, expm1 and the log-space helpers
// of curve_eval.hpp), vectorised where the CPU allows.
//
// On x86-64 CPUs with AVX-512F the arrays go eight at a time, with AVX2 and
// FMA four at a time, through glibc's vector math library (libmvec, part of
// libc6: _ZGVeN8v_exp, _ZGVdN4v_exp etc.; at most 4 ulp each by glibc's
// documentation; tests/test_vmath.cpp holds every function here, on every
// path the CPU has, composites included, within 8 ulp of the scalar formula
// and special values exact); elsewhere, or with CAPGRAPH_SIMD=0 in the
// environment, the same formulas run through scalar libm, one value at a
// time; so do arrays of fewer than 4 values (a padded vector call costs more
// than a scalar one). CAPGRAPH_SIMD=avx2 stops at the 4-wide path. Both paths compute the same formulas (curve_eval.cpp's
// Maechler forms), so they differ only in the last bits; on one machine the
// output is deterministic either way.
//
// Every function allows in == out (in place).
#pragma once

#include <cstddef>

namespace capgraph::detail::vmath {

/// The array paths, narrowest first.
enum class SimdPath { scalar, avx2, avx512 };
/// The path in use: the widest the CPU has, CAPGRAPH_SIMD allows and
/// set_simd_cap() has not ruled out.
SimdPath simd_path();
/// Whether a vector path is in use.
bool simd_enabled();
/// Caps the path (for tests and benchmarks); SimdPath::avx512 restores the
/// automatic choice.
void set_simd_cap(SimdPath cap);
/// set_simd_cap(scalar) (false) or the automatic choice (true).
void set_simd_allowed(bool allowed);

void exp(const double* in, double* out, std::size_t n);
void log(const double* in, double* out, std::size_t n);
void expm1(const double* in, double* out, std::size_t n);
void log1p(const double* in, double* out, std::size_t n);
/// out = ln(1 - e^a), a <= 0 (curve_eval.hpp log1mexp).
void log1mexp(const double* in, double* out, std::size_t n);
/// out = ln sigmoid(z) (curve_eval.hpp log_sigmoid).
void log_sigmoid(const double* in, double* out, std::size_t n);
/// out = ln(e^c + e^in) for a constant c (curve_eval.hpp logaddexp).
void logaddexp_const(double c, const double* in, double* out, std::size_t n);
/// out = ln(e^a + e^b) elementwise (curve_eval.hpp logaddexp).
void logaddexp(const double* a, const double* b, double* out, std::size_t n);
/// p = e^a and q = 1 - e^a (= -expm1(a)), a <= 0.
void exp_and_complement(const double* in, double* p, double* q, std::size_t n);

}  // namespace capgraph::detail::vmath
