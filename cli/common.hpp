// capgraph/cli/common.hpp — what every subcommand shares: loading a spec with
// its errors printed, output formats, number formatting, whole-or-nothing
// output files, phase timings, exit codes (docs/cli.md).
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "graph/evaluation.hpp"
#include "graph/model.hpp"
#include "graph/monte_carlo.hpp"
#include "specs/load.hpp"

namespace capgraph::cli {

enum ExitCode : int { kOk = 0, kInvalid = 1, kUsage = 2, kIo = 3 };

/// Thrown by subcommands to end with a message and an exit code.
struct Failure : std::runtime_error {
  int code;
  Failure(int c, const std::string& message) : std::runtime_error(message), code(c) {}
};

enum class Format { table, csv, json };

/// Options most subcommands take.
struct CommonOptions {
  std::string format = "table";
  std::string output;  ///< empty or "-" = standard output
  bool timings = false;
  std::size_t max_bytes = std::size_t{64} << 20;
  std::size_t max_nodes = 2'000'000;
  double max_uses = 1e6;      ///< largest count in one reference
  int max_points = 100'000;   ///< most sweep points (flag or scale.points)

  int max_shared_expanded = 24;
  double max_shared_work = 2e9;
  double max_at_least_work = EvalOptions{}.max_at_least_work;

  Format fmt() const;
  /// Engine options from the flags (threads as given).
  EvalOptions engine(unsigned threads = 1) const;
  /// Adds --format, -o/--output and everything add_loading() adds.
  void add_to(CLI::App& app, bool with_output = true);
  /// Adds --timings, --max-bytes, --max-nodes, --max-uses, --max-points and,
  /// with `engine`, the shared-skill limits --max-shared-expanded and
  /// --max-shared-work, and --max-at-least-work.
  void add_loading(CLI::App& app, bool engine = true);
  /// `n` sweep points from the flag `flag`; Failure(2) naming the limit and
  /// --max-points when n exceeds max_points.
  int check_points(const std::string& flag, int n) const;
};

/// --monte-carlo N --seed S --max-mc-trials T (eval, sweep, bottleneck).
struct MonteCarloFlags {
  std::uint64_t samples = 0;  ///< 0 = off
  std::uint64_t seed = 1;
  double max_trials = 1e6;
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

/// Output written as it is made, so that an output of many gigabytes (a
/// sweep of 100,000 tasks x 1,000 points in CSV) is never held in memory.
/// To a path: whole or not at all (a temporary beside it, renamed over it by
/// finish(); destroyed without finish(), the temporary is removed and an
/// existing file is untouched). To standard output ("" or "-") or a device
/// or FIFO: written through; a reader that went away (EPIPE, `| head`) ends
/// the output quietly (closed() turns true, later writes are dropped).
/// Failure(3) on any other I/O error. Open it only once the content is
/// known to be valid: it creates the temporary at once.
class OutputStream {
 public:
  explicit OutputStream(const CommonOptions& opts);
  ~OutputStream();
  OutputStream(const OutputStream&) = delete;
  OutputStream& operator=(const OutputStream&) = delete;

  void write(std::string_view text) {
    if (text.size() > kBuffer - used_) {
      flush();
      if (text.size() >= kBuffer) return put(text.data(), text.size());
    }
    std::memcpy(buf_.get() + used_, text.data(), text.size());
    used_ += text.size();
  }
  OutputStream& operator<<(std::string_view text) {
    write(text);
    return *this;
  }
  OutputStream& operator<<(char c) { return *this << std::string_view(&c, 1); }
  /// The shortest round-trip form of num(), without a temporary string.
  void number(double v);
  /// Whether the reader went away: further output is dropped, so a long
  /// writer may stop early.
  bool closed() const { return closed_; }
  /// Flushes, and for a path renames the temporary over it.
  void finish();

 private:
  static constexpr std::size_t kBuffer = std::size_t{1} << 20;
  void flush();
  void put(const char* data, std::size_t size);
  [[noreturn]] void fail(int err);

  std::string name_;    // as given, for messages
  std::string target_;  // a regular file: renamed onto at finish(); else empty
  std::string temp_;    // its temporary
  int fd_ = -1;
  bool own_fd_ = false;
  bool closed_ = false, finished_ = false;
  std::unique_ptr<char[]> buf_;
  std::size_t used_ = 0;
};

/// The text of `os`; std::bad_alloc if it failed. A std::ostringstream that
/// cannot grow sets its badbit and keeps what it had: without this check a
/// sweep under a memory limit wrote a truncated file and exited 0.
std::string text_of(const std::ostringstream& os);

/// Writes `text` through an OutputStream (whole or not at all for a path).
void write_output(const std::string& text, const CommonOptions& opts);

/// Shortest text that reads back as the same double ("-inf", "inf", "nan" for
/// the non-finite). Deterministic.
std::string num(double v);
/// A short human form for tables: 4 significant digits.
std::string num_short(double v, int digits = 4);
/// Parses a positive finite number from a flag value like "1e10"; Failure(2) otherwise.
double parse_positive(const std::string& flag, const std::string& text);

/// Splits "a,b,c".
std::vector<std::string> split_list(const std::string& text);

/// Node indices for ids given on the command line; Failure(2) with a
/// did-you-mean hint for an unknown id.
std::vector<std::size_t> resolve_ids(const Model& model, const std::vector<std::string>& ids, bool tasks_only);

/// A plain-text table with aligned columns (numbers right-aligned).
class TextTable {
 public:
  /// `align` gives one letter per column: 'l', 'r', or 'a' (auto: right if
  /// the cell is a number). Missing letters mean 'a'.
  explicit TextTable(std::vector<std::string> header, std::string align = "")
      : header_(std::move(header)), align_(std::move(align)) {}
  void row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  std::string str() const;

 private:
  std::vector<std::string> header_;
  std::string align_;
  std::vector<std::vector<std::string>> rows_;
};

/// CSV field quoting (RFC 4180).
std::string csv_field(const std::string& s);

/// "skill", or the task's gate ("all", "any", ...), as outputs name a node's kind.
std::string kind_of(const NodeSpec& n);

/// A number for JSON, which cannot hold infinities: ln 0 is written as null
/// (docs/measures.md §3); so is an absent optional.
nlohmann::ordered_json jnum(double v);
nlohmann::ordered_json jopt(const std::optional<double>& v);

/// "params" / "compute" and a description of a scale point for titles.
std::string describe_point(const Model& model, const ScalePoint& pt);

}  // namespace capgraph::cli
