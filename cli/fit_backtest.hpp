// capgraph/cli/fit_backtest.hpp — the reports of `fit --backtest` and the
// family-offset section of a pooled fit (cli/cmd_fit.cpp).
#pragma once

#include <string>

#include "analysis/backtest.hpp"
#include "analysis/fit.hpp"
#include "cli/formats.hpp"

namespace capgraph::cli {

/// The backtest in one format: table (rows, then totals), CSV (one row per
/// family/task/metric, tidy) or JSON (rows, totals, notes).
std::string backtest_report(const analysis::BacktestSuite& s, Format fmt, const std::string& spec,
                            const std::string& data);

/// "F scores like R at k times its size [lo, hi]" for each pooled family.
std::string offsets_table(const analysis::FitReport& r);
nlohmann::ordered_json offsets_json(const analysis::FitReport& r);

}  // namespace capgraph::cli
