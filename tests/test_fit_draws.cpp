// Tests of a fitted spec's `fit` block (specs reader and writer) and of the
// draws the report's bands come from (analysis::fit_draws): the block
// round-trips, every malformed block is one positioned error, and the
// draws' sample mean and covariance match the block to within their
// sampling error.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "analysis/fit.hpp"
#include "graph/curve_parameters.hpp"
#include "specs/load.hpp"
#include "specs/spec_writer.hpp"

using namespace capgraph;

namespace {

// Two logistic skills and a task; the fit block's estimates are the
// curves' own values (log10 1e10 = 10, slope 1.5; log10 1e11 = 11, slope 0.8).
std::string fitted_spec(const std::string& fit_block) {
  return "capgraph: 1\nname: fitted\nskills:\n"
         "  a: {curve: {logistic: {mid: 1e10, slope: 1.5}}}\n"
         "  b: {curve: {logistic: {mid: 1e11, slope: 0.8}}}\n"
         "tasks:\n  t: {all: [a, b]}\n" +
         fit_block;
}

const std::string kGood =
    "fit:\n  parameters:\n    - [a, log10_mid, 10]\n    - [a, slope, 1.5]\n    - [b, log10_mid, 11]\n"
    "  covariance:\n    - [0.04, -0.01, 0]\n    - [-0.01, 0.09, 0.02]\n    - [0, 0.02, 0.25]\n";

std::string first_error(const std::string& text) {
  const auto r = specs::load_spec_text(text, "f.yaml");
  REQUIRE_FALSE(r.ok());
  return r.errors.front().to_string();
}

}  // namespace

TEST_CASE("fit block: read, written and read back the same", "[specs][fit]") {
  const auto r = specs::load_spec_text(fitted_spec(kGood), "f.yaml");
  for (const auto& e : r.errors) INFO(e.to_string());
  REQUIRE(r.ok());
  REQUIRE(r.spec->fit);
  const FitSpec& f = *r.spec->fit;
  REQUIRE(f.parameters.size() == 3);
  CHECK(r.spec->nodes[f.parameters[2].node].id == "b");
  CHECK(f.parameters[1].parameter == "slope");
  CHECK(f.parameters[1].estimate == 1.5);
  CHECK(f.covariance == std::vector<double>{0.04, -0.01, 0, -0.01, 0.09, 0.02, 0, 0.02, 0.25});
  const std::string text = specs::write_spec(*r.spec);
  const auto back = specs::load_spec_text(text, "back.yaml");
  REQUIRE(back.ok());
  REQUIRE(back.spec->fit);
  CHECK(back.spec->fit->covariance == f.covariance);
  CHECK(specs::write_spec(*back.spec) == text);
}

TEST_CASE("fit block: each mistake is one positioned error", "[specs][fit]") {
  // kGood with one piece of text replaced
  auto edited = [](const std::string& from, const std::string& to) {
    std::string block = kGood;
    REQUIRE(block.find(from) != std::string::npos);
    return fitted_spec(block.replace(block.find(from), from.size(), to));
  };
  // the estimate disagrees with the curve (edited after the fit)
  CHECK_THAT(first_error(edited("[a, slope, 1.5]", "[a, slope, 1.7]")),
             Catch::Contains("f.yaml:11:18:") && Catch::Contains("curve gives 1.5") &&
                 Catch::Contains("delete the `fit` block, or fit again"));
  CHECK_THAT(first_error(edited("[b, log10_mid, 11]", "[c, log10_mid, 11]")), Catch::Contains("unknown skill `c`"));
  CHECK_THAT(first_error(edited("[b, log10_mid, 11]", "[t, log10_mid, 11]")), Catch::Contains("the task `t`"));
  CHECK_THAT(first_error(edited("[a, slope, 1.5]", "[a, alpha, 1.5]")),
             Catch::Contains("not a parameter of `a`'s logistic curve") && Catch::Contains("log10_mid, slope"));
  CHECK_THAT(first_error(edited("[0, 0.02, 0.25]", "[0.01, 0.02, 0.25]")), Catch::Contains("not symmetric"));
  CHECK_THAT(first_error(edited("[0, 0.02, 0.25]", "[0, 0.02]")),
             Catch::Contains("row 3 of `covariance` must hold 3 numbers"));
  CHECK_THAT(first_error(edited("[0.04, -0.01, 0]", "[-0.04, -0.01, 0]")), Catch::Contains("variance on the diagonal"));
  CHECK_THAT(first_error(fitted_spec("fit:\n  parameters:\n    - [a, slope, 1.5]\n")),
             Catch::Contains("needs both `parameters` and `covariance`"));
  CHECK_THAT(first_error(fitted_spec("fit: 3\n")), Catch::Contains("`fit` must be a mapping"));
}

