// capgraph/cli/commands.hpp — one function per subcommand registers it.
//
// Each add_* adds a CLI11 subcommand whose callback stores in `run` the
// action to perform after parsing; main() runs it and maps Failure to an
// exit code (docs/cli.md).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace capgraph::cli {

using Action = std::function<int()>;

void add_check(CLI::App& app, Action& run);
void add_eval(CLI::App& app, Action& run);
void add_sweep(CLI::App& app, Action& run);
void add_budget(CLI::App& app, Action& run);
void add_report(CLI::App& app, Action& run);
void add_bottleneck(CLI::App& app, Action& run);
void add_render(CLI::App& app, Action& run);
void add_plot(CLI::App& app, Action& run);
void add_analyze(CLI::App& app, Action& run);
void add_fit(CLI::App& app, Action& run);

}  // namespace capgraph::cli
