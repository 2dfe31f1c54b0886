// capgraph/fuzz/fuzz_invariants.hpp — what a fuzz target checks beyond
// "no crash": the numbers an evaluation reports for a valid spec are never
// NaN and probabilities stay in [0, 1] (docs/measures.md §2, §3). A violation
// aborts, so libFuzzer records the input as a crash.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace capgraph::fuzz {

[[noreturn]] inline void violated(const char* what, double value) {
  std::fprintf(stderr, "fuzz invariant violated: %s (value %.17g)\n", what, value);
  std::abort();
}

inline void check_probability(const char* what, double p) {
  if (!(p >= 0.0 && p <= 1.0)) violated(what, p);
}

inline void check_not_nan(const char* what, double v) {
  if (std::isnan(v)) violated(what, v);
}

/// A natural log of a probability: in [-inf, 0].
inline void check_log_probability(const char* what, double v) {
  if (!(v <= 0.0)) violated(what, v);
}

}  // namespace capgraph::fuzz
