// capgraph/render/report.cpp — the self-contained HTML report (report.hpp).
#include "render/report.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <exception>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <span>
#include <string_view>
#include <utility>
#include <thread>

#include <zlib.h>

#include <nlohmann/json.hpp>

#include "graph/emergence.hpp"
#include "graph/importance.hpp"
#include "render/escape.hpp"
#include "render/map_style.hpp"
#include "text/number_format.hpp"

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
    return "C = " + text::compact(pt.C, 3) + " FLOPs (N = " + text::compact(pt.N, 3) + ")";
  return "N = " + text::compact(pt.N, 3);
}

// The value as the CLI's tables print it (4 significant digits, %.4g),
// read back: the page shows exactly these digits.
double shown(double v) {
  if (!std::isfinite(v)) return v;
  return std::strtod(text::significant(v, 4).c_str(), nullptr);
}

// The page's payload: gzip (RFC 1952, no file name, mtime 0, so the bytes
// are deterministic) of `text`, in base64. The browser inflates it with
// DecompressionStream; base64 holds no character that could end the
// <script> element that carries it, whatever the text says.
std::string gzip_base64(std::string_view text) {
  z_stream zs{};
  if (deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("report: zlib could not start");
  std::string gz(deflateBound(&zs, static_cast<uLong>(text.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(gz.data());
  zs.avail_out = static_cast<uInt>(gz.size());
  const int rc = deflate(&zs, Z_FINISH);
  gz.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("report: zlib could not compress the page's data");
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((gz.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < gz.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, gz.size() - i);
    std::uint32_t w = 0;
    for (std::size_t k = 0; k < 3; ++k) w = w << 8 | (k < n ? static_cast<unsigned char>(gz[i + k]) : 0u);
    for (std::size_t k = 0; k < 4; ++k) out += k <= n ? kB64[(w >> (18 - 6 * k)) & 63] : '=';
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

// A node's tooltip states P at the point the map was laid out for, which
// the slider makes stale (the side panel says it all): drop the
// xlink:title of every <a> inside a node's group. Graphviz writes a node as
// <g id="nodeN" class="node..."><title>..</title><g id="a_nodeN"><a
// xlink:title="...">, with quotes inside values as &quot;.
std::string without_node_tooltips(const std::string& svg) {
  std::string out;
  out.reserve(svg.size());
  constexpr std::string_view kAnchor = "<g id=\"a_node";
  constexpr std::string_view kTitle = "<a xlink:title=\"";
  std::size_t pos = 0;
  for (std::size_t at = svg.find(kAnchor); at != std::string::npos; at = svg.find(kAnchor, pos)) {
    const std::size_t a = svg.find(kTitle, at);
    if (a == std::string::npos || svg.find('>', at) + 1 != a) break;  // not the expected shape: keep the rest
    const std::size_t end = svg.find('"', a + kTitle.size());
    if (end == std::string::npos) break;
    out.append(svg, pos, a + 2 - pos);  // up to "<a"
    pos = end + 1;                      // past the closing quote
  }
  out.append(svg, pos, std::string::npos);
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
  return without_node_tooltips(out);
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

// The central `level` share of `values` (sorted in place): the order
// statistics at ranks floor((1 - level)/2 * (n - 1)) and its mirror, so a
// band of n draws never claims more than its draws show.
std::pair<double, double> central_range(std::vector<double>& values, double level) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  const auto lo = static_cast<std::size_t>(std::floor((1 - level) / 2 * static_cast<double>(n - 1)));
  return {values[lo], values[n - 1 - lo]};
}

// Bands over the draws: {"level", "draws", "source", "p": [[lo...], [hi...]]
// per node, "metrics": {task: [[lo], [hi]] per probability metric, in the
// order of task_metrics}}.
json bands(const Model& model, std::span<const double> xs, const ReportOptions& options, const EvalOptions& eo) {
  const std::size_t n = model.size(), points = xs.size(), draws = options.band_draws.size();
  std::vector<std::size_t> tasks = model.tasks();
  std::vector<std::vector<Metric>> metrics(tasks.size());
  for (std::size_t t = 0; t < tasks.size(); ++t)
    for (const Metric& m : model.metrics(tasks[t]))
      if (metric_is_probability(m)) metrics[t].push_back(m);
  // values[series][point][draw]: every node's P, then every task's metrics.
  std::size_t series = n;
  for (const auto& ms : metrics) series += ms.size();
  std::vector<double> values(series * points * draws);
  auto at = [&](std::size_t s, std::size_t j, std::size_t d) -> double& { return values[(s * points + j) * draws + d]; };
  for (std::size_t d = 0; d < draws; ++d) {
    EvalOptions o = eo;
    o.overrides = options.band_draws[d];
    const Evaluation ev = evaluate(model, xs, o);
    for (std::size_t v = 0; v < n; ++v)
      for (std::size_t j = 0; j < points; ++j) at(v, j, d) = ev.p(v, j);
    std::size_t s = n;
    for (std::size_t t = 0; t < tasks.size(); ++t)
      for (const Metric& m : metrics[t]) {
        for (std::size_t j = 0; j < points; ++j) at(s, j, d) = ev.metric(tasks[t], m, j);
        ++s;
      }
  }
  std::vector<double> column(draws);
  auto band_of = [&](std::size_t s) {
    json lo = json::array(), hi = json::array();
    for (std::size_t j = 0; j < points; ++j) {
      for (std::size_t d = 0; d < draws; ++d) column[d] = at(s, j, d);
      const auto [l, h] = central_range(column, options.band_level);
      lo.push_back(num(l)), hi.push_back(num(h));
    }
    return json::array({std::move(lo), std::move(hi)});
  };
  json p = json::array();
  for (std::size_t v = 0; v < n; ++v) p.push_back(band_of(v));
  json per_task = json::object();
  std::size_t s = n;
  for (std::size_t t = 0; t < tasks.size(); ++t) {
    json list = json::array();
    for (std::size_t k = 0; k < metrics[t].size(); ++k) list.push_back(band_of(s++));
    per_task[std::to_string(tasks[t])] = std::move(list);
  }
  return json{{"level", options.band_level},
              {"draws", draws},
              {"source", options.band_source},
              {"p", std::move(p)},
              {"metrics", std::move(per_task)}};
}

// The top rows of every task's bottleneck table at every point, as the
// CLI's table shows them: [node, IP_i, B_i, C_i] per row at 4 significant
// digits (P_i is on the page already), P_T and the critical path. One
// query per (task, point), each on one thread (a query on a map of a few
// hundred nodes takes well under a millisecond); `threads` workers take the
// tasks in turn, and each task's entry is written by its worker alone, so
// the result does not depend on the thread count.
json bottlenecks(const Model& model, std::span<const double> xs, std::size_t rows, const EvalOptions& eo,
                 std::size_t& tables) {
  const std::vector<std::size_t>& tasks = model.tasks();
  std::vector<json> per_task(tasks.size());
  EvalOptions one = eo;
  one.threads = 1;
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  std::atomic<bool> failed{false};
  auto work = [&] {
    for (std::size_t i; (i = next++) < tasks.size() && !failed;) {
      try {
        json per_point = json::array();
        for (double x : xs) {
          const ImportanceTable table = importance(model, tasks[i], x, ImportanceOrder::potential, one);
          json r = json::array();
          for (std::size_t k = 0; k < std::min(rows, table.rows.size()); ++k) {
            const Prerequisite& p = table.rows[k];
            r.push_back(json::array({p.node, num(shown(p.improvement)), num(shown(p.birnbaum)), num(shown(p.criticality))}));
          }
          per_point.push_back(json{{"p_task", num(shown(table.p_task))}, {"rows", std::move(r)},
                                   {"more", table.rows.size() > rows ? table.rows.size() - rows : 0},
                                   {"path", table.critical_path}});
        }
        per_task[i] = std::move(per_point);
      } catch (...) {
        if (!failed.exchange(true)) failure = std::current_exception();
      }
    }
  };
  unsigned n = eo.threads ? eo.threads : std::max(1u, std::thread::hardware_concurrency());
  n = static_cast<unsigned>(std::min<std::size_t>(n, std::max<std::size_t>(1, tasks.size())));
  std::vector<std::thread> pool;
  for (unsigned w = 1; w < n; ++w) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
  json out = json::object();
  for (std::size_t i = 0; i < tasks.size(); ++i) out[std::to_string(tasks[i])] = std::move(per_task[i]);
  tables = tasks.size() * xs.size();
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
  if (!options.band_draws.empty()) {
    if (!(options.band_level > 0 && options.band_level < 1))
      throw std::invalid_argument("report: band_level must lie in (0, 1)");
    data["bands"] = bands(model, xs, options, eo);
  }
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
  result.data = data.dump(-1, ' ', false, json::error_handler_t::replace);
  h += "</main>\n<script type=\"application/octet-stream\" id=\"capgraph-data\" data-encoding=\"gzip+base64\">";
  h += gzip_base64(result.data);
  h += "</script>\n<script>\n";
  h += detail::kReportJs;
  h += "</script>\n</body>\n</html>\n";

  result.points = xs.size();
  result.nodes = model.size();
  return result;
}

}  // namespace capgraph::render
