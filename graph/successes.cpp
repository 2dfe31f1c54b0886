// capgraph/graph/successes.cpp — binomial groups of the `at_least` gate
// (successes.hpp).
#include "graph/successes.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace capgraph::detail {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr double kLn2Pi = 1.8378770664093454836;  // ln(2 pi)

// ln(n!) - ln(sqrt(2 pi n) (n/e)^n), Stirling's error: exact (long double
// lgamma, 64-bit mantissa) up to 15, the asymptotic series past that
// (error below n^-11, < 2e-16 relative at 16).
double stirlerr(std::uint64_t n) {
  static const std::array<double, 16> small = [] {
    std::array<double, 16> t{};
    for (int i = 1; i < 16; ++i) {
      const long double x = i;
      t[static_cast<std::size_t>(i)] =
          static_cast<double>(std::lgammal(x + 1) - (x + 0.5L) * std::log(x) + x - 0.918938533204672741780329736406L);
    }
    return t;
  }();
  if (n < 16) return small[n];
  constexpr double S0 = 1.0 / 12, S1 = 1.0 / 360, S2 = 1.0 / 1260, S3 = 1.0 / 1680, S4 = 1.0 / 1188;
  const auto x = static_cast<double>(n);
  const double xx = x * x;
  return (S0 - (S1 - (S2 - (S3 - S4 / xx) / xx) / xx) / xx) / x;
}

// x ln(x / m) + m - x without cancellation near x = m (Loader's bd0).
double bd0(double x, double m) {
  if (std::abs(x - m) < 0.1 * (x + m)) {
    double v = (x - m) / (x + m);
    double s = (x - m) * v;
    double ej = 2 * x * v;
    v *= v;
    for (int j = 1; j < 1000; ++j) {
      ej *= v;
      const double s1 = s + ej / (2 * j + 1);
      if (s1 == s) return s1;
      s = s1;
    }
    return s;
  }
  return x * std::log(x / m) + m - x;
}

}  // namespace

double log_binomial_pmf(std::uint64_t x, std::uint64_t n, double lp, double lq) {
  if (x > n) return kNegInf;
  if (lp == kNegInf) return x == 0 ? 0.0 : kNegInf;
  if (lq == kNegInf) return x == n ? 0.0 : kNegInf;
  const auto xd = static_cast<double>(x), nd = static_cast<double>(n);
  if (x == 0) return nd * lq;
  if (x == n) return nd * lp;
  const double p = std::exp(lp), q = std::exp(lq);
  if (!(p > 1e-290 && q > 1e-290)) {
    // Either is near the smallest double: the product form, whose terms
    // are then so large that lgamma's absolute error is far below their ulp.
    return std::lgamma(nd + 1) - std::lgamma(xd + 1) - std::lgamma(nd - xd + 1) + xd * lp + (nd - xd) * lq;
  }
  const double lc = stirlerr(n) - stirlerr(x) - stirlerr(n - x) - bd0(xd, nd * p) - bd0(nd - xd, nd * q);
  return lc - 0.5 * (kLn2Pi + std::log(xd) + std::log1p(-xd / nd));
}

double log_binomial_tail(std::int64_t s, std::uint64_t n, double lp, double lq) {
  if (s <= 0) return 0.0;
  const auto su = static_cast<std::uint64_t>(s);
  if (su > n || lp == kNegInf) return kNegInf;
  if (lq == kNegInf) return 0.0;
  const double nd = static_cast<double>(n), p = std::exp(lp);
  // Terms fall off geometrically away from the mean: sum from the end
  // nearest the tail outwards, each term from the last by the ratio of
  // consecutive probabilities, until they no longer change the sum.
  if (static_cast<double>(s) > nd * p) {  // P(X >= s): s, s+1, ...
    const double rho = std::exp(lp - lq);
    double term = 1, sum = 1;
    for (std::uint64_t j = su; j < n; ++j) {
      term *= static_cast<double>(n - j) / static_cast<double>(j + 1) * rho;
      sum += term;
      if (term < 0x1p-60 * sum) break;
    }
    return log_binomial_pmf(su, n, lp, lq) + std::log(sum);
  }
  // 1 - P(X <= s - 1): s-1, s-2, ..., at most about 0.6 (s - 1 is below
  // the mean), so the complement keeps its relative accuracy.
  const double inv_rho = std::exp(lq - lp);
  double term = 1, sum = 1;
  for (std::uint64_t j = su - 1; j > 0; --j) {
    term *= static_cast<double>(j) / static_cast<double>(n - j + 1) * inv_rho;
    sum += term;
    if (term < 0x1p-60 * sum) break;
  }
  return std::log1p(-std::exp(log_binomial_pmf(su - 1, n, lp, lq) + std::log(sum)));
}

