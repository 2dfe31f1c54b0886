// capgraph/graph/successes.hpp — internal: the number of successes among
// independent trials, the one implementation of the `at_least` gate
// (docs/measures.md §2) that the engine's kernel (evaluation.cpp), the
// Birnbaum partials and the improvement potentials (importance.cpp) share.
//
// Two methods, picked by the gate alone (by_groups()), so that a gate is
// computed the same way wherever it is met:
//   - small gates (uses x k up to kFoldWork): fold_trials() adds one trial
//     at a time to the distribution of the successes so far, truncated at k
//     ("k or more" absorbs), in probabilities or, where those underflow, in
//     logarithms; O(uses k);
//   - larger gates: the uses whose trials have the same P form one group of
//     n identical trials, whose successes are binomial. One group is a
//     binomial tail, summed from its end outwards (O(sqrt(n p (1-p))) terms,
//     whatever n and k); distinct groups are convolved in logarithms,
//     O(k min(n, k)) each. That remaining work is bounded: past
//     EvalOptions::max_at_least_work per node and point the engine throws
//     ModelError naming the limit and --max-at-least-work.
// Binomial probabilities are Loader's saddle-point form (Loader 2000,
// "Fast and accurate computation of binomial probabilities"), accurate to a
// few ulp in relative terms for any n, in log space, so a tail of 1e-300000
// keeps its digits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "curve_eval.hpp"
#include "simd/vmath.hpp"

namespace capgraph::detail {

/// Most trial updates per point (uses x k) a gate is folded with.
inline constexpr double kFoldWork = 1 << 16;

/// Whether an at_least gate over `trials` uses (their counts summed) goes by
/// binomial groups rather than by folding trials.
inline bool by_groups(double trials, std::size_t k) { return trials * static_cast<double>(k) > kFoldWork; }

/// Probabilities as they are, or as logarithms: the fold is the same over
/// either.
struct Linear {
  static double zero() { return 0.0; }
  static double one() { return 1.0; }
  static double add(double a, double b) { return a + b; }
  static double mul(double a, double b) { return a * b; }
};
struct Log {
  static double zero() { return -std::numeric_limits<double>::infinity(); }
  static double one() { return 0.0; }
  static double add(double a, double b) { return logaddexp(a, b); }
  static double mul(double a, double b) { return a + b; }
};

/// `times` trials of probability p[j] (q[j] = 1 - p[j]) added to the
/// success counts d[t * len + j], t = 0..k (d[k * len + j]: "k or more"),
/// for the len points j of a block (points innermost: each trial is a few
/// vector loops). Entries t < k do not depend on the absorbing one, so a
/// caller that needs "exactly t" for t < k reads them as they are.
[[gnu::always_inline]] inline void fold_trials(double* d, std::size_t k, std::size_t len, const double* p,
                                               const double* q, std::uint64_t times) {
  for (std::uint64_t r = 0; r < times; ++r) {
    double* dk = d + k * len;
    const double* dk1 = d + (k - 1) * len;
    for (std::size_t j = 0; j < len; ++j) dk[j] += dk1[j] * p[j];
    for (std::size_t t = k - 1; t >= 1; --t) {
      double* dt = d + t * len;
      const double* dt1 = d + (t - 1) * len;
      for (std::size_t j = 0; j < len; ++j) dt[j] = dt[j] * q[j] + dt1[j] * p[j];
    }
    for (std::size_t j = 0; j < len; ++j) d[j] *= q[j];
  }
}

/// fold_trials() in logarithms: ld, lp and lq hold ln d, ln p and ln q; a
/// and b are len values of scratch. With len = 1 the sums are the scalar
/// logaddexp (vmath's arrays of fewer than 4 values are), Log::add.
[[gnu::always_inline]] inline void fold_trials_log(double* ld, std::size_t k, std::size_t len, const double* lp,
                                                   const double* lq, std::uint64_t times, double* a, double* b) {
  for (std::uint64_t r = 0; r < times; ++r) {
    double* lk = ld + k * len;
    const double* lk1 = ld + (k - 1) * len;
    for (std::size_t j = 0; j < len; ++j) b[j] = lk1[j] + lp[j];
    vmath::logaddexp(lk, b, lk, len);
    for (std::size_t t = k - 1; t >= 1; --t) {
      double* lt = ld + t * len;
      const double* lt1 = ld + (t - 1) * len;
      for (std::size_t j = 0; j < len; ++j) a[j] = lt[j] + lq[j], b[j] = lt1[j] + lp[j];
      vmath::logaddexp(a, b, lt, len);
    }
    for (std::size_t j = 0; j < len; ++j) ld[j] += lq[j];
  }
}

/// One trial of P = p, S's way (scalar), `times` times.
template <class S>
void fold_trials(double* d, std::size_t k, double p, double q, std::uint64_t times) {
  if constexpr (std::is_same_v<S, Linear>) {
    fold_trials(d, k, 1, &p, &q, times);
  } else {
    double a, b;
    fold_trials_log(d, k, 1, &p, &q, times, &a, &b);
  }
}

// ---- binomial groups (gates past kFoldWork) --------------------------------

/// n identical independent trials, each succeeding with ln p = lp
/// (ln(1 - p) = lq).
struct TrialGroup {
  double lp = 0, lq = 0;
  std::uint64_t n = 0;
};

/// ln C(n, x) p^x (1 - p)^(n - x).
double log_binomial_pmf(std::uint64_t x, std::uint64_t n, double lp, double lq);
/// ln P(X >= s) for X ~ Binomial(n, p); 0 for s <= 0, -inf for s > n.
double log_binomial_tail(std::int64_t s, std::uint64_t n, double lp, double lq);

/// Sorts the groups by lp and merges those with the same lp (and drops the
/// empty ones).
void merge_groups(std::vector<TrialGroup>& g);

/// The log-space term updates log_success_counts() makes for these groups
/// up to k, and log_at_least() (which treats the largest group apart).
double convolution_work(const std::vector<TrialGroup>& g, std::size_t k);
double at_least_work(const std::vector<TrialGroup>& g, std::size_t k);

/// ln P(t successes) among the groups, t = 0..k, ld[k] = ln P(k or more).
void log_success_counts(const std::vector<TrialGroup>& g, std::size_t k, std::vector<double>& ld);

/// ln P(at least k successes) among the groups (merged).
double log_at_least(const std::vector<TrialGroup>& g, std::size_t k);

/// The groups g (merged) with `remove` trials of group gi taken out: ln P(t
/// successes among them) for t = 0..k-1 into ld[0..k-1] and ln P(t or more)
/// into tail[t], t = 0..k (the Birnbaum partials need the first, the
/// improvement potentials the second). At most one group left: closed
/// forms; else convolution_work() of what is left.
void log_counts_without(const std::vector<TrialGroup>& g, std::size_t gi, std::uint64_t remove, std::size_t k,
                        std::vector<double>& ld, std::vector<double>& tail);

}  // namespace capgraph::detail
