// capgraph/render/graphviz_writer.hpp — lay out and render a graph with
// Graphviz (cgraph + gvc), in-process.
//
// The writer knows nothing of capability models or colours: it receives a
// GvGraph whose attributes are final Graphviz attribute strings (the map
// code fills them from a MapStyle, see map_style.hpp) and turns it into SVG,
// DOT, PNG or PDF bytes. That split is LLVM's DOTGraphTraits idea:
// presentation decided elsewhere, this file only builds the cgraph graph
// and lays it out.
//
// Graphviz 2.42 pitfalls handled here (docs/decisions.md, "Known pitfalls of the packages"):
//  - no plugin configuration file needed: the context is made with
//    gvContextPlugins() from our own table of built-in plugin libraries
//    (gvplugin_core, gvplugin_dot_layout, gvplugin_neato_layout), loaded with
//    dlopen from the graphviz/ folder next to the libgvc in use, so no path
//    is built in; every layout also loads libgvplugin_pango that way, for
//    text measured with the real font and for the cairo renderers (PNG,
//    PDF); SVG falls back to the built-in estimates with a warning when it
//    cannot be loaded, PNG and PDF say clearly that they cannot be made;
//  - not thread-safe: every Graphviz call runs under one process-wide mutex;
//  - errors and warnings are captured with agseterrf() and turned into a
//    GraphvizError / returned warnings, never printed to stderr;
//  - the C API takes non-const char*: every string is copied first;
//  - one context for the process (the pango plugin keeps a pointer into
//    the context's font dictionary across calls); each graph and its layout
//    are freed before returning (no leaks under valgrind beyond the
//    suppressed ones of render/graphviz-2.42.supp; HTML-like labels are
//    avoided because Graphviz 2.42's HTML parser leaks on every label).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace capgraph::render {

/// Graphviz reported an error, or a needed plugin is unavailable.
class GraphvizError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Attribute name/value pairs, applied in order.
using GvAttrs = std::vector<std::pair<std::string, std::string>>;

struct GvNode {
  std::string name;  ///< unique within the graph
  GvAttrs attrs;
};

struct GvEdge {
  std::size_t tail = 0, head = 0;  ///< indices into GvGraph::nodes
  GvAttrs attrs;
};

/// A cluster (drawn box around its nodes; `dot` only). Nodes in at most one.
struct GvCluster {
  GvAttrs attrs;
  std::vector<std::size_t> nodes;
};

/// A rank constraint subgraph ("same", "min", "max", "source", "sink").
struct GvRank {
  std::string rank = "same";
  std::vector<std::size_t> nodes;
};

struct GvGraph {
  GvAttrs graph_attrs, node_defaults, edge_defaults;
  std::vector<GvNode> nodes;
  std::vector<GvEdge> edges;
  std::vector<GvCluster> clusters;
  std::vector<GvRank> ranks;
};

enum class GvOutput { svg, dot, png, pdf };

struct GvRendered {
  std::string data;                   ///< SVG / DOT text or PNG / PDF bytes
  std::vector<std::string> warnings;  ///< Graphviz warnings, one per line
};

/// Builds `graph` in cgraph, lays it out with `engine` ("dot", "sfdp",
/// "neato", "fdp", "circo", "twopi") and renders it. For GvOutput::dot the
/// graph is written without layout (agwrite: the DOT a user can run through
/// `dot` themselves), with `layout=<engine>` recorded. Deterministic: the
/// same graph gives the same bytes. Time: that of the layout engine.
/// Throws GraphvizError with Graphviz's own message on failure, and for PNG
/// when the cairo renderer cannot be loaded.
GvRendered graphviz_render(const GvGraph& graph, const std::string& engine, GvOutput output);

/// True if PNG and PDF output work here (the cairo plugin can be loaded).
bool graphviz_png_available();

/// The Graphviz version string ("2.43.0"), for reports.
std::string graphviz_version();

}  // namespace capgraph::render
