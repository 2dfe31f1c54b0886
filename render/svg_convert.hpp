// capgraph/render/svg_convert.hpp — an SVG document drawn to PNG or PDF
// with librsvg and cairo (`capgraph plot -o curves.png|pdf`).
//
// The SVG is parsed by librsvg (no external references are loaded: the
// plot SVG has none) and drawn on a cairo surface: an image surface
// written as PNG at `dpi` dots per inch (the SVG's px are CSS px, 96 per
// inch), or a PDF surface of the SVG's size (96 px = 72 pt) where text
// stays text (fonts embedded by cairo). Same input, same bytes: the PDF's
// creation date is fixed (cairo would otherwise write the current time).
//
// Errors: std::runtime_error with librsvg's or cairo's message.
#pragma once

#include <string>

namespace capgraph::render {

/// PNG bytes of `svg`, drawn at `dpi` (> 0): a W x H px SVG gives
/// round(W * dpi / 96) x round(H * dpi / 96) pixels, on white.
std::string svg_to_png(const std::string& svg, double dpi);

/// PDF bytes of `svg`: one page of W x H px = W * 0.75 x H * 0.75 pt.
std::string svg_to_pdf(const std::string& svg);

}  // namespace capgraph::render
