// Tests of curve plots (render/plot.hpp, render/svg_plot.hpp): the SVG
// parsed as XML (panels, series paths, threshold lines, crossings, legend
// with emergence measures, observed points), escaping, determinism, ticks.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "graph/emergence.hpp"
#include "render/map_style.hpp"
#include "render/plot.hpp"
#include "render/svg_plot.hpp"
#include "test_render_support.hpp"
#include "text/number_format.hpp"

using namespace capgraph;
using namespace capgraph::render;
using capgraph::test::XmlElement;
using capgraph::test::XmlReader;

namespace {

std::vector<const XmlElement*> by_class(const XmlElement& root, const std::string& cls) {
  return root.find_all([&](const XmlElement& e) { return e.has_class(cls); });
}

std::size_t count_in(const XmlElement& root, const std::string& cls) { return by_class(root, cls).size(); }

}  // namespace

TEST_CASE("mirage plot: one panel per metric, a path per series, thresholds, crossings", "[render][plot]") {
  const Model m = Model::compile(test::mirage_spec());
  const PlotResult r = render_plot(m);
  CHECK(r.panels == 3);  // exact match, partial credit, log-likelihood
  CHECK(r.lines == 6);   // 2 tasks x 3 metrics
  const auto doc = XmlReader::parse(r.svg);
  CHECK(doc->name == "svg");
  CHECK(test::script_problem(*doc).empty());
  const auto panels = by_class(*doc, "panel");
  REQUIRE(panels.size() == 3);
  const char* titles[] = {"exact match", "partial credit", "log-likelihood"};
  for (std::size_t i = 0; i < 3; ++i) {
    INFO(titles[i]);
    const auto t = by_class(*panels[i], "panel-title");
    REQUIRE(t.size() == 1);
    CHECK(t[0]->all_text() == titles[i]);
    CHECK(count_in(*panels[i], "series") == 2);
    for (const XmlElement* p : by_class(*panels[i], "series")) CHECK(p->attr("d")->size() > 200);
  }
  // threshold only where the metric is a probability; the log-likelihood panel has its own scale
  CHECK(count_in(*panels[0], "threshold") == 1);
  CHECK(count_in(*panels[1], "threshold") == 1);
  CHECK(count_in(*panels[2], "threshold") == 0);
  CHECK(count_in(*panels[0], "crossing") == 2);
  const auto yticks = by_class(*panels[2], "y-tick");
  REQUIRE_FALSE(yticks.empty());
  CHECK(yticks.back()->all_text() == "0");
  CHECK(yticks.front()->all_text()[0] != '0');  // negative: its own range
  // legend carries the emergence measures
  const std::string legend = by_class(*panels[0], "legend")[0]->all_text();
  CHECK(legend.find("ten steps in a row") != std::string::npos);
  CHECK(legend.find("B = ") != std::string::npos);
  CHECK(legend.find(" dec") != std::string::npos);
  CHECK(legend.find("\u2265 0.5 at ") != std::string::npos);
  // x axis: powers of ten with superscripts, labelled N
  const auto xticks = by_class(*panels[0], "x-tick");
  REQUIRE(xticks.size() == 6);  // 1e8 .. 1e13
  CHECK(xticks[0]->all_text() == "108");
  CHECK(xticks[0]->children.size() == 1);
  CHECK(xticks[0]->children[0]->name == "tspan");
  CHECK(by_class(*panels[0], "x-label")[0]->all_text() == "parameters N");
}

