// capgraph/graph/budget.cpp — see budget.hpp.
#include "graph/budget.hpp"

#include <cmath>

namespace capgraph {

namespace {
constexpr double kDefaultTokensPerParam = 20;  // Hoffmann et al. 2022
}

const char* budget_rule_name(BudgetRule rule) {
  return rule == BudgetRule::fixed_ratio ? "fixed_ratio" : "compute_optimal";
}

std::vector<BudgetField> budget_fields(const BudgetInput& in, const Budget& b) {
  const ScalePoint& pt = b.point;
  auto opt = [](const std::optional<double>& v) -> decltype(BudgetField::value) {
    if (v) return *v;
    return std::monostate{};
  };
  return {{"law", in.law.name},
          {"rule", std::string(budget_rule_name(b.rule))},
          {"params", pt.N},
          {"tokens", pt.D},
          {"data_limited", pt.data_limited},
          {"tokens_per_param", b.tokens_per_param},
          {"bytes_per_token", in.bytes_per_token},
          {"text_bytes", b.text_bytes},
          {"compute_flop", pt.C},
          {"loss_nats_per_token", b.loss},
          {"stock_tokens", in.stock_tokens},
          {"tokens_over_stock", b.tokens_over_stock},
          {"claimed_bytes", opt(in.claimed_bytes)},
          {"claimed_bytes_implied_bytes_per_token", opt(b.implied_bytes_per_token)}};
}

ScaleSpec budget_scale(const BudgetInput& in) {
  ScaleSpec ss;
  ss.law = in.law;
  ss.tokens_per_param = in.tokens_per_param.value_or(kDefaultTokensPerParam);
  ss.data_limit = in.data_limit;
  ss.axis = in.from_compute ? Axis::compute : Axis::params;
  return ss;
}

Budget compute_budget(const BudgetInput& in) {
  const ScaleAxis axis(budget_scale(in));
  Budget b;
  if (in.from_compute && in.tokens_per_param) {
    // C = 6 N D with D = R N: N = sqrt(C / (6 R)).
    const double R = *in.tokens_per_param;
    ScalePoint& pt = b.point;
    pt.x = in.x;
    pt.N = std::sqrt(in.x / (6.0 * R));
    pt.D = R * pt.N;
    pt.dlogN = pt.dlogD = 0.5;
    if (in.data_limit && pt.D > *in.data_limit) {
      pt.D = *in.data_limit;
      pt.N = in.x / (6.0 * pt.D);
      pt.dlogN = 1;
      pt.dlogD = 0;
      pt.data_limited = true;
    }
    pt.C = 6.0 * pt.N * pt.D;
    b.rule = BudgetRule::fixed_ratio;
  } else {
    b.point = axis.at(in.x);
    b.rule = in.from_compute ? BudgetRule::compute_optimal : BudgetRule::fixed_ratio;
  }
  const ScalePoint& pt = b.point;
  b.tokens_per_param = pt.D / pt.N;
  b.text_bytes = pt.D * in.bytes_per_token;
  b.loss = axis.loss(pt.N, pt.D);
  b.tokens_over_stock = pt.D / in.stock_tokens;
  if (in.claimed_bytes) b.implied_bytes_per_token = *in.claimed_bytes / pt.D;
  return b;
}

}  // namespace capgraph
