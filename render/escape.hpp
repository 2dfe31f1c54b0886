// capgraph/render/escape.hpp — text made safe for SVG/XML and Graphviz labels.
//
// Every string that comes from a spec (ids, labels, descriptions, group
// names) passes through one of these before it reaches a map or a plot.
// Which function for which sink:
//
//   our own SVG (plots, map legend)          xml_escape
//   a DOT file written by hand               dot_label_escape (inside "...")
//   a Graphviz label set through cgraph      gv_label_text
//   a Graphviz tooltip set through cgraph    gv_tooltip_text
//
// Why two Graphviz forms (Graphviz 2.42, measured; tests/test_render_map.cpp
// checks the result): a plain label is expanded for `\N \G \E \T \H \L`
// (object names), then HTML entities are decoded (`&lt;` becomes `<`), then
// `\n \l \r \\` are interpreted. So a label keeps user text literal with
// `\` -> `\\` and `&` -> `&amp;`. A tooltip goes through entity decoding,
// then one unescaping pass (`\X` -> X, `\l` -> newline), then the name
// expansion (`\N` -> name, `\\` -> `\`): a literal backslash needs four.
//
// Every function here replaces invalid UTF-8 bytes, and U+FFFE and U+FFFF
// (valid UTF-8 but not XML 1.0 characters), with U+FFFD: an SVG holding them
// is not well-formed (docs/reliability.md).
#pragma once

#include <string>
#include <string_view>

namespace capgraph::render {

/// Escapes & < > " ' for XML text and attribute values. Control characters
/// other than tab/newline are dropped (they are not allowed in XML 1.0).
/// Valid UTF-8 passes through unchanged; an invalid byte becomes U+FFFD.
std::string xml_escape(std::string_view text);

/// Escapes a Graphviz plain (non-HTML) label inside a double-quoted DOT
/// string: backslash and double quote, so that `\N`, `\l`, `\n` in user
/// text stay literal. Control characters become spaces.
std::string dot_label_escape(std::string_view text);

/// One line of a plain Graphviz label set through the cgraph API (no DOT
/// quoting needed): `\` -> `\\`, `&` -> `&amp;`; newlines and other control
/// characters become spaces; invalid UTF-8 bytes become U+FFFD. Join lines
/// with the two characters `\n` (Graphviz's centred line break).
std::string gv_label_text(std::string_view text);

/// A Graphviz tooltip set through the cgraph API: `&` -> `&amp;`,
/// `\` -> `\\\\`; newlines kept (Graphviz writes them as `&#10;`); other
/// control characters dropped; invalid UTF-8 bytes become U+FFFD.
std::string gv_tooltip_text(std::string_view text);

/// `text` with invalid UTF-8 sequences replaced by U+FFFD (so that the XML
/// we write is always well-formed, whatever bytes a spec held).
std::string valid_utf8(std::string_view text);

}  // namespace capgraph::render
