// Tests of the interactive report (render/report.hpp): the embedded numbers
// against evaluate() and importance() bit for bit, the map's hooks, the
// escaping of hostile spec text (JSON inside the page and the map), and
// deterministic bytes. The page's behaviour in a browser is tested by
// tests/browser/report.test.mjs.
#include <catch2/catch.hpp>

#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "graph/evaluation.hpp"
#include "graph/importance.hpp"
#include "render/report.hpp"
#include "test_render_support.hpp"

using namespace capgraph;
using namespace capgraph::render;

namespace {

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

// The page's embedded data: base64 decoded and inflated here (zlib), and
// parsed back.
nlohmann::json page_data(const std::string& html) {
  const std::string open = "data-encoding=\"gzip+base64\">";
  const std::size_t b = html.find(open);
  REQUIRE(b != std::string::npos);
  const std::size_t e = html.find("</script>", b);
  REQUIRE(e != std::string::npos);
  const std::string b64 = html.substr(b + open.size(), e - b - open.size());
  std::string gz;
  std::uint32_t w = 0;
  int bits = 0;
  for (char c : b64) {
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char* at = std::strchr(alphabet, c);
    if (c == '=' || !at || c == '\0') continue;
    w = w << 6 | static_cast<std::uint32_t>(at - alphabet);
    if ((bits += 6) >= 8) gz += static_cast<char>((w >> (bits -= 8)) & 0xff);
  }
  z_stream zs{};
  REQUIRE(inflateInit2(&zs, 15 + 16) == Z_OK);
  std::string text;
  char buf[1 << 15];
  zs.next_in = reinterpret_cast<Bytef*>(gz.data());
  zs.avail_in = static_cast<uInt>(gz.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    text.append(buf, sizeof buf - zs.avail_out);
  }
  inflateEnd(&zs);
  REQUIRE(rc == Z_STREAM_END);
  return nlohmann::json::parse(text);
}

// What the CLI's tables print (%.4g), read back.
double four(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return std::strtod(buf, nullptr);
}

double value(const nlohmann::json& j) {
  return j.is_null() ? -std::numeric_limits<double>::infinity() : j.get<double>();
}

}  // namespace

TEST_CASE("report: the page's numbers are the engine's, bit for bit", "[render][report]") {
  const Model m = Model::compile(test::emoji_movie_spec());
  ReportOptions o;
  o.xs = ScaleAxis::log_spaced(1e8, 1e12, 9);
  o.bottleneck_rows = 3;
  const ReportResult r = render_report(m, o);
  CHECK(r.points == 9);
  CHECK(r.nodes == m.size());
  CHECK(r.bottleneck_tables == 2 * 9);  // two tasks
  const auto d = page_data(r.html);
  CHECK(d == nlohmann::json::parse(r.data));
  const Evaluation ev = evaluate(m, o.xs);
  REQUIRE(d["x"].size() == 9);
  for (std::size_t j = 0; j < 9; ++j) CHECK(d["x"][j].get<double>() == o.xs[j]);
  for (std::size_t v = 0; v < m.size(); ++v) {
    for (std::size_t j = 0; j < 9; ++j) {
      CHECK(d["looks"][v]["p"][j].get<double>() == ev.p(v, j));
      CHECK(d["looks"][v]["p_text"][j].get<std::string>() == MapStyle{}.p_text(ev.p(v, j)));
      CHECK(d["looks"][v]["fill"][j].get<std::string>() == viridis(ev.p(v, j)).hex());
    }
  }
  for (std::size_t t : m.tasks()) {
    const auto& metrics = d["tasks"][std::to_string(t)]["metrics"];
    REQUIRE(metrics.size() == m.metrics(t).size());
    for (std::size_t k = 0; k < metrics.size(); ++k) {
      CHECK(metrics[k]["metric"] == metric_label(m.metrics(t)[k]));
      for (std::size_t j = 0; j < 9; ++j) CHECK(value(metrics[k]["values"][j]) == ev.metric(t, m.metrics(t)[k], j));
    }
    for (std::size_t j = 0; j < 9; ++j) {
      const ImportanceTable table = importance(m, t, o.xs[j]);
      const auto& b = d["bottlenecks"][std::to_string(t)][j];
      CHECK(b["p_task"].get<double>() == four(table.p_task));
      REQUIRE(b["rows"].size() == std::min<std::size_t>(3, table.rows.size()));
      for (std::size_t i = 0; i < b["rows"].size(); ++i) {
        CHECK(b["rows"][i][0].get<std::size_t>() == table.rows[i].node);
        CHECK(b["rows"][i][1].get<double>() == four(table.rows[i].improvement));
        CHECK(b["rows"][i][2].get<double>() == four(table.rows[i].birnbaum));
        CHECK(b["rows"][i][3].get<double>() == four(table.rows[i].criticality));
      }
      CHECK(b["path"].get<std::vector<std::size_t>>() == table.critical_path);
    }
  }
}