void merge_groups(std::vector<TrialGroup>& g) {
  std::sort(g.begin(), g.end(), [](const TrialGroup& a, const TrialGroup& b) { return a.lp < b.lp; });
  std::size_t out = 0;
  for (const TrialGroup& x : g) {
    if (x.n == 0) continue;
    if (out > 0 && g[out - 1].lp == x.lp) g[out - 1].n += x.n;
    else g[out++] = x;
  }
  g.resize(out);
}

double convolution_work(const std::vector<TrialGroup>& g, std::size_t k) {
  double w = 0;
  for (const TrialGroup& x : g)
    w += static_cast<double>(k + 1) * static_cast<double>(std::min<std::uint64_t>(x.n, k) + 1);
  return w;
}

double at_least_work(const std::vector<TrialGroup>& g, std::size_t k) {
  if (g.size() <= 1) return 0;
  double w = convolution_work(g, k), largest = 0;
  for (const TrialGroup& x : g)
    largest = std::max(largest, static_cast<double>(k + 1) * static_cast<double>(std::min<std::uint64_t>(x.n, k) + 1));
  return w - largest + static_cast<double>(k);
}

namespace {

// ln P(X >= s), s = 0..k, of one group, into tail.
void log_tails(const TrialGroup& x, std::size_t k, std::vector<double>& tail) {
  tail.assign(k + 1, kNegInf);
  tail[0] = 0;
  const std::size_t top = static_cast<std::size_t>(std::min<std::uint64_t>(x.n, k));
  if (top == 0) return;
  tail[top] = log_binomial_tail(static_cast<std::int64_t>(top), x.n, x.lp, x.lq);
  for (std::size_t s = top - 1; s >= 1; --s) tail[s] = logaddexp(tail[s + 1], log_binomial_pmf(s, x.n, x.lp, x.lq));
}

}  // namespace

void log_success_counts(const std::vector<TrialGroup>& g, std::size_t k, std::vector<double>& ld) {
  ld.assign(k + 1, kNegInf);
  ld[0] = 0;
  std::vector<double> pmf, tail, next(k + 1);
  for (const TrialGroup& x : g) {
    const std::size_t m = static_cast<std::size_t>(std::min<std::uint64_t>(x.n, k));
    pmf.resize(m + 1);
    for (std::size_t j = 0; j <= m; ++j) pmf[j] = log_binomial_pmf(j, x.n, x.lp, x.lq);
    log_tails(x, k, tail);
    for (std::size_t t = 0; t < k; ++t) {
      double acc = kNegInf;
      for (std::size_t j = 0; j <= std::min(t, m); ++j) acc = logaddexp(acc, ld[t - j] + pmf[j]);
      next[t] = acc;
    }
    double top = ld[k];
    for (std::size_t t = 0; t < k; ++t) top = logaddexp(top, ld[t] + tail[k - t]);
    next[k] = top;
    ld.swap(next);
  }
}

double log_at_least(const std::vector<TrialGroup>& g, std::size_t k) {
  if (g.empty()) return k == 0 ? 0.0 : kNegInf;
  if (g.size() == 1) return log_binomial_tail(static_cast<std::int64_t>(k), g[0].n, g[0].lp, g[0].lq);
  // The largest group enters by its tails alone (no convolution).
  std::size_t big = 0;
  for (std::size_t i = 1; i < g.size(); ++i)
    if (g[i].n > g[big].n) big = i;
  std::vector<TrialGroup> rest;
  for (std::size_t i = 0; i < g.size(); ++i)
    if (i != big) rest.push_back(g[i]);
  std::vector<double> ld, tail;
  log_success_counts(rest, k, ld);
  log_tails(g[big], k, tail);
  double r = ld[k];
  for (std::size_t t = 0; t < k; ++t) r = logaddexp(r, ld[t] + tail[k - t]);
  return std::min(r, 0.0);
}

void log_counts_without(const std::vector<TrialGroup>& g, std::size_t gi, std::uint64_t remove, std::size_t k,
                        std::vector<double>& ld, std::vector<double>& tail) {
  std::vector<TrialGroup> rest = g;
  rest[gi].n -= remove;
  rest.erase(std::remove_if(rest.begin(), rest.end(), [](const TrialGroup& x) { return x.n == 0; }), rest.end());
  tail.assign(k + 1, kNegInf);
  if (rest.size() <= 1) {
    const TrialGroup x = rest.empty() ? TrialGroup{0.0, kNegInf, 0} : rest[0];
    ld.assign(k + 1, kNegInf);
    for (std::size_t t = 0; t < k; ++t) ld[t] = log_binomial_pmf(t, x.n, x.lp, x.lq);
    log_tails(x, k, tail);
    return;
  }
  log_success_counts(rest, k, ld);
  tail[k] = ld[k];
  for (std::size_t t = k; t-- > 0;) tail[t] = logaddexp(tail[t + 1], ld[t]);
  tail[0] = 0;
}

}  // namespace capgraph::detail
