// capgraph/graph/budget.hpp — the data and compute budget of `capgraph budget`
// (docs/measures.md §1, "Budget"), shared by the CLI and the Python package.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "model_spec.hpp"
#include "scale_axis.hpp"

namespace capgraph {

/// How the tokens D were set.
enum class BudgetRule {
  fixed_ratio,      ///< D = R N: from N (--params), or from C with R given (N = sqrt(C / (6 R)))
  compute_optimal,  ///< from C, the split that minimises the law's loss at C = 6 N D
};
/// "fixed_ratio" or "compute_optimal", as the outputs name the rule.
const char* budget_rule_name(BudgetRule rule);

struct BudgetInput {
  bool from_compute = false;  ///< x is C (FLOPs), else N (parameters)
  double x = 0;
  /// Tokens per parameter R. From N: D = R N (20 when not given). From C:
  /// when given, N = sqrt(C / (6 R)) and D = R N; when not, the
  /// compute-optimal split under the law.
  std::optional<double> tokens_per_param;
  std::optional<double> data_limit;  ///< cap on D; from C, N = C / (6 D) then
  ScalingLaw law;
  double bytes_per_token = 4;
  double stock_tokens = 3e14;
  std::optional<double> claimed_bytes;  ///< a claimed text size to check
};

struct Budget {
  BudgetRule rule = BudgetRule::fixed_ratio;
  ScalePoint point;  ///< N, D, C = 6 N D, data_limited
  double tokens_per_param = 0;  ///< D / N, whatever the rule
  double text_bytes = 0;        ///< bytes_per_token D
  double loss = 0;              ///< E + A / N^alpha + B / D^beta, nats per token
  double tokens_over_stock = 0;
  std::optional<double> implied_bytes_per_token;  ///< claimed_bytes / D
};

/// The budget of one model size or compute budget. O(1).
Budget compute_budget(const BudgetInput& in);

/// One field of a budget as the outputs name it. monostate: absent (the
/// claimed-bytes pair without --claimed-bytes): JSON and Python leave it
/// out, the CSV writes an empty cell.
struct BudgetField {
  const char* key;
  std::variant<std::monostate, bool, double, std::string> value;
};

/// The budget's fields in output order: the keys of `budget --format json`,
/// the CSV's columns and the Python dict's keys (docs/json.md).
std::vector<BudgetField> budget_fields(const BudgetInput& in, const Budget& b);

/// The ScaleSpec that derives `in`'s point from x on the compute-optimal or
/// the params axis (for the accepted-scale checks of docs/measures.md §1).
ScaleSpec budget_scale(const BudgetInput& in);

}  // namespace capgraph
