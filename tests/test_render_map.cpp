// Tests of capability maps (render/map.hpp): structure of the SVG parsed as
// XML (nodes, edges, clusters, colours, legend), escaping of hostile text,
// determinism, the large-map strategy, focus and the bottleneck overlay,
// Graphviz error capture.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <set>

#include "graph/evaluation.hpp"
#include "graph/importance.hpp"
#include "render/escape.hpp"
#include "render/graphviz_writer.hpp"
#include "render/map.hpp"
#include "test_render_support.hpp"

using namespace capgraph;
using namespace capgraph::render;
using capgraph::test::XmlElement;
using capgraph::test::XmlReader;

namespace {

std::vector<const XmlElement*> with_class(const XmlElement& root, const std::string& name, const std::string& cls) {
  return root.find_all([&](const XmlElement& e) { return e.name == name && e.has_class(cls); });
}

// The <g class="node"> whose <title> is `name`.
const XmlElement* node_group(const XmlElement& root, const std::string& name) {
  for (const XmlElement* g : with_class(root, "g", "node"))
    for (const auto& c : g->children)
      if (c->name == "title" && c->text == name) return g;
  return nullptr;
}

// The fill of the first shape drawn inside a node group.
std::string shape_fill(const XmlElement& g) {
  std::string fill;
  g.visit([&](const XmlElement& e) {
    if (!fill.empty()) return;
    if ((e.name == "ellipse" || e.name == "polygon" || e.name == "path") && e.attr("fill")) fill = *e.attr("fill");
  });
  return fill;
}

double p_at(const Model& m, const std::string& id, double x) {
  const double xs[1] = {x};
  const Evaluation ev = evaluate(m, xs);
  return ev.p(*m.find(id), 0);
}

// Runs f with stderr redirected to a temporary file; returns what was written.
template <class F>
std::string captured_stderr(F f) {
  std::fflush(stderr);
  FILE* tmp = std::tmpfile();
  const int saved = dup(2);
  dup2(fileno(tmp), 2);
  try {
    f();
  } catch (...) {
    std::fflush(stderr);
    dup2(saved, 2);
    close(saved);
    std::fclose(tmp);
    throw;
  }
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::rewind(tmp);
  std::string out;
  char buf[512];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, tmp)) > 0) out.append(buf, n);
  std::fclose(tmp);
  return out;
}

}  // namespace

TEST_CASE("viridis endpoints, monotone lightness, readable text", "[render][style]") {
  CHECK(viridis(0).hex() == "#440154");
  CHECK(viridis(1).hex() == "#fde725");
  CHECK(viridis(-3).hex() == "#440154");
  CHECK(viridis(7).hex() == "#fde725");
  CHECK(viridis(std::nan("")).hex() == "#440154");
  double last = -1;
  for (int i = 0; i <= 100; ++i) {
    const double l = relative_luminance(viridis(i / 100.0));
    CHECK(l >= last - 1e-3);  // viridis rises in lightness throughout
    last = l;
  }
  CHECK(readable_text_on(viridis(0)) == Rgb{255, 255, 255});
  CHECK(readable_text_on(viridis(1)) == Rgb{0, 0, 0});
  for (int i = 0; i <= 20; ++i) CHECK(contrast_ratio(viridis(i / 20.0), readable_text_on(viridis(i / 20.0))) >= 4.5);
}

TEST_CASE("style texts: gates, P, curves, numbers", "[render][style]") {
  MapStyle st;
  CHECK(st.p_text(0.4213) == "P = 0.42");
  CHECK(st.p_text(0) == "P = 0");
  CHECK(st.p_text(1) == "P = 1");
  CHECK(st.p_text(3.1e-7) == "P = 3.1e-7");
  CHECK(st.p_text(0.996) == "P = 0.9960");
  CHECK(st.p_text(0.99999) == "P > 0.9999");
  NodeSpec t;
  t.is_task = true;
  t.uses = {Use{0, 3, {}}, Use{1, 2, {}}};
  t.gate = GateKind::all;
  CHECK(gate_text(t) == "all of 5");
  t.gate = GateKind::at_least;
  t.k = 2;
  CHECK(gate_text(t) == "at least 2 of 5");
  t.gate = GateKind::mean;
  CHECK(gate_text(t) == "mean of 2");
  t.gate = GateKind::best_of;
  t.best_n = 10;
  CHECK(gate_text(t) == "best of 10");
  CHECK(curve_text(test::logistic(2e9, 1.2)) == "logistic(mid = 2e9, slope = 1.2)");
}

