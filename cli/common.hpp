// capgraph/cli/common.hpp — what every subcommand shares: loading a spec with
// its errors printed, the common options, phase timings, command-line values
// (docs/cli.md). The exit codes, limits, output files and output formats
// have headers of their own, included here for the subcommands.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <chrono>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/failure.hpp"
#include "cli/formats.hpp"
#include "cli/limits.hpp"
#include "cli/output.hpp"
#include "graph/evaluation.hpp"
#include "graph/model.hpp"
#include "graph/monte_carlo.hpp"
#include "specs/load.hpp"

namespace capgraph::cli {

/// Options most subcommands take: the output, its format, and the limits.
struct CommonOptions : Limits {
  std::string format = "table";
  std::string output;  ///< empty or "-" = standard output
  bool timings = false;

  Format fmt() const;
  /// Adds --format, -o/--output (with `with_output`), --timings and the
  /// `limits` (Limits::Applies; 0 for a command that reads no input).
  void add_to(CLI::App& app, bool with_output = true, unsigned limits = kBytes | kSpec | kEngine);
  /// Adds --timings and the limits of reading a spec; with `engine`, also
  /// the shared-skill limits --max-shared-expanded and --max-shared-work.
  void add_loading(CLI::App& app, bool engine = true);
};

/// --monte-carlo N --seed S --max-mc-trials T (eval, sweep, bottleneck).
struct MonteCarloFlags {
  std::uint64_t samples = 0;  ///< 0 = off
  std::uint64_t seed = 1;
  double max_trials = MonteCarloOptions{}.max_trials_per_sample;
  std::uint64_t max_samples = 10'000'000;  ///< --max-mc-samples
  void add_to(CLI::App& app);
  bool on() const { return samples > 0; }
  /// Failure(2) naming the limit and --max-mc-samples when samples exceed it.
  MonteCarloOptions options(unsigned threads = 0) const;
};

/// Phase timings printed to standard error with --timings.
class Timings {
 public:
  explicit Timings(bool enabled) : enabled_(enabled) {}
  void start() { t0_ = std::chrono::steady_clock::now(); }
  void stop(const std::string& phase);
  void add(const std::string& phase, double seconds) { phases_.emplace_back(phase, seconds); }
  void print() const;

 private:
  bool enabled_;
  std::chrono::steady_clock::time_point t0_;
  std::vector<std::pair<std::string, double>> phases_;
};

/// Loads, validates and compiles a spec ("-" = standard input). Prints every
/// diagnostic to standard error and throws Failure(1) if invalid, Failure(3)
/// if unreadable.
Model load_model(const std::string& path, const CommonOptions& opts, Timings& timings);

/// The spec most recently loaded ("<stdin>" for "-"), for messages about
/// the model raised after loading (main() prefixes ModelError with it).
const std::string& current_spec_name();

/// Writes `text` to the command's output (whole or not at all for a path).
inline void write_output(const std::string& text, const CommonOptions& opts) { write_output(text, opts.output); }

/// Parses a positive finite number from a flag value like "1e10" (the one
/// number syntax, specs::parse_number); Failure(2) otherwise.
double parse_positive(const std::string& flag, const std::string& text);
/// A scale point from a flag (--at, --from, --to): a positive number within
/// the accepted scale range (specs::scale_problem, docs/measures.md §1) and,
/// given the spec's scale, one whose N, D and C are finite; Failure(2) otherwise.
double parse_scale(const std::string& flag, const std::string& text, const ScaleSpec* scale = nullptr);

/// What a numeric flag holds.
enum class Number { integer, real, positive };
/// The check of every numeric flag, a CLI11 transform: reads the value with
/// the one number syntax (specs::parse_number: "+1e9", "1e+9" and
/// "1000000000" alike), checks it is a whole number (`integer`), positive
/// (`positive`), within [min, max], and rewrites it in the form CLI11
/// converts. Its message names the value and the bound.
CLI::Validator number_check(Number kind, double min = -1e308, double max = 1e308);
/// Adds number_check to every numeric option of `app` and its subcommands
/// that has none yet, so that every number on the command line reads the same.
void check_numbers(CLI::App& app);
/// Failure(2) unless every argument is UTF-8 text.
void check_utf8_arguments(int argc, char** argv);

/// Splits "a,b,c".
std::vector<std::string> split_list(const std::string& text);

/// Failure(2) when a list flag names one node or scale point twice
/// (`--nodes a,a`, `--at 1e10,10B`): every row of an output has its own key.
void refuse_repeats(const std::string& flag, const Model& model, const std::vector<std::size_t>& nodes);
void refuse_repeats(const std::string& flag, const std::vector<double>& xs);

/// Node indices for ids given on the command line; Failure(2) with a
/// did-you-mean hint for an unknown id.
std::vector<std::size_t> resolve_ids(const Model& model, const std::vector<std::string>& ids, bool tasks_only);

}  // namespace capgraph::cli
