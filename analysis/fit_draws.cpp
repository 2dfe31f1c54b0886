// capgraph/analysis/fit_draws.cpp — draws of a fitted spec's curves from
// its `fit` block, for the report's uncertainty bands (analysis/fit.hpp).
#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>

#include "analysis/fit.hpp"
#include "graph/curve_parameters.hpp"
#include "graph/detail/program.hpp"

namespace capgraph::analysis {

namespace {

// L with L L^T = C for a positive semi-definite C (P x P, row-major): the
// matrix is scaled to unit diagonal first, and a pivot at rounding level
// (a combination the fit left with no variance) gives a zero column.
std::vector<double> psd_cholesky(const std::vector<double>& c, std::size_t n) {
  constexpr double kTolerance = 1e-10;
  std::vector<double> d(n), L(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    const double v = c[i * n + i];
    if (!(v >= 0) || !std::isfinite(v)) throw FitError("the fit block's covariance has a negative or non-finite variance");
    d[i] = std::sqrt(v);
  }
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j) {
      double s = d[i] > 0 && d[j] > 0 ? c[i * n + j] / (d[i] * d[j]) : 0.0;
      for (std::size_t k = 0; k < j; ++k) s -= L[i * n + k] * L[j * n + k];
      if (i == j) {
        if (s < -kTolerance * 1e3) throw FitError("the fit block's covariance is not positive semi-definite");
        L[i * n + i] = s > kTolerance ? std::sqrt(s) : 0.0;
      } else {
        L[i * n + j] = L[j * n + j] > 0 ? s / L[j * n + j] : 0.0;
      }
    }
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j) L[i * n + j] *= d[i];
  return L;
}

// A standard normal pair by Box-Muller from 53-bit uniforms.
struct Normal {
  std::mt19937_64 rng;
  bool have = false;
  double spare = 0;
  double operator()() {
    if (have) return have = false, spare;
    const double u1 = (static_cast<double>(rng() >> 11) + 1) * 0x1.0p-53;  // (0, 1]
    const double u2 = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    const double r = std::sqrt(-2 * std::log(u1));
    spare = r * std::sin(2 * std::numbers::pi * u2), have = true;
    return r * std::cos(2 * std::numbers::pi * u2);
  }
};

// Whether `skill` with `curve` passes the model's own check of a skill.
bool valid(const NodeSpec& skill, const Curve& curve) {
  NodeSpec copy = skill;
  copy.curve = curve;
  try {
    detail::check_leaf(copy);
    return true;
  } catch (const ModelError&) {
    return false;
  }
}

}  // namespace

std::vector<Overrides> fit_draws(const Model& model, std::size_t count, std::uint64_t seed) {
  const auto& fit = model.spec().fit;
  if (!fit || fit->parameters.empty()) return {};
  const std::size_t n = fit->parameters.size();
  const std::vector<double> L = psd_cholesky(fit->covariance, n);
  Normal normal{std::mt19937_64(seed)};
  std::vector<double> z(n);
  std::vector<Overrides> draws(count);
  constexpr int kTries = 1000;
  for (Overrides& ov : draws) {
    // A draw that gives some skill an invalid curve (a slope <= 0, say) is
    // drawn again: the bands are of the normal approximation restricted to
    // valid curves.
    std::vector<std::pair<std::size_t, Curve>> curves;
    for (int tries = 0;; ++tries) {
      if (tries == kTries)
        throw FitError("the fit block's covariance gives an invalid curve in " + std::to_string(kTries) +
                       " draws in a row: the fit's uncertainty is too wide to draw bands from");
      for (double& v : z) v = normal();
      curves.clear();
      for (std::size_t i = 0; i < n; ++i) {
        double x = fit->parameters[i].estimate;
        for (std::size_t k = 0; k <= i; ++k) x += L[i * n + k] * z[k];
        const std::size_t node = fit->parameters[i].node;
        auto it = std::find_if(curves.begin(), curves.end(), [&](const auto& c) { return c.first == node; });
        if (it == curves.end()) it = curves.insert(curves.end(), {node, model.node(node).curve});
        set_curve_parameter(it->second, fit->parameters[i].parameter, x);
      }
      if (std::all_of(curves.begin(), curves.end(), [&](const auto& c) { return valid(model.node(c.first), c.second); }))
        break;
    }
    for (auto& [node, curve] : curves) ov.set_curve(node, std::move(curve), model.node(node).floor, model.node(node).ceiling);
  }
  return draws;
}

}  // namespace capgraph::analysis