TEST_CASE("legend numbers agree with analyze_emergence on the spec's grid", "[render][plot]") {
  const Model m = Model::compile(test::mirage_spec());
  const std::size_t t = *m.find("ten_steps");
  const auto xs = ScaleAxis::log_spaced(m.axis().spec().from, m.axis().spec().to, m.axis().spec().points);
  const Evaluation ev = evaluate(m, xs);
  std::vector<double> y(xs.size());
  for (std::size_t j = 0; j < xs.size(); ++j) y[j] = ev.p(t, j);
  const EmergenceSummary s = analyze_emergence(xs, y, 0.5);
  PlotOptions o;
  o.tasks = {t};
  o.metrics = {Metric{MetricKind::exact_match, 0}};
  const auto doc = XmlReader::parse(render_plot(m, o).svg);
  const std::string detail = by_class(*doc, "legend-detail")[0]->all_text();
  CHECK(detail.find("B = " + text::compact(*s.breakthroughness, 3)) != std::string::npos);
  char width[32];
  std::snprintf(width, sizeof width, "width %.2f dec", *s.transition_width);
  CHECK(detail.find(width) != std::string::npos);
}

TEST_CASE("explicit metrics draw every task in every panel, observed points", "[render][plot]") {
  const Model m = Model::compile(test::emoji_movie_spec());
  PlotOptions o;
  o.metrics = {Metric{MetricKind::exact_match, 0}, Metric{MetricKind::pass_at, 10}};
  o.observed.push_back(ObservedSeries{"family A", {1e9, 1e10, 1e11}, {0.1, 0.3, 0.7}, Metric{MetricKind::exact_match, 0}});
  o.observed.push_back(ObservedSeries{"no panel", {2e9}, {0.5}, Metric{MetricKind::partial_credit, 0}});
  o.observed.push_back(ObservedSeries{"far out", {1e14}, {0.9}, std::nullopt});
  const PlotResult r = render_plot(m, o);
  CHECK(r.panels == 2);
  CHECK(r.lines == 4);
  REQUIRE(r.notes.size() == 1);
  CHECK(r.notes[0].find("no panel") != std::string::npos);
  const auto doc = XmlReader::parse(r.svg);
  const auto panels = by_class(*doc, "panel");
  REQUIRE(panels.size() == 2);
  CHECK(by_class(*panels[1], "panel-title")[0]->all_text() == "pass@10");
  CHECK(count_in(*panels[0], "series") == 2);
  CHECK(count_in(*panels[1], "series") == 2);
  const auto observed = by_class(*panels[0], "observed");
  REQUIRE(observed.size() == 3);
  CHECK(observed[0]->children.size() == 3);
  const std::string legend = by_class(*panels[0], "legend")[0]->all_text();
  CHECK(legend.find("family A") != std::string::npos);
  // x axis widened to the observed 1e14
  CHECK(by_class(*panels[0], "x-tick").back()->all_text() == "1014");
}

TEST_CASE("observed points of a plotted task take its line colour, others a colour of their own",
          "[render][plot]") {
  const Model m = Model::compile(test::emoji_movie_spec());
  PlotOptions o;
  o.tasks = {*m.find("decode_clues"), *m.find("emoji_movie")};
  o.metrics = {Metric{MetricKind::exact_match, 0}};
  const Metric em{MetricKind::exact_match, 0};
  o.observed.push_back(ObservedSeries{"OPT emoji_movie", {1e9, 1e10}, {0.01, 0.1}, em, "emoji_movie"});
  o.observed.push_back(ObservedSeries{"Pythia emoji_movie", {2e9, 2e10}, {0.02, 0.2}, em, "emoji_movie"});
  o.observed.push_back(ObservedSeries{"OPT other", {3e9}, {0.3}, em, "not_plotted"});
  const auto doc = XmlReader::parse(render_plot(m, o).svg);
  const auto panel = by_class(*doc, "panel")[0];
  const auto series = by_class(*panel, "series");
  const auto observed = by_class(*panel, "observed");
  REQUIRE(series.size() == 2);
  REQUIRE(observed.size() == 3);
  const std::string emoji_color = *series[1]->attr("stroke"), decode_color = *series[0]->attr("stroke");
  CHECK(emoji_color != decode_color);
  // hollow markers: the colour is the stroke; shapes differ by series
  CHECK(*observed[0]->children[0]->attr("stroke") == emoji_color);
  CHECK(*observed[1]->children[0]->attr("stroke") == emoji_color);
  CHECK(observed[0]->children[0]->name != observed[1]->children[0]->name);
  const std::string other = *observed[2]->children[0]->attr("stroke");
  CHECK(other != emoji_color);
  CHECK(other != decode_color);
}

