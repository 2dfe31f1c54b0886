// capgraph/graph/simd/vmath.hpp — internal: the engine's elementwise math
// over arrays of scale points (exp, log, log1p, expm1 and the log-space
// helpers of curve_eval.hpp), vectorised where the CPU allows. This folder
// holds the kernels alone: vmath.cpp picks a path once, vmath_lanes.hpp
// writes the array bodies once over a lane set, vmath_avx2.cpp and
// vmath_avx512.cpp instantiate them for their ISA (vmath_simd.hpp is the
// table of functions between them).
//
// Paths. On x86-64 CPUs with AVX-512F the arrays go eight values at a time,
// with AVX2 and FMA four at a time, through glibc's vector math library
// (libmvec, part of libc6: _ZGVeN8v_exp, _ZGVdN4v_exp etc.). Elsewhere, with
// CAPGRAPH_SIMD=0 in the environment, and for arrays of fewer than 4 values
// (a padded vector call costs more than a scalar one) the scalar path runs
// the same formulas (curve_eval.cpp's Maechler forms) through glibc's libm,
// one value at a time. CAPGRAPH_SIMD=avx2 stops at the 4-wide path.
//
// The IEEE guarantee (tests/test_vmath.cpp checks the first three clauses
// on every path the CPU has):
//   - the scalar path is the reference: bit for bit std::exp, std::log,
//     std::expm1, std::log1p and curve_eval.hpp's log1mexp, log_sigmoid and
//     logaddexp (exp_and_complement: std::exp and -std::expm1);
//   - the vector paths are not correctly rounded: each libmvec call is
//     within 4 ulp of the exact value (glibc's documented bound), and every
//     array function here, composites included, within 8 ulp (1.8e-15
//     relative) of the scalar formula; logaddexp within 8 ulp of the larger
//     argument, since the sum cancels where the result is near 0;
//   - special values are exact on every path: where the scalar formula gives
//     an infinity or a zero the vector result equals it, and is NaN exactly
//     where it gives NaN; exp of anything below -708.5 (libmvec's slow
//     range, -inf included) has the scalar exp's exact bits, +0 (never -0)
//     below -746 and the same subnormals above it;
//   - the ISA variants do not give the same bits: the scalar path, the
//     4-lane and the 8-lane libmvec functions are different code and
//     differ in the last bits (over 2 million inputs every function but exp
//     differs between AVX2 and AVX-512 somewhere).
//     One path gives the same bits for the same input every time, so the
//     output is deterministic on one machine and CAPGRAPH_SIMD setting;
//     a value in an array of fewer than 4 takes the scalar path and may
//     differ in those bits from the same value in a longer array.
// (evaluate()'s own ISA versions of its pass, around these calls, do give
// the same bits as each other: graph/evaluation.cpp.)
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
