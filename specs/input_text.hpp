// capgraph/specs/input_text.hpp — text and numbers as they enter capgraph,
// read the same way whatever they come from (a spec, an observations CSV,
// a command-line value): UTF-8 only, a byte order mark allowed at the start,
// one number syntax, one accepted range of scale points.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "../graph/model_spec.hpp"

namespace capgraph::specs {

/// Offset of the first byte that does not start a well-formed UTF-8
/// sequence (overlong forms, surrogates and code points above U+10FFFF are
/// ill-formed), or std::string_view::npos.
std::size_t first_invalid_utf8(std::string_view s);

/// "invalid UTF-8 (byte 0xFF)" for the byte at `offset` of `s`.
std::string invalid_utf8_message(std::string_view s, std::size_t offset);

/// `s` without a leading UTF-8 byte order mark (EF BB BF), as spreadsheet
/// programs write one.
std::string_view strip_bom(std::string_view s);

/// Position (1-based line, column in characters) of byte `offset` in `text`.
SourceLoc position_of_offset(std::string_view text, std::size_t offset);

enum class NumberStatus { ok, not_a_number, not_finite, out_of_range };

/// Parses a whole text as a number: decimal or scientific notation as
/// std::from_chars reads it, with an optional leading '+' ("+1e9", "1e+9"
/// and "1000000000" are the same number). YAML's .inf and .nan spellings,
/// "inf" and "nan" are not_finite; a value beyond a double, out_of_range.
NumberStatus parse_number(std::string_view t, double& out);

/// The scale points capgraph accepts on either axis (parameters, or training
/// FLOPs): 1 to 1e60 (docs/measures.md §1). Within it, the parameters,
/// tokens and compute a point derives are finite and normal (checked by
/// scale_problem for a given scale), so every number printed is finite.
inline constexpr double kScaleMin = 1;
inline constexpr double kScaleMax = 1e60;

/// Why `x` is not an accepted scale point ("" if it is): outside
/// [kScaleMin, kScaleMax], or, given the spec's scale, deriving parameters,
/// tokens or compute that are not finite and normal.
std::string scale_problem(double x, const ScaleSpec* scale = nullptr);

}  // namespace capgraph::specs
