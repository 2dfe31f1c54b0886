// capgraph/render/report.cpp — the self-contained HTML report (report.hpp).
#include "render/report.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string_view>

#include <nlohmann/json.hpp>

#include "graph/emergence.hpp"
#include "graph/importance.hpp"
#include "render/escape.hpp"
#include "render/map_style.hpp"

namespace capgraph::render {

namespace detail {
// The page's script and style (render/report/report.js, report.css),
// embedded by CMake (report_assets.cpp.in).
extern const char* const kReportJs;
extern const char* const kReportCss;
}  // namespace detail

namespace {

using json = nlohmann::ordered_json;

// A number for the page: finite values as themselves (nlohmann writes the
// shortest decimal that reads back to the same double), anything else as
// null (ln 0 = -inf for a log-likelihood; the page shows "-inf").
json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

std::string scale_text(const Model& m, const ScalePoint& pt) {
  if (m.axis().spec().axis == Axis::compute)
    return "C = " + short_number(pt.C, 3) + " FLOPs (N = " + short_number(pt.N, 3) + ")";
  return "N = " + short_number(pt.N, 3);
}

// JSON text that is safe inside <script type="application/json">: no
// character of it can end the element or start markup, whatever the
// strings hold. JSON.parse reads the escapes back.
std::string script_safe_json(const json& j) {
  const std::string text = j.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '<') out += "\\u003c";
    else if (c == '>') out += "\\u003e";
    else if (c == '&') out += "\\u0026";
    else if (c == '\xe2' && i + 2 < text.size() && text[i + 1] == '\x80' && (text[i + 2] == '\xa8' || text[i + 2] == '\xa9')) {
      out += text[i + 2] == '\xa8' ? "\\u2028" : "\\u2029";  // JS line terminators
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

// The text of Graphviz's <title> element that follows position `from`, or
// "" if the next element is not a title.
std::string_view next_title(std::string_view svg, std::size_t from) {
  const std::size_t open = svg.find("<title>", from);
  if (open == std::string_view::npos || svg.find('<', from) != open) return {};
  const std::size_t begin = open + 7, end = svg.find("</title>", begin);
  if (end == std::string_view::npos) return {};
  return svg.substr(begin, end - begin);
}

// Graphviz writes "-" as "&#45;" and ">" as "&gt;" in titles; spec ids
// hold neither entity, so this is all the unescaping they need.
std::string title_text(std::string_view t) {
  std::string out;
  for (std::size_t i = 0; i < t.size();) {
    if (t.compare(i, 5, "&#45;") == 0) out += '-', i += 5;
    else if (t.compare(i, 4, "&gt;") == 0) out += '>', i += 4;
    else out += t[i++];
  }
  return out;
}

// The map's SVG for embedding in the page: without the XML prolog and
// doctype, and with the stable hooks the page and its tests use: each
// node's <g> gets data-node="<id>", each edge's data-edge="<tail> <head>"
// (ids only: they are [A-Za-z_][A-Za-z0-9_.-]*, safe in an attribute).
std::string embeddable_map(const std::string& svg, const Model& model) {
  std::string_view s(svg);
  const std::size_t start = s.find("<svg");
  if (start == std::string_view::npos) throw std::runtime_error("report: the map has no <svg> element");
  s.remove_prefix(start);
  std::string out;
  out.reserve(s.size() + model.size() * 24);
  constexpr std::string_view kGroup = "<g id=\"";
  std::size_t pos = 0;
  for (std::size_t at = s.find(kGroup); at != std::string_view::npos; at = s.find(kGroup, at + 1)) {
    const std::size_t close = s.find('>', at);  // the tag's end: Graphviz writes no '>' inside it
    if (close == std::string_view::npos) break;
    const std::string_view tag = s.substr(at, close - at);
    const bool is_node = tag.find(" class=\"node") != std::string_view::npos;
    const bool is_edge = tag.find(" class=\"edge") != std::string_view::npos;
    if (!is_node && !is_edge) continue;
    out.append(s.substr(pos, close - pos));
    pos = close;
    const std::string title = title_text(next_title(s, close + 1));
    if (is_node) {
      if (model.find(title)) out += " data-node=\"" + title + "\"";
    } else if (const std::size_t arrow = title.find("->"); arrow != std::string::npos) {
      const std::string tail = title.substr(0, arrow), head = title.substr(arrow + 2);
      if (model.find(tail) && model.find(head)) out += " data-edge=\"" + tail + " " + head + "\"";
    }
  }
  out.append(s.substr(pos));
  return out;
}

json node_list(const Model& model) {
  json nodes = json::array();
  for (std::size_t v = 0; v < model.size(); ++v) {
    const NodeSpec& n = model.node(v);
    json j{{"id", n.id}, {"label", n.display_name()}, {"kind", n.is_task ? "task" : "skill"}};
    if (!n.group.empty()) j["group"] = n.group;
    if (!n.description.empty()) j["description"] = n.description;
    j["rule"] = n.is_task ? gate_text(n) : curve_text(n.curve);
    json children = json::array();
    for (std::size_t u = model.use_begin(v); u < model.use_end(v); ++u) children.push_back(model.use_child(u));
    j["children"] = std::move(children);
    nodes.push_back(std::move(j));
  }
  return nodes;
}

// P, its label text and the node's colours at every point, as the map's
// style draws them.
json node_looks(const Evaluation& ev, const MapStyle& style) {
  json looks = json::array();
  for (std::size_t v = 0; v < ev.num_nodes(); ++v) {
    json p = json::array(), text = json::array(), fill = json::array(), ink = json::array();
    for (std::size_t j = 0; j < ev.num_points(); ++j) {
      const double pv = ev.p(v, j);
      const Rgb f = style.fill_for(pv);
      p.push_back(num(pv));
      text.push_back(style.p_text(pv));
      fill.push_back(f.hex());
      ink.push_back(readable_text_on(f).hex());
    }
    looks.push_back(json{{"p", std::move(p)}, {"p_text", std::move(text)}, {"fill", std::move(fill)}, {"ink", std::move(ink)}});
  }
  return looks;
}

// Every metric of every task over the sweep, with its emergence summary.
json task_metrics(const Model& model, const Evaluation& ev, std::span<const double> xs) {
  json out = json::object();
  for (std::size_t t : model.tasks()) {
    json metrics = json::array();
    for (const Metric& m : model.metrics(t)) {
      std::vector<double> y(ev.num_points());
      for (std::size_t j = 0; j < y.size(); ++j) y[j] = ev.metric(t, m, j);
      json values = json::array();
      for (double v : y) values.push_back(num(v));
      json mj{{"metric", metric_label(m)}, {"values", std::move(values)}};
      if (metric_is_probability(m)) {
        const EmergenceSummary e = analyze_emergence(xs, y, model.threshold(t));
        if (e.threshold_reached_at_start) mj["crossing"] = "at start";
        else if (e.crossing) mj["crossing"] = *e.crossing;
        mj["probability"] = true;
      }
      metrics.push_back(std::move(mj));
    }
    out[std::to_string(t)] = json{{"threshold", model.threshold(t)}, {"metrics", std::move(metrics)}};
  }
  return out;
}

// The top rows of every task's bottleneck table at every point:
// [node, P_i, IP_i, B_i, C_i] per row, and the critical path.
json bottlenecks(const Model& model, std::span<const double> xs, std::size_t rows, const EvalOptions& eo,
                 std::size_t& tables) {
  json out = json::object();
  for (std::size_t t : model.tasks()) {
    json per_point = json::array();
    for (double x : xs) {
      const ImportanceTable table = importance(model, t, x, ImportanceOrder::potential, eo);
      json r = json::array();
      for (std::size_t i = 0; i < std::min(rows, table.rows.size()); ++i) {
        const Prerequisite& p = table.rows[i];
        r.push_back(json::array({p.node, num(p.p), num(p.improvement), num(p.birnbaum), num(p.criticality)}));
      }
      per_point.push_back(json{{"p_task", num(table.p_task)}, {"rows", std::move(r)},
                               {"more", table.rows.size() > rows ? table.rows.size() - rows : 0},
                               {"path", table.critical_path}});
      ++tables;
    }
    out[std::to_string(t)] = std::move(per_point);
  }
  return out;
}

json observations(const Model& model, const std::vector<ObservedSeries>& observed) {
  json out = json::array();
  for (const ObservedSeries& s : observed) {
    const auto node = model.find(s.node);
    if (!node) continue;
    json x = json::array(), y = json::array();
    for (std::size_t i = 0; i < s.x.size(); ++i) x.push_back(num(s.x[i])), y.push_back(num(s.y[i]));
    out.push_back(json{{"node", *node}, {"label", s.label},
                       {"metric", metric_label(s.metric.value_or(Metric{}))}, {"x", std::move(x)}, {"y", std::move(y)}});
  }
  return out;
}

std::string html_text(std::string_view s) { return xml_escape(s); }

}  // namespace

ReportResult render_report(const Model& model, const ReportOptions& options) {
  std::vector<double> xs = options.xs;
  if (xs.empty()) {
    const ScaleSpec& sc = model.axis().spec();
    xs = ScaleAxis::log_spaced(sc.from, sc.to, sc.points);
  }
  for (std::size_t j = 0; j < xs.size(); ++j)
    if (!(xs[j] > 0) || !std::isfinite(xs[j]) || (j && !(xs[j] > xs[j - 1])))
      throw std::invalid_argument("report: sweep points must be finite, positive and increasing");
  if (xs.empty()) throw std::invalid_argument("report: no sweep points");

  ReportResult result;
  EvalOptions eo = options.evaluation;
  eo.keep.reset();
  const Evaluation ev = evaluate(model, xs, eo);
  const std::size_t start = xs.size() / 2;

  MapOptions mo = options.map;
  mo.format = MapFormat::svg;
  mo.overlay.reset();
  mo.title = model.spec().name;
  mo.evaluation = eo;
  MapResult map = render_map(ev, start, mo);
  result.notes = map.notes;

  json data;
  data["name"] = model.spec().name;
  data["description"] = model.spec().description;
  data["axis"] = model.axis().spec().axis == Axis::compute ? "compute" : "params";
  data["start"] = start;
  json x = json::array(), st = json::array();
  for (std::size_t j = 0; j < xs.size(); ++j) x.push_back(xs[j]), st.push_back(scale_text(model, ev.points()[j]));
  data["x"] = std::move(x);
  data["scale_text"] = std::move(st);
  data["nodes"] = node_list(model);
  data["looks"] = node_looks(ev, mo.style);
  data["tasks"] = task_metrics(model, ev, xs);
  data["bottleneck_rows"] = options.bottleneck_rows;
  data["bottlenecks"] = bottlenecks(model, xs, options.bottleneck_rows, eo, result.bottleneck_tables);
  data["observations"] = observations(model, options.observed);
  data["notes"] = result.notes;

  std::string& h = result.html;
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'; "
       "style-src 'unsafe-inline'; img-src data:\">\n";
  h += "<meta name=\"generator\" content=\"capgraph report\">\n";
  h += "<title>" + html_text(model.spec().name) + " \u2014 capgraph report</title>\n";
  h += "<style>\n";
  h += detail::kReportCss;
  h += "</style>\n</head>\n<body>\n";
  h += "<header id=\"bar\"><h1>" + html_text(model.spec().name) + "</h1>\n";
  h += "<label class=\"scale\">scale <input id=\"scale\" type=\"range\" min=\"0\" max=\"" +
       std::to_string(xs.size() - 1) + "\" step=\"1\" value=\"" + std::to_string(start) +
       "\"> <output id=\"scale-value\"></output></label>\n";
  h += "<label class=\"find\">find <input id=\"find\" type=\"search\" list=\"find-list\" autocomplete=\"off\" "
       "placeholder=\"node id or label\"></label><datalist id=\"find-list\"></datalist>\n";
  h += "<button id=\"cone\" type=\"button\" disabled>only this node's cone</button>\n";
  h += "<button id=\"fit\" type=\"button\">fit map</button>\n";
  h += "</header>\n<div id=\"notes\"></div>\n<main>\n<div id=\"map\">\n";
  h += embeddable_map(map.data, model);
  h += "</div>\n<aside id=\"details\"><p class=\"hint\">Click a node, or find one by name, to see its "
       "metrics, curves and bottlenecks. Move the scale slider to follow the map across the sweep.</p></aside>\n";
  h += "</main>\n<script type=\"application/json\" id=\"capgraph-data\">";
  h += script_safe_json(data);
  h += "</script>\n<script>\n";
  h += detail::kReportJs;
  h += "</script>\n</body>\n</html>\n";

  result.points = xs.size();
  result.nodes = model.size();
  return result;
}

}  // namespace capgraph::render
