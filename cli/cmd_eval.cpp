// capgraph eval SPEC --at X [--nodes a,b] — every node's P and metrics at one point.
#include <iostream>
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
  std::string at;
  std::string nodes;
  CommonOptions common;
  MonteCarloFlags mc;
};

// CSV is streamed to `out` (a million nodes make 8 million rows); the JSON
// document and the aligned table are built first.
void render(const Model& model, const Evaluation& ev, const std::vector<std::size_t>& nodes, Format fmt,
            const std::string& spec_path, const std::optional<MonteCarloEstimate>& mc, OutputStream& out) {
  auto has_mc = [&](std::size_t v) { return mc && mc->has(v); };
  const ScalePoint& pt = ev.points()[0];
  std::ostringstream os;
  if (fmt == Format::json) {
    nlohmann::ordered_json j;
    j["spec"] = model.spec().name;
    j["axis"] = model.spec().scale.axis == Axis::params ? "params" : "compute";
    j["point"] = {{"x", pt.x}, {"N", pt.N}, {"D", pt.D}, {"C", pt.C}, {"data_limited", pt.data_limited}};
    auto arr = nlohmann::ordered_json::array();
    for (std::size_t v : nodes) {
      const NodeSpec& n = model.node(v);
      nlohmann::ordered_json e;
      e["id"] = n.id;
      e["kind"] = kind_of(n);
      e["p"] = ev.p(v, 0);
      e["log_p"] = jnum(ev.log_p(v, 0));
      e["partial_credit"] = ev.partial_credit(v, 0);
      e["steps"] = model.steps(v);
      if (has_mc(v))
        e["monte_carlo"] = {{"p", mc->p(v, 0).mean}, {"std_error", mc->p(v, 0).std_error}, {"samples", mc->samples()},
                            {"seed", mc->seed()}};
      if (n.is_task) {
        nlohmann::ordered_json mj;
        for (const Metric& m : model.metrics(v)) {
          mj[metric_label(m)] = jnum(ev.metric(v, m, 0));
          if (m.kind == MetricKind::log_likelihood) mj["log_likelihood_per_step"] = jnum(ev.log_likelihood_per_step(v, 0));
        }
        e["metrics"] = mj;
      }
      arr.push_back(e);
    }
    j["nodes"] = arr;
    os << json_text(j) << '\n';
  } else if (fmt == Format::csv) {
    out << "x,node,kind,quantity,value\n";
    const std::string x = num(pt.x) + ',';
    auto row = [&](const NodeSpec& n, std::string_view q, double val) {
      out << x << n.id << ',' << kind_of(n) << ',' << q << ',';
      out.number(val);
      out << '\n';
    };
    for (std::size_t v : nodes) {
      if (out.closed()) return;
      const NodeSpec& n = model.node(v);
      row(n, "p", ev.p(v, 0));
      row(n, "log_p", ev.log_p(v, 0));
      row(n, "partial_credit", ev.partial_credit(v, 0));
      row(n, "steps", model.steps(v));
      if (has_mc(v)) {
        row(n, "mc_p", mc->p(v, 0).mean);
        row(n, "mc_std_error", mc->p(v, 0).std_error);
      }
      if (!n.is_task) continue;
      for (const Metric& m : model.metrics(v)) {
        row(n, metric_label(m), ev.metric(v, m, 0));
        if (m.kind == MetricKind::log_likelihood) row(n, "log_likelihood_per_step", ev.log_likelihood_per_step(v, 0));
      }
    }
  } else {
    os << spec_path << " — " << model.spec().name << " at " << describe_point(model, pt) << "\n\n";
    std::vector<std::string> head{"node", "kind", "P", "ln P", "partial", "steps"};
    if (mc) head.insert(head.end(), {"P (Monte Carlo)", "std. error", "|diff|/SE"});
    TextTable t(head);
    for (std::size_t v : nodes) {
      const NodeSpec& n = model.node(v);
      std::vector<std::string> r{n.id, kind_of(n), num_short(ev.p(v, 0)), num_short(ev.log_p(v, 0)),
                                 num_short(ev.partial_credit(v, 0)), num_short(model.steps(v), 6)};
      if (has_mc(v)) {
        const Estimate e = mc->p(v, 0);
        r.insert(r.end(), {num_short(e.mean), num_short(e.std_error, 2),
                           e.std_error > 0 ? num_short(std::abs(e.mean - ev.p(v, 0)) / e.std_error, 2) : "n/a"});
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
        mt.row({n.id, metric_label(m), num_short(ev.metric(v, m, 0))});
        if (m.kind == MetricKind::log_likelihood)
          mt.row({n.id, "log_likelihood_per_step", num_short(ev.log_likelihood_per_step(v, 0))});
        any = true;
      }
    }
    if (any) os << "\nmetrics\n" << mt.str();
  }
  out << text_of(os);
}

