// capgraph/render/escape.hpp — text made safe for SVG/XML and Graphviz labels.
//
// Every string that comes from a spec (ids, labels, descriptions, group
// names) passes through one of these before it reaches a map or a plot.
#pragma once

#include <string>
#include <string_view>

namespace capgraph::render {

/// Escapes & < > " ' for XML text and attribute values. Control characters
/// other than tab/newline are dropped (they are not allowed in XML 1.0).
std::string xml_escape(std::string_view text);

/// Escapes a Graphviz plain (non-HTML) label: backslash and double quote, so
/// that `\N`, `\l`, `\n` in user text stay literal.
std::string dot_label_escape(std::string_view text);

}  // namespace capgraph::render
