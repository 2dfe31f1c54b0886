// capgraph eval SPEC --at X[,Y...] [--nodes a,b] — every node's P and metrics at some scale points.
#include <iostream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "graph/evaluation.hpp"

namespace capgraph::cli {

namespace {

struct EvalOpts {
  std::string spec;
  std::vector<std::string> at;
  std::string nodes;
  CommonOptions common;
  MonteCarloFlags mc;
};

// The scale points of the JSON document: one object per --at value.
nlohmann::ordered_json json_points(const std::vector<ScalePoint>& pts) {
  auto a = nlohmann::ordered_json::array();
  for (const ScalePoint& pt : pts)
    a.push_back({{"at", pt.x}, {"N", pt.N}, {"D", pt.D}, {"C", pt.C}, {"data_limited", pt.data_limited}});
  return a;
}

// One value per point, for JSON.
template <class F>
nlohmann::ordered_json per_point(std::size_t n, F&& f) {
  auto a = nlohmann::ordered_json::array();
  for (std::size_t j = 0; j < n; ++j) a.push_back(jnum(f(j)));
  return a;
}

// The document head every eval JSON shares (docs/json.md, "eval").
nlohmann::ordered_json json_head(const Model& model, const std::vector<ScalePoint>& pts, bool exact,
                                 const MonteCarloFlags& flags) {
  nlohmann::ordered_json j;
  j["spec"] = model.spec().name;
  j["axis"] = model.spec().scale.axis == Axis::params ? "params" : "compute";
  j["exact"] = exact;
  j["points"] = json_points(pts);
  if (flags.on()) j["monte_carlo"] = {{"samples", flags.samples}, {"seed", flags.seed}};
  return j;
}

nlohmann::ordered_json json_mc(const MonteCarloEstimate& mc, std::size_t v, std::size_t n) {
  return {{"p", per_point(n, [&](std::size_t j) { return mc.p(v, j).mean; })},
          {"std_error", per_point(n, [&](std::size_t j) { return mc.p(v, j).std_error; })}};
}

// One long row per (node, at, metric): node,kind,at,metric,value.
void csv_row(OutputStream& out, const NodeSpec& n, const std::string& at, std::string_view q, double val) {
  out << n.id << ',' << kind_of(n) << ',' << at << ',' << q << ',';
  out.number(val);
  out << '\n';
}

constexpr std::string_view kCsvHeader = "node,kind,at,metric,value\n";

// CSV is streamed to `out` (a million nodes make 8 million rows a point); the
// JSON document and the aligned tables are built first. Rows: by node, then
// metric, then point, each (node, at, metric) once.
void render(const Model& model, const Evaluation& ev, const std::vector<std::size_t>& nodes, Format fmt,
            const EvalOpts& o, const std::optional<MonteCarloEstimate>& mc, OutputStream& out) {
  auto has_mc = [&](std::size_t v) { return mc && mc->has(v); };
  const std::vector<ScalePoint>& pts = ev.points();
  const std::size_t np = pts.size();
  std::vector<NodeQuantity> qs;
  std::ostringstream os;
  if (fmt == Format::json) {
    nlohmann::ordered_json j = json_head(model, pts, true, o.mc);
    auto arr = nlohmann::ordered_json::array();
    for (std::size_t v : nodes) {
      const NodeSpec& n = model.node(v);
      nlohmann::ordered_json e;
      e["id"] = n.id;
      e["kind"] = kind_of(n);
      e["steps"] = model.steps(v);
      e["p"] = per_point(np, [&](std::size_t k) { return ev.p(v, k); });
      e["log_p"] = per_point(np, [&](std::size_t k) { return ev.log_p(v, k); });
      e["partial_credit"] = per_point(np, [&](std::size_t k) { return ev.partial_credit(v, k); });
      nlohmann::ordered_json mj = nlohmann::ordered_json::object();
      if (n.is_task)
        for (const Metric& m : model.metrics(v)) {
          mj[metric_label(m)] = per_point(np, [&](std::size_t k) { return ev.metric(v, m, k); });
          if (m.kind == MetricKind::log_likelihood)
            mj["log_likelihood_per_step"] = per_point(np, [&](std::size_t k) { return ev.log_likelihood_per_step(v, k); });
        }
      e["metrics"] = mj;
      if (has_mc(v)) e["monte_carlo"] = json_mc(*mc, v, np);
      arr.push_back(e);
    }
    j["nodes"] = arr;
    os << json_text(j) << '\n';
  } else if (fmt == Format::csv) {
    out << kCsvHeader;
    std::vector<std::string> at(np);
    for (std::size_t k = 0; k < np; ++k) at[k] = num(pts[k].x);
    for (std::size_t v : nodes) {
      if (out.closed()) return;
      const NodeSpec& n = model.node(v);
      qs.clear();
      node_quantities(model, v, qs);
      for (const NodeQuantity& q : qs) {
        const std::string label = quantity_label(q);
        for (std::size_t k = 0; k < np; ++k) csv_row(out, n, at[k], label, quantity_value(ev, v, q, k));
      }
      if (has_mc(v)) {
        for (std::size_t k = 0; k < np; ++k) csv_row(out, n, at[k], "mc_p", mc->p(v, k).mean);
        for (std::size_t k = 0; k < np; ++k) csv_row(out, n, at[k], "mc_std_error", mc->p(v, k).std_error);
      }
    }
  } else {
    for (std::size_t k = 0; k < np; ++k) {
      if (k) os << "\n\n";
      os << o.spec << " — " << model.spec().name << " at " << describe_point(model, pts[k]) << "\n\n";
      std::vector<std::string> head{"node", "kind", "P", "ln P", "partial", "steps"};
      if (mc) head.insert(head.end(), {"P (Monte Carlo)", "std. error", "|diff|/SE"});
      TextTable t(head);
      for (std::size_t v : nodes) {
        const NodeSpec& n = model.node(v);
        std::vector<std::string> r{n.id, kind_of(n), num_short(ev.p(v, k)), num_short(ev.log_p(v, k)),
                                   num_short(ev.partial_credit(v, k)), num_short(model.steps(v), 6)};
        if (has_mc(v)) {
          const Estimate e = mc->p(v, k);
          r.insert(r.end(), {num_short(e.mean), num_short(e.std_error, 2),
                             e.std_error > 0 ? num_short(std::abs(e.mean - ev.p(v, k)) / e.std_error, 2) : "n/a"});
        }
        t.row(r);
      }
      os << t.str();
      if (mc) os << "(Monte Carlo: " << mc->samples() << " samples per task, seed " << mc->seed() << ")\n";
      TextTable mt({"task", "metric", "value"});
      bool any = false;
      for (std::size_t v : nodes) {
        const NodeSpec& n = model.node(v);
        if (!n.is_task) continue;
        for (const Metric& m : model.metrics(v)) {
          mt.row({n.id, metric_label(m), num_short(ev.metric(v, m, k))});
          if (m.kind == MetricKind::log_likelihood)
            mt.row({n.id, "log_likelihood_per_step", num_short(ev.log_likelihood_per_step(v, k))});
          any = true;
        }
      }
      if (any) os << "\nmetrics\n" << mt.str();
    }
  }
  out << text_of(os);
}

// Monte Carlo estimates only (exact evaluation refused as too costly): the
// same shapes, with the exact quantities absent (no JSON keys, no CSV rows).
std::string render_mc_only(const Model& model, const MonteCarloEstimate& mc, const EvalOpts& o) {
  std::ostringstream os;
  const std::vector<ScalePoint>& pts = mc.points();
  const std::size_t np = pts.size();
  const Format fmt = o.common.fmt();
  if (fmt == Format::json) {
    nlohmann::ordered_json j = json_head(model, pts, false, o.mc);
    auto arr = nlohmann::ordered_json::array();
    for (std::size_t v : mc.nodes()) {
      const NodeSpec& n = model.node(v);
      nlohmann::ordered_json e;
      e["id"] = n.id;
      e["kind"] = kind_of(n);
      e["steps"] = model.steps(v);
      e["monte_carlo"] = json_mc(mc, v, np);
      arr.push_back(e);
    }
    j["nodes"] = arr;
    os << json_text(j) << '\n';
  } else if (fmt == Format::csv) {
    os << kCsvHeader;
    for (std::size_t v : mc.nodes())
      for (int q = 0; q < 2; ++q)
        for (std::size_t k = 0; k < np; ++k)
          os << model.node(v).id << ',' << kind_of(model.node(v)) << ',' << num(pts[k].x) << ','
             << (q ? "mc_std_error" : "mc_p") << ',' << num(q ? mc.p(v, k).std_error : mc.p(v, k).mean) << '\n';
  } else {
    for (std::size_t k = 0; k < np; ++k) {
      if (k) os << "\n\n";
      os << model.spec().name << " at " << describe_point(model, pts[k]) << " — Monte Carlo only (" << mc.samples()
         << " samples, seed " << mc.seed() << ")\n\n";
      TextTable t({"task", "kind", "P (Monte Carlo)", "std. error"});
      for (std::size_t v : mc.nodes())
        t.row({model.node(v).id, kind_of(model.node(v)), num_short(mc.p(v, k).mean), num_short(mc.p(v, k).std_error, 2)});
      os << t.str();
    }
  }
  return text_of(os);
}

}  // namespace

void add_eval(CLI::App& app, Action& run) {
  auto o = std::make_shared<EvalOpts>();
  auto* sub = app.add_subcommand("eval", "Every node's success probability and metrics at one scale point");
  sub->add_option("SPEC", o->spec, "Spec file (- for standard input)")->required();
  sub->add_option("--at", o->at,
                  "Scale points on the spec's axis (parameters, or FLOPs on the compute axis), e.g. 1e10 or 70B; "
                  "repeatable or comma-separated")
      ->required()
      ->delimiter(',');
  sub->add_option("--nodes", o->nodes, "Only these nodes (comma-separated ids); default all, in spec order");
  o->common.add_to(*sub);
  o->mc.add_to(*sub);
  sub->callback([o, &run] {
    run = [o] {
      Timings t(o->common.timings);
      for (const auto& a : o->at) parse_scale("--at", a);  // checked before loading
      const Model model = load_model(o->spec, o->common, t);
      std::vector<double> xs;
      for (const auto& a : o->at) xs.push_back(parse_scale("--at", a, &model.spec().scale));
      refuse_repeats("--at", xs);
      o->common.check_points("--at", static_cast<int>(std::min<std::size_t>(xs.size(), std::numeric_limits<int>::max())));
      std::vector<std::size_t> nodes;
      if (o->nodes.empty())
        for (std::size_t v = 0; v < model.size(); ++v) nodes.push_back(v);
      else {
        nodes = resolve_ids(model, split_list(o->nodes), false);
        refuse_repeats("--nodes", model, nodes);
      }
      t.start();
      std::optional<Evaluation> exact;
      try {
        exact.emplace(evaluate(model, xs, o->common.engine()));
      } catch (const ModelError& e) {
        if (!o->mc.on()) throw;
        // Exactness costs too much: Monte Carlo alone, as the message suggests.
        std::cerr << "note: " << e.what() << "\nnote: reporting the Monte Carlo estimate only\n";
      }
      t.stop("evaluate");
      if (!exact) {
        std::vector<std::size_t> tasks;
        for (std::size_t v : nodes)
          if (model.node(v).is_task) tasks.push_back(v);
        const MonteCarloEstimate mc = monte_carlo(model, xs, o->mc.options(), tasks);
        t.stop("monte carlo");
        write_output(render_mc_only(model, mc, *o), o->common);
        t.stop("write");
        t.print();
        return kOk;
      }
      const Evaluation& ev = *exact;
      std::optional<MonteCarloEstimate> mc;
      if (o->mc.on()) {
        std::vector<std::size_t> tasks;
        for (std::size_t v : nodes)
          if (model.node(v).is_task) tasks.push_back(v);
        if (!tasks.empty()) mc = monte_carlo(model, xs, o->mc.options(), tasks);
        t.stop("monte carlo");
      }
      OutputStream out(o->common.output);
      render(model, ev, nodes, o->common.fmt(), *o, mc, out);
      out.finish();
      t.stop("write");
      t.print();
      return kOk;
    };
  });
}

}  // namespace capgraph::cli