TEST_CASE("report: every node of the map carries its data-node hook", "[render][report]") {
  const Model m = Model::compile(test::emoji_movie_spec());
  const ReportResult r = render_report(m);
  for (std::size_t v = 0; v < m.size(); ++v)
    CHECK(count(r.html, "data-node=\"" + m.node(v).id + "\"") == 1);
  CHECK(count(r.html, "data-edge=\"") == 4);  // the spec's four references
  CHECK(r.html.find("<input id=\"scale\" type=\"range\"") != std::string::npos);
  CHECK(r.html.find("<aside id=\"details\"") != std::string::npos);
  CHECK(r.html.find("<?xml") == std::string::npos);  // the SVG is inline HTML
  CHECK(r.points == static_cast<std::size_t>(m.axis().spec().points));
}

TEST_CASE("report: hostile spec text stays text", "[render][report][escape]") {
  test::SpecBuilder b("</script><script>window.__pwned=1</script> & \"spec\"");
  b.skill("a--b", test::logistic(1e9, 1), "G</script><img src=x onerror=\"window.__pwned=2\">",
          "</script><img src=x onerror=window.__pwned=3>",
          "desc \u2028 \u2029 ' \" <!-- --> <![CDATA[x]]> </SCRIPT > javascript:alert(1)");
  b.skill("s2", test::constant(0.3), "", "<svg onload=alert(1)>");
  b.task("t", GateKind::all, {{"a--b", 2}, {"s2", 1}}, "", "');alert(1);//");
  const Model m = b.compile();
  const ReportResult r = render_report(m);
  // Only the page's own two script elements, and no element the spec wrote.
  CHECK(count(r.html, "<script") == 2);
  CHECK(count(r.html, "</script>") == 2);
  CHECK(count(r.html, "<img") == 0);
  CHECK(count(r.html, "<svg onload") == 0);
  // Each "onerror=" is inside an escaped "<img" (text), never an attribute.
  for (std::size_t p = r.html.find("onerror="); p != std::string::npos; p = r.html.find("onerror=", p + 1)) {
    const std::string before = r.html.substr(p - std::min<std::size_t>(p, 16), std::min<std::size_t>(p, 16));
    CHECK((before.find("&lt;img") != std::string::npos || before.find("\\u003cimg") != std::string::npos));
  }
  // The strings come back intact from the page's data.
  const auto d = page_data(r.html);
  CHECK(d["name"] == m.spec().name);
  CHECK(d["nodes"][0]["label"] == "</script><img src=x onerror=window.__pwned=3>");
  CHECK(d["nodes"][0]["group"] == "G</script><img src=x onerror=\"window.__pwned=2\">");
  CHECK(d["nodes"][0]["description"] == m.node(0).description);
  CHECK(d["nodes"][2]["label"] == "');alert(1);//");
}