TEST_CASE("compute axis: second tick row with N", "[render][plot]") {
  ModelSpec spec = test::emoji_movie_spec();
  spec.scale.axis = Axis::compute;
  spec.scale.from = 1e18;
  spec.scale.to = 1e24;
  const Model m = Model::compile(spec);
  const auto doc = XmlReader::parse(render_plot(m).svg);
  const auto panel = by_class(*doc, "panel")[0];
  CHECK(by_class(*panel, "x-label")[0]->all_text() == "training compute C (FLOPs)");
  const auto second = by_class(*panel, "x-tick-secondary");
  CHECK(second.size() == by_class(*panel, "x-tick").size());
  CHECK(by_class(*panel, "x-secondary-label")[0]->all_text() == "N =");
}

TEST_CASE("plots escape text and are deterministic", "[render][plot][escape]") {
  test::SpecBuilder b("<script>alert(1)</script> & \"title\"");
  b.skill("s", test::logistic(1e9, 1), "", "<b onclick='x'>step</b> \\N &amp;");
  b.task("t", GateKind::all, {{"s", 4}}, "", "javascript:alert(2) <svg onload=alert(3)> \xE4\xB8\xAD");
  const Model m = b.compile();
  const std::string a = render_plot(m).svg;
  const std::string c = render_plot(m).svg;
  CHECK(a == c);
  const auto doc = XmlReader::parse(a);
  CHECK(test::script_problem(*doc).empty());
  const std::string text = doc->all_text();
  CHECK(text.find("<script>alert(1)</script> & \"title\"") != std::string::npos);
  CHECK(text.find("javascript:alert(2) <svg onload=alert(3)> \xE4\xB8\xAD") != std::string::npos);
}

TEST_CASE("plot option errors", "[render][plot]") {
  const Model m = Model::compile(test::emoji_movie_spec());
  PlotOptions o;
  o.from = 1e10;
  o.to = 1e9;
  CHECK_THROWS_AS(render_plot(m, o), std::invalid_argument);
  PlotOptions o2;
  o2.tasks = {99};
  CHECK_THROWS_AS(render_plot(m, o2), std::invalid_argument);
  test::SpecBuilder b;
  b.skill("only", test::constant(0.5));
  CHECK_THROWS_AS(render_plot(b.compile()), std::invalid_argument);
  PlotOptions o3;
  o3.tasks = {0};  // a skill may be plotted by name
  CHECK(render_plot(b.compile(), o3).lines == 3);
}

TEST_CASE("ticks and number markup", "[render][plot][ticks]") {
  const auto t = log_ticks(1e8, 1e13);
  REQUIRE(t.size() == 6);
  CHECK(t.front() == Approx(1e8));
  CHECK(t.back() == Approx(1e13));
  CHECK(log_ticks(1e5, 1e25).size() <= 8);  // thinned when many decades
  const auto narrow = log_ticks(2e9, 9e9);   // < 1.5 decades: 1-2-5 or 1..9 steps
  CHECK(narrow.size() >= 3);
  for (double v : narrow) CHECK((v >= 2e9 && v <= 9e9));
  const auto lin = linear_ticks(0, 1);
  CHECK(lin == std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1});
  const auto neg = linear_ticks(-23.4, 0);
  CHECK(neg.front() <= -23.4);
  CHECK(neg.back() == 0);
  CHECK(neg.size() <= 8);
  CHECK(sci_markup(1e10) == "10<tspan dy=\"-0.45em\" font-size=\"75%\">10</tspan>");
  CHECK(sci_markup(3.2e-7) == "3.2\u00d710<tspan dy=\"-0.45em\" font-size=\"75%\">\u22127</tspan>");
  CHECK(sci_markup(0.5) == "0.5");
  CHECK(sci_markup(9.99e9) == "10<tspan dy=\"-0.45em\" font-size=\"75%\">10</tspan>");
}

