// capgraph/cli/formats.hpp — the text of outputs: numbers, aligned tables,
// CSV fields and JSON (docs/cli.md, "Output formats").
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "graph/model.hpp"

namespace capgraph::cli {

enum class Format { table, csv, json };

/// Shortest text that reads back as the same double ("-inf", "inf", "nan" for
/// the non-finite). Deterministic.
std::string num(double v);
/// A short human form for tables: 4 significant digits.
std::string num_short(double v, int digits = 4);

/// The text of `os`; std::bad_alloc if it failed. A std::ostringstream that
/// cannot grow sets its badbit and keeps what it had: without this check a
/// sweep under a memory limit wrote a truncated file and exited 0.
std::string text_of(const std::ostringstream& os);

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

/// The JSON text of `j`. Never throws: every text is checked as UTF-8 when
/// it enters capgraph, and should a string still hold an invalid byte it is
/// written as U+FFFD rather than ending the program.
std::string json_text(const nlohmann::ordered_json& j, int indent = 2);

/// "params" / "compute" and a description of a scale point for titles.
std::string describe_point(const Model& model, const ScalePoint& pt);

}  // namespace capgraph::cli