// Monte Carlo estimates only (exact evaluation refused as too costly).
std::string render_mc_only(const Model& model, const MonteCarloEstimate& mc, Format fmt) {
  std::ostringstream os;
  const ScalePoint& pt = mc.points()[0];
  if (fmt == Format::json) {
    nlohmann::ordered_json j;
    j["spec"] = model.spec().name;
    j["point"] = {{"x", pt.x}, {"N", pt.N}, {"D", pt.D}, {"C", pt.C}};
    j["exact"] = false;
    auto arr = nlohmann::ordered_json::array();
    for (std::size_t v : mc.nodes())
      arr.push_back({{"id", model.node(v).id},
                     {"monte_carlo", {{"p", mc.p(v, 0).mean}, {"std_error", mc.p(v, 0).std_error}}}});
    j["nodes"] = arr;
    j["samples"] = mc.samples();
    j["seed"] = mc.seed();
    os << json_text(j) << '\n';
  } else if (fmt == Format::csv) {
    os << "x,node,kind,quantity,value\n";
    for (std::size_t v : mc.nodes())
      for (int q = 0; q < 2; ++q)
        os << num(pt.x) << ',' << model.node(v).id << ',' << kind_of(model.node(v)) << ','
           << (q ? "mc_std_error" : "mc_p") << ',' << num(q ? mc.p(v, 0).std_error : mc.p(v, 0).mean) << '\n';
  } else {
    os << model.spec().name << " at " << describe_point(model, pt) << " — Monte Carlo only (" << mc.samples()
       << " samples, seed " << mc.seed() << ")\n\n";
    TextTable t({"task", "kind", "P (Monte Carlo)", "std. error"});
    for (std::size_t v : mc.nodes())
      t.row({model.node(v).id, kind_of(model.node(v)), num_short(mc.p(v, 0).mean), num_short(mc.p(v, 0).std_error, 2)});
    os << t.str();
  }
  return text_of(os);
}

}  // namespace

void add_eval(CLI::App& app, Action& run) {
  auto o = std::make_shared<EvalOpts>();
  auto* sub = app.add_subcommand("eval", "Every node's success probability and metrics at one scale point");
  sub->add_option("SPEC", o->spec, "Spec file (- for standard input)")->required();
  sub->add_option("--at", o->at, "Scale point on the spec's axis (parameters, or FLOPs on the compute axis), e.g. 1e10")
      ->required();
  sub->add_option("--nodes", o->nodes, "Only these nodes (comma-separated ids); default all, in spec order");
  o->common.add_to(*sub);
  o->mc.add_to(*sub);
  sub->callback([o, &run] {
    run = [o] {
      Timings t(o->common.timings);
      parse_scale("--at", o->at);  // checked before loading
      const Model model = load_model(o->spec, o->common, t);
      const double x = parse_scale("--at", o->at, &model.spec().scale);
      std::vector<std::size_t> nodes;
      if (o->nodes.empty())
        for (std::size_t v = 0; v < model.size(); ++v) nodes.push_back(v);
      else
        nodes = resolve_ids(model, split_list(o->nodes), false);
      t.start();
      const std::vector<double> xs{x};
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
        write_output(render_mc_only(model, mc, o->common.fmt()), o->common);
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
      render(model, ev, nodes, o->common.fmt(), o->spec, mc, out);
      out.finish();
      t.stop("write");
      t.print();
      return kOk;
    };
  });
}

}  // namespace capgraph::cli
