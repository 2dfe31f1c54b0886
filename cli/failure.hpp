// capgraph/cli/failure.hpp — exit codes (docs/cli.md, "Exit codes") and the
// exception a subcommand throws to end with a message and one of them.
#pragma once

#include <stdexcept>
#include <string>

namespace capgraph::cli {

/// kNotAResult: `fit` ended without a result (not converged, or parameters
/// the data do not identify): only the report is written.
enum ExitCode : int { kOk = 0, kInvalid = 1, kUsage = 2, kIo = 3, kNotAResult = 4 };

/// Thrown by subcommands to end with a message and an exit code.
struct Failure : std::runtime_error {
  int code;
  Failure(int c, const std::string& message) : std::runtime_error(message), code(c) {}
};

}  // namespace capgraph::cli