TEST_CASE("escaping for Graphviz and XML", "[render][escape]") {
  CHECK(gv_label_text("a\\N&lt;b") == "a\\\\N&amp;lt;b");
  CHECK(gv_label_text("line\nbreak") == "line break");
  CHECK(gv_tooltip_text("x\\l & y\nz") == "x\\\\\\\\l &amp; y\nz");
  CHECK(xml_escape("<a href=\"x\">&'") == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
  CHECK(xml_escape("caf\xC3\xA9 \xE4\xB8\xAD") == "caf\xC3\xA9 \xE4\xB8\xAD");  // UTF-8 kept
  CHECK(xml_escape("bad \xFF byte") == "bad \xEF\xBF\xBD byte");            // invalid -> U+FFFD
  CHECK(xml_escape("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  CHECK(xml_escape("ctl\x01x") == "ctlx");
}

// U+FFFE and U+FFFF are valid UTF-8 but not XML 1.0 characters; a spec
// label "\uFFFE" made an SVG that XML parsers refuse (docs/reliability.md).
TEST_CASE("escaping drops the XML noncharacters U+FFFE and U+FFFF", "[render][escape]") {
  const std::string bad = "a\xEF\xBF\xBE b\xEF\xBF\xBF c\xEF\xBF\xBD";  // U+FFFE, U+FFFF, U+FFFD (kept)
  const std::string want = "a\xEF\xBF\xBD b\xEF\xBF\xBD c\xEF\xBF\xBD";
  CHECK(xml_escape(bad) == want);
  CHECK(valid_utf8(bad) == want);
  CHECK(gv_label_text(bad) == want);
  CHECK(gv_tooltip_text(bad) == want);
  CHECK(dot_label_escape(bad) == want);
  test::SpecBuilder b("name \xEF\xBF\xBE");
  b.skill("s", test::constant(0.5), "grp \xEF\xBF\xBF", "label \xEF\xBF\xBE", "tip \xEF\xBF\xBF");
  b.task("t", GateKind::all, {{"s", 1}}, "", "task \xEF\xBF\xBE");
  const MapResult r = render_map(b.compile(), 1e9);
  CHECK(r.data.find("\xEF\xBF\xBE") == std::string::npos);
  CHECK(r.data.find("\xEF\xBF\xBF") == std::string::npos);
  CHECK_NOTHROW(XmlReader::parse(r.data));
}

TEST_CASE("emoji movie map: nodes, edges, clusters, colours, legend", "[render][map]") {
  const Model m = Model::compile(test::emoji_movie_spec());
  const MapResult r = render_map(m, 1e10);
  CHECK(r.engine == "dot");
  CHECK(r.nodes == 5);
  CHECK(r.edges == 4);
  CHECK(r.clusters == 2);
  CHECK(r.notes.empty());
  const auto doc = XmlReader::parse(r.data);
  CHECK(doc->name == "svg");
  CHECK(with_class(*doc, "g", "node").size() == 5);
  CHECK(with_class(*doc, "g", "edge").size() == 4);
  CHECK(with_class(*doc, "g", "cluster").size() == 2);
  CHECK(with_class(*doc, "g", "skill").size() == 3);
  CHECK(with_class(*doc, "g", "task").size() == 2);

  for (const char* id : {"emoji_semantics", "title_recall", "movie_facts", "decode_clues", "emoji_movie"}) {
    INFO(id);
    const XmlElement* g = node_group(*doc, id);
    REQUIRE(g);
    CHECK(shape_fill(*g) == viridis(p_at(m, id, 1e10)).hex());
    CHECK(g->all_text().find("P = ") != std::string::npos);
  }
  // skills are ellipses, tasks rounded boxes (paths)
  CHECK(!node_group(*doc, "title_recall")->find_all([](const XmlElement& e) { return e.name == "ellipse"; }).empty());
  CHECK(node_group(*doc, "emoji_movie")->find_all([](const XmlElement& e) { return e.name == "ellipse"; }).empty());
  // gate text, label, tooltip numbers
  CHECK(node_group(*doc, "decode_clues")->all_text().find("all of 3") != std::string::npos);
  CHECK(node_group(*doc, "emoji_semantics")->all_text().find("Emoji -> concept") != std::string::npos);
  bool tooltip_has_metrics = false;
  node_group(*doc, "emoji_movie")->visit([&](const XmlElement& e) {
    if (const std::string* t = e.attr("xlink:title"))
      tooltip_has_metrics = t->find("multiple_choice:5 = ") != std::string::npos &&
                            t->find("partial_credit = ") != std::string::npos &&
                            t->find("threshold = 0.5") != std::string::npos;
  });
  CHECK(tooltip_has_metrics);
  bool tooltip_has_curve = false;
  node_group(*doc, "movie_facts")->visit([&](const XmlElement& e) {
    if (const std::string* t = e.attr("xlink:title")) tooltip_has_curve = t->find("logistic(mid = 1e10, slope = 0.9)") != std::string::npos;
  });
  CHECK(tooltip_has_curve);
  // uses > 1 labelled on the edge
  CHECK(doc->all_text().find("\u00d73") != std::string::npos);
  // legend: a colour bar with ticks 0..1
  const auto legend = doc->find_all([](const XmlElement& e) { return e.attr("id") && *e.attr("id") == "legend"; });
  REQUIRE(legend.size() == 1);
  const std::string lt = legend[0]->all_text();
  for (const char* tick : {"0.00", "0.25", "0.50", "0.75", "1.00"}) CHECK(lt.find(tick) != std::string::npos);
  CHECK(doc->find_all([](const XmlElement& e) { return e.name == "stop"; }).size() == 17);
  CHECK(test::script_problem(*doc).empty());
}

TEST_CASE("hostile text is escaped and inert", "[render][map][escape]") {
  test::SpecBuilder b("<script>alert('name')</script> & \"spec\"");
  b.skill("a--b", test::logistic(1e9, 1), "G&<g onload=\"x\"> \\N", "<script>alert(1)</script>",
          "desc \" onmouseover=\"alert(2)\" javascript:alert(3) <img src=x onerror=y> \\l &amp; ]]> \\N");
  b.skill("s2", test::constant(0.3), "", "\\N \\l \\G &lt; &#60; \xE4\xB8\xAD\xE6\x96\x87 na\xC3\xAFve");
  b.skill("s3", test::constant(0.7), "", "<b>bold</b> <!-- c --> <![CDATA[x]]>");
  b.task("t", GateKind::any, {{"a--b", 1}, {"s2", 2}, {"s3", 1}}, "", "javascript:alert(4) <a href='x'>");
  const Model m = b.compile();
  for (MapFormat fmt : {MapFormat::svg, MapFormat::dot}) {
    MapOptions o;
    o.format = fmt;
    const MapResult r = render_map(m, 1e9, o);
    if (fmt == MapFormat::dot) {
      CHECK(r.data.find("digraph") == 0);
      CHECK(r.data.find("\\\\N") != std::string::npos);  // \N kept literal (escaped)
      continue;
    }
    const auto doc = XmlReader::parse(r.data);  // well-formed XML
    CHECK(test::script_problem(*doc).empty());
    const std::string text = doc->all_text();
    CHECK(text.find("<script>alert(1)</script>") != std::string::npos);  // shown as text
    CHECK(text.find("\\N \\l \\G &lt; &#60;") != std::string::npos);     // not expanded, not decoded
    CHECK(text.find("\xE4\xB8\xAD\xE6\x96\x87 na\xC3\xAFve") != std::string::npos);
    CHECK(text.find("G&<g onload=\"x\"> \\N") != std::string::npos);      // group name, literal
    CHECK(text.find("<b>bold</b> <!-- c --> <![CDATA[x]]>") != std::string::npos);
    bool tooltip_literal = false;
    doc->visit([&](const XmlElement& e) {
      if (const std::string* t = e.attr("xlink:title"))
        if (t->find("desc \" onmouseover=\"alert(2)\" javascript:alert(3) <img src=x onerror=y> \\l &amp; ]]> \\N") !=
            std::string::npos)
          tooltip_literal = true;
    });
    CHECK(tooltip_literal);
  }
}

TEST_CASE("maps are deterministic", "[render][map]") {
  const Model m = Model::compile(test::generated_spec(120, 6, 7));
  for (MapFormat fmt : {MapFormat::svg, MapFormat::dot}) {
    MapOptions o;
    o.format = fmt;
    const std::string a = render_map(m, 3e9, o).data;
    const std::string b = render_map(m, 3e9, o).data;
    CHECK(a == b);
    CHECK(a.size() > 1000);
  }
}

TEST_CASE("directions and DOT output", "[render][map]") {
  const Model m = Model::compile(test::emoji_movie_spec());
  MapOptions o;
  o.format = MapFormat::dot;
  for (const char* dir : {"BT", "TB", "LR", "rl"}) {
    o.direction = *parse_map_direction(dir);
    const std::string dot = render_map(m, 1e10, o).data;
    std::string want = std::string("rankdir=") + dir;
    for (std::size_t i = 8; i < want.size(); ++i) want[i] = static_cast<char>(std::toupper(want[i]));
    CHECK(dot.find(want) != std::string::npos);
    CHECK(dot.find("newrank=true") != std::string::npos);
    CHECK(dot.find("_legend_0") != std::string::npos);  // swatch legend for DOT/PNG
  }
  CHECK_FALSE(parse_map_direction("up"));
  CHECK(parse_map_format("png") == MapFormat::png);
  CHECK_FALSE(parse_map_format("jpg"));
  CHECK(parse_bottleneck_measure("birnbaum") == BottleneckMeasure::birnbaum);
  CHECK(parse_bottleneck_measure("potential") == BottleneckMeasure::potential);
}

TEST_CASE("focus draws a task's cone to a depth", "[render][map]") {
  const Model m = Model::compile(test::generated_spec(200, 0, 3));
  const std::size_t top = m.tasks().back();
  MapOptions o;
  o.focus = top;
  o.focus_depth = 1;
  const MapResult r = render_map(m, 1e10, o);
  std::set<std::size_t> kids;
  for (std::size_t u = m.use_begin(top); u < m.use_end(top); ++u) kids.insert(m.use_child(u));
  CHECK(r.nodes == 1 + kids.size());
  const auto doc = XmlReader::parse(r.data);
  CHECK(with_class(*doc, "g", "node").size() == 1 + kids.size());
  CHECK(doc->all_text().find(" hidden") != std::string::npos);  // cut prerequisites are announced

  o.focus_depth = -1;
  const MapResult all = render_map(m, 1e10, o);
  CHECK(all.nodes > r.nodes);
  MapOptions bad;
  bad.focus = m.size();
  CHECK_THROWS_AS(render_map(m, 1e10, bad), std::invalid_argument);
}

TEST_CASE("a group's page draws its nodes only and marks prerequisites of other groups", "[render][map]") {
  const Model m = Model::compile(test::emoji_movie_spec());
  // groups in order of first appearance, the ungrouped last
  CHECK(map_groups(m) == std::vector<std::string>{"perception", "memory", ""});
  MapOptions o;
  o.group = "perception";
  const MapResult r = render_map(m, 1e10, o);
  CHECK(r.nodes == 2);  // emoji_semantics, decode_clues
  const auto doc = XmlReader::parse(r.data);
  CHECK(with_class(*doc, "g", "node").size() == 2);
  CHECK(doc->all_text().find("Emoji -> concept") != std::string::npos);
  CHECK(doc->all_text().find("title_recall") == std::string::npos);
  CHECK(doc->all_text().find("perception \u2014 P at") != std::string::npos);  // the title names the page
  // The ungrouped page: emoji_movie, its three prerequisites on other pages.
  o.group = "";
  const MapResult top = render_map(m, 1e10, o);
  CHECK(top.nodes == 1);
  CHECK(XmlReader::parse(top.data)->all_text().find("+3 hidden") != std::string::npos);
  o.group = "no such group";
  CHECK_THROWS_AS(render_map(m, 1e10, o), std::invalid_argument);
  o.group = "memory";
  o.focus = 0;
  CHECK_THROWS_AS(render_map(m, 1e10, o), std::invalid_argument);
}

TEST_CASE("the smallest label at the page: the label size times the fit of the SVG's size", "[render][map]") {
  const Model m = Model::compile(test::generated_spec(120, 6, 2));
  MapOptions o;
  const MapResult r = render_map(m, 1e10, o);
  const auto doc = XmlReader::parse(r.data);
  const double w = std::stod(*doc->attr("width")), h = std::stod(*doc->attr("height"));  // "1234pt"
  const double page_w = 16 / 2.54 * 72, page_h = 24 / 2.54 * 72;
  const double fit = std::min(1.0, std::max(std::min(page_w / w, page_h / h), std::min(page_h / w, page_w / h)));
  CHECK(r.smallest_label_at_page == Approx(o.style.font_size * fit).epsilon(1e-9));
  CHECK(r.smallest_label_at_page < o.style.font_size);
  // On a page larger than the drawing, never enlarged.
  MapOptions large = o;
  large.page_width = large.page_height = 5000;
  CHECK(render_map(Model::compile(test::emoji_movie_spec()), 1e10, large).smallest_label_at_page == o.style.font_size);
  o.format = MapFormat::dot;
  CHECK(render_map(m, 1e10, o).smallest_label_at_page == 0);
}

TEST_CASE("bottleneck overlay: widths and the critical path", "[render][map][overlay]") {
  const Model m = Model::compile(test::emoji_movie_spec());
  const std::size_t task = *m.find("emoji_movie");
  // Hand-built overlay (independent of the importance engine).
  BottleneckOverlay ov;
  ov.task = task;
  ov.measure = BottleneckMeasure::birnbaum;
  ov.birnbaum.assign(m.size(), std::nullopt);
  ov.improvement.assign(m.size(), std::nullopt);
  ov.birnbaum[*m.find("decode_clues")] = 0.3;
  ov.birnbaum[*m.find("movie_facts")] = 0.2;
  ov.birnbaum[*m.find("title_recall")] = 0.1;
  ov.birnbaum[*m.find("emoji_semantics")] = 0.05;
  ov.critical_path = {task, *m.find("decode_clues"), *m.find("emoji_semantics")};
  MapOptions o;
  o.overlay = ov;
  const MapResult r = render_map(m, 1e10, o);
  const auto doc = XmlReader::parse(r.data);
  const auto critical_edges = with_class(*doc, "g", "critical");
  std::size_t edges = 0, nodes = 0;
  for (const XmlElement* g : critical_edges) (g->has_class("edge") ? edges : nodes) += 1;
  CHECK(edges == 2);
  CHECK(nodes == 3);
  std::set<std::string> widths;
  for (const XmlElement* g : with_class(*doc, "g", "edge"))
    g->visit([&](const XmlElement& e) {
      if (e.name == "path" && e.attr("stroke-width")) widths.insert(*e.attr("stroke-width"));
      if (e.name == "path" && g->has_class("critical")) CHECK(*e.attr("stroke") == "#d55e00");
    });
  CHECK(widths.size() >= 3);  // widths follow the measure
  CHECK(doc->all_text().find("critical path of emoji_movie") != std::string::npos);

  // From the engine's bottleneck table.
  const ImportanceTable table = importance(m, task, 1e10);
  MapOptions o2;
  o2.overlay = overlay_from_importance(table, BottleneckMeasure::potential, m.size());
  const auto doc2 = XmlReader::parse(render_map(m, 1e10, o2).data);
  std::size_t critical_edges2 = 0;
  for (const XmlElement* g : with_class(*doc2, "g", "critical")) critical_edges2 += g->has_class("edge");
  CHECK(critical_edges2 + 1 == table.critical_path.size());
}

TEST_CASE("large maps collapse groups or switch to sfdp, and say so", "[render][map][large]") {
  SECTION("groups collapse") {
    const Model m = Model::compile(test::generated_spec(400, 12, 5));
    MapOptions o;
    o.node_limit = 100;
    const MapResult r = render_map(m, 1e10, o);
    CHECK(r.collapsed_groups);
    CHECK(r.engine == "dot");
    CHECK(r.nodes <= 100);
    REQUIRE_FALSE(r.notes.empty());
    CHECK(r.notes[0].find("collapsed") != std::string::npos);
    const auto doc = XmlReader::parse(r.data);
    CHECK(with_class(*doc, "g", "group").size() == r.nodes);
    CHECK(doc->all_text().find("groups collapsed") != std::string::npos);  // said on the map too
  }
  SECTION("no groups: sfdp") {
    const Model m = Model::compile(test::generated_spec(300, 0, 5));
    MapOptions o;
    o.node_limit = 100;
    const MapResult r = render_map(m, 1e10, o);
    CHECK(r.engine == "sfdp");
    CHECK(r.nodes == 300);
    REQUIRE_FALSE(r.notes.empty());
    CHECK(r.notes[0].find("sfdp") != std::string::npos);
    CHECK_NOTHROW(XmlReader::parse(r.data));
  }
  SECTION("too large") {
    const Model m = Model::compile(test::generated_spec(300, 0, 5));
    MapOptions o;
    o.node_limit = 50;
    o.max_nodes = 100;
    CHECK_THROWS_AS(render_map(m, 1e10, o), MapTooLarge);
  }
}

TEST_CASE("PNG through Graphviz's cairo plugin, or a clear error", "[render][map][png]") {
  const Model m = Model::compile(test::emoji_movie_spec());
  MapOptions o;
  o.format = MapFormat::png;
  if (graphviz_png_available()) {
    const MapResult r = render_map(m, 1e10, o);
    REQUIRE(r.data.size() > 8);
    CHECK(r.data.substr(0, 4) == "\x89PNG");
  } else {
    try {
      render_map(m, 1e10, o);
      FAIL("expected GraphvizError");
    } catch (const GraphvizError& e) {
      CHECK(std::string(e.what()).find("rsvg-convert") != std::string::npos);
    }
  }
}

TEST_CASE("Graphviz errors become exceptions, never stderr output", "[render][graphviz]") {
  GvGraph g;
  g.nodes = {GvNode{"a", {}}, GvNode{"b", {}}};
  g.edges = {GvEdge{0, 1, {}}};
  std::string message;
  const std::string err = captured_stderr([&] {
    try {
      graphviz_render(g, "no_such_engine", GvOutput::svg);
    } catch (const GraphvizError& e) {
      message = e.what();
    }
  });
  CHECK(message.find("no_such_engine") != std::string::npos);
  CHECK(err.empty());
  // Warnings are returned, not printed.
  GvGraph w = g;
  w.nodes[0].attrs = {{"shape", "no_such_shape"}};
  GvRendered r;
  const std::string err2 = captured_stderr([&] { r = graphviz_render(w, "dot", GvOutput::svg); });
  CHECK(err2.empty());
  REQUIRE_FALSE(r.warnings.empty());
  CHECK(r.warnings[0].find("no_such_shape") != std::string::npos);
}

// Run under valgrind:
//   valgrind --leak-check=full --suppressions=render/graphviz-2.42.supp ./capgraph_tests "[valgrind]"
TEST_CASE("one example map, for valgrind", "[render][valgrind]") {
  const Model m = Model::compile(test::emoji_movie_spec());
  MapOptions o;
  const MapResult svg = render_map(m, 1e10, o);
  CHECK_NOTHROW(XmlReader::parse(svg.data));
  o.clusters = false;  // dot leaks inside Graphviz 2.42 with clusters: render/graphviz-2.42.supp
  CHECK_NOTHROW(XmlReader::parse(render_map(m, 1e10, o).data));
  o.format = MapFormat::dot;
  CHECK(render_map(m, 1e10, o).data.find("digraph") == 0);
}