// Sample mean within 5 standard errors of the estimate; sample covariance
// within 5 of its own standard errors (Var of a sample covariance s_ij is
// about (C_ii C_jj + C_ij^2) / n for normal draws).
TEST_CASE("fit draws: the sample mean and covariance are the block's", "[analysis][fit]") {
  const auto r = specs::load_spec_text(fitted_spec(kGood), "f.yaml");
  REQUIRE(r.ok());
  const Model m = Model::compile(*r.spec);
  const std::size_t n = 20000;
  const auto draws = analysis::fit_draws(m, n, 7);
  REQUIRE(draws.size() == n);
  const FitSpec& f = *r.spec->fit;
  const std::size_t P = f.parameters.size();
  std::vector<std::vector<double>> x(P, std::vector<double>(n));
  for (std::size_t d = 0; d < n; ++d) {
    REQUIRE(draws[d].leaves().size() == 2);  // a and b
    for (std::size_t i = 0; i < P; ++i)
      for (const auto& leaf : draws[d].leaves())
        if (leaf.node == f.parameters[i].node) x[i][d] = curve_parameter(leaf.curve, f.parameters[i].parameter);
  }
  std::vector<double> mean(P, 0.0);
  for (std::size_t i = 0; i < P; ++i) {
    for (double v : x[i]) mean[i] += v / static_cast<double>(n);
    const double se = std::sqrt(f.covariance[i * P + i] / static_cast<double>(n));
    CHECK(std::abs(mean[i] - f.parameters[i].estimate) < 5 * se);
  }
  for (std::size_t i = 0; i < P; ++i)
    for (std::size_t j = 0; j <= i; ++j) {
      double s = 0;
      for (std::size_t d = 0; d < n; ++d) s += (x[i][d] - mean[i]) * (x[j][d] - mean[j]);
      s /= static_cast<double>(n - 1);
      const double c = f.covariance[i * P + j];
      const double se = std::sqrt((f.covariance[i * P + i] * f.covariance[j * P + j] + c * c) / static_cast<double>(n));
      INFO("covariance " << i << "," << j << ": sample " << s << ", block " << c);
      CHECK(std::abs(s - c) < 5 * se);
    }
  // The same seed gives the same draws; another seed others.
  const auto again = analysis::fit_draws(m, 3, 7), other = analysis::fit_draws(m, 3, 8);
  CHECK(again[0].leaves()[0].curve.mid == draws[0].leaves()[0].curve.mid);
  CHECK(other[0].leaves()[0].curve.mid != draws[0].leaves()[0].curve.mid);
  // Every draw is a valid curve (slope > 0), though a slope SE of 0.3 at
  // 1.5 puts about 3e-7 of the normal below 0.
  for (const auto& d : draws)
    for (const auto& leaf : d.leaves()) CHECK(leaf.curve.slope > 0);
  // A spec without a block has no draws.
  const auto plain = specs::load_spec_text(fitted_spec(""), "p.yaml");
  REQUIRE(plain.ok());
  CHECK(analysis::fit_draws(Model::compile(*plain.spec), 10).empty());
}