TEST_CASE("every series has its own colour-dash pair and dash-marker pair, even past the palette", "[render][plot]") {
  std::set<std::pair<std::string, std::string>> color_dash;
  std::set<std::pair<std::string, std::size_t>> dash_marker;
  for (std::size_t i = 0; i < 32; ++i) {
    const SeriesStyle st = series_style(i);
    CHECK(color_dash.insert({st.color, st.dash}).second);
    CHECK(dash_marker.insert({st.dash, st.marker}).second);
  }
  // The SVG draws each line with its style, and a legend sample of each.
  PlotFigure fig;
  fig.x_min = 1;
  fig.x_max = 100;
  PlotPanel panel;
  panel.title = "p";
  for (std::size_t i = 0; i < 20; ++i) {
    PlotLine l;
    l.label = "line " + std::to_string(i);
    l.color = i;
    l.x = {1, 10, 100};
    l.y = {0.01 * static_cast<double>(i), 0.5, 0.9 - 0.01 * static_cast<double>(i)};
    panel.lines.push_back(std::move(l));
  }
  // Observed series of one colour: the marker alone tells them apart.
  for (std::size_t i = 0; i < plot_marker_count(); ++i)
    panel.points.push_back(PlotPoints{"obs " + std::to_string(i), 0, i, {5}, {0.3}});
  fig.panels.push_back(std::move(panel));
  const auto doc = XmlReader::parse(write_svg_plot(fig));
  const auto series = by_class(*doc, "series");
  REQUIRE(series.size() == 20);
  std::set<std::pair<std::string, std::string>> drawn;
  for (std::size_t i = 0; i < series.size(); ++i) {
    const std::string* dash = series[i]->attr("stroke-dasharray");
    CHECK(*series[i]->attr("stroke") == series_style(i).color);
    CHECK((dash ? *dash : "") == series_style(i).dash);
    CHECK(drawn.insert({*series[i]->attr("stroke"), dash ? *dash : ""}).second);
  }
  CHECK(by_class(*doc, "series-markers").size() == 20);
  std::set<std::string> shapes;
  for (const XmlElement* g : by_class(*doc, "observed")) {
    REQUIRE_FALSE(g->children.empty());
    std::string sig;
    for (const auto& c : g->children) {
      sig += c->name + ":";  // every marker at the same point: the outline itself tells the shapes apart
      for (const char* key : {"d", "r", "width"})
        if (const std::string* v = c->attr(key)) sig += *v + ";";
    }
    CHECK(shapes.insert(sig).second);
  }
  CHECK(shapes.size() == plot_marker_count());
}

TEST_CASE("curves on top of each other are named in the legend and drawn with shifted dashes", "[render][plot]") {
  PlotFigure fig;
  PlotPanel panel;
  auto line = [](const std::string& name, std::size_t i, double shift) {
    PlotLine l;
    l.label = name;
    l.color = i;
    l.x = {1, 3, 10};
    l.y = {0.1 + shift, 0.5 + shift, 0.9 + shift};
    return l;
  };
  panel.y_min = 0;
  panel.y_max = 1;
  panel.lines = {line("a", 0, 0), line("b", 1, 0), line("c", 2, 0.01)};  // c: 1% of the range away
  fig.panels.push_back(std::move(panel));
  const auto doc = XmlReader::parse(write_svg_plot(fig));
  const auto notes = by_class(*doc, "legend-coincides");
  REQUIRE(notes.size() == 1);
  CHECK(notes[0]->all_text() == "lies on the curve of a");
  const auto series = by_class(*doc, "series");
  REQUIRE(series.size() == 3);
  CHECK(series[0]->attr("stroke-dashoffset") == nullptr);
  CHECK(series[1]->attr("stroke-dashoffset") != nullptr);
  CHECK(series[2]->attr("stroke-dashoffset") == nullptr);
}