TEST_CASE("report: the same input gives the same bytes", "[render][report]") {
  const Model m = Model::compile(test::generated_spec(60, 4, 3));
  ReportOptions o;
  o.xs = ScaleAxis::log_spaced(1e8, 1e13, 13);
  o.evaluation.threads = 1;
  const std::string a = render_report(m, o).html;
  const std::string b = render_report(m, o).html;
  CHECK(a == b);
  o.evaluation.threads = 3;  // the bottleneck queries spread over workers
  CHECK(render_report(m, o).html == a);
}

TEST_CASE("report: a bad sweep is refused", "[render][report]") {
  const Model m = Model::compile(test::emoji_movie_spec());
  ReportOptions o;
  o.xs = {1e9, 1e8};
  CHECK_THROWS_AS(render_report(m, o), std::invalid_argument);
  o.xs = {0.0};
  CHECK_THROWS_AS(render_report(m, o), std::invalid_argument);
  o.xs = {1e9, std::nan("")};
  CHECK_THROWS_AS(render_report(m, o), std::invalid_argument);
}

// Bands: with 3 draws the central 95 % is the draws' minimum and maximum
// (rank floor(0.025 * 2) = 0), each draw evaluated independently here on
// the spec its overrides stand for (Overrides::apply + compile).
TEST_CASE("report: bands are the draws' order statistics", "[render][report][bands]") {
  const ModelSpec spec = test::emoji_movie_spec();
  const Model m = Model::compile(spec);
  ReportOptions o;
  o.xs = ScaleAxis::log_spaced(1e8, 1e12, 5);
  o.bottleneck_rows = 1;
  std::size_t skill = m.size();
  for (std::size_t v = 0; v < m.size(); ++v)
    if (!m.node(v).is_task && m.node(v).curve.kind == CurveKind::logistic) { skill = v; break; }
  REQUIRE(skill < m.size());
  std::vector<Model> independent;
  for (double shift : {0.5, 1.0, 2.0}) {
    Curve c = m.node(skill).curve;
    c.mid *= shift;
    Overrides ov;
    ov.set_curve(skill, c, m.node(skill).floor, m.node(skill).ceiling);
    independent.push_back(Model::compile(ov.apply(spec)));
    o.band_draws.push_back(std::move(ov));
  }
  o.band_source = "three shifted midpoints";
  const auto d = page_data(render_report(m, o).html);
  REQUIRE(d.contains("bands"));
  CHECK(d["bands"]["draws"] == 3);
  CHECK(d["bands"]["source"] == "three shifted midpoints");
  std::vector<Evaluation> evs;
  for (const Model& im : independent) evs.push_back(evaluate(im, o.xs));
  for (std::size_t v = 0; v < m.size(); ++v)
    for (std::size_t j = 0; j < o.xs.size(); ++j) {
      double lo = 1, hi = 0;
      for (const Evaluation& ev : evs) lo = std::min(lo, ev.p(v, j)), hi = std::max(hi, ev.p(v, j));
      CHECK(d["bands"]["p"][v][0][j].get<double>() == lo);
      CHECK(d["bands"]["p"][v][1][j].get<double>() == hi);
    }
  bool some_width = false;
  for (std::size_t t : m.tasks()) {
    std::size_t k = 0;
    for (const Metric& mt : m.metrics(t)) {
      if (!metric_is_probability(mt)) continue;
      const auto& band = d["bands"]["metrics"][std::to_string(t)][k++];
      for (std::size_t j = 0; j < o.xs.size(); ++j) {
        double lo = 1, hi = 0;
        for (const Evaluation& ev : evs) lo = std::min(lo, ev.metric(t, mt, j)), hi = std::max(hi, ev.metric(t, mt, j));
        CHECK(value(band[0][j]) == lo);
        CHECK(value(band[1][j]) == hi);
        some_width |= hi > lo;
      }
    }
  }
  CHECK(some_width);
  // Without draws there is no band.
  o.band_draws.clear();
  CHECK_FALSE(page_data(render_report(m, o).html).contains("bands"));
}
