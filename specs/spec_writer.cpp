// capgraph/specs/spec_writer.cpp
#include "specs/spec_writer.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <sstream>

namespace capgraph::specs {

namespace {

std::string num(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// A double-quoted YAML scalar (escapes for quote, backslash, control bytes).
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// Ids match [A-Za-z_][A-Za-z0-9_.-]*; only YAML's reserved words need quotes.
std::string key(const std::string& id) {
  std::string l = id;
  for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const char* reserved[] = {"null", "true", "false", "yes", "no", "on", "off", "y", "n"};
  for (const char* r : reserved)
    if (l == r) return quoted(id);
  return id;
}

std::string ref(const ModelSpec& spec, const Use& u, bool plain_if_one) {
  const std::string id = key(spec.nodes[u.node].id);
  if (plain_if_one && u.count == 1) return id;
  return "{" + id + ": " + num(u.count) + "}";
}

std::string refs(const ModelSpec& spec, const std::vector<Use>& uses) {
  std::string s = "[";
  for (std::size_t i = 0; i < uses.size(); ++i) s += (i ? ", " : "") + ref(spec, uses[i], true);
  return s + "]";
}

std::string curve(const Curve& c) {
  switch (c.kind) {
    case CurveKind::logistic:
      return "{logistic: {mid: " + num(c.mid) + ", slope: " + num(c.slope) + "}}";
    case CurveKind::power_law:
      return "{power_law: {c: " + num(c.c) + ", alpha: " + num(c.alpha) + "}}";
    case CurveKind::chinchilla:
      return "{chinchilla: {weight: " + num(c.weight) + "}}";
    case CurveKind::constant:
      return "{constant: " + num(c.value) + "}";
    case CurveKind::points: {
      std::string s = "{points: [";
      for (std::size_t i = 0; i < c.knots.size(); ++i)
        s += (i ? ", [" : "[") + num(c.knots[i].first) + ", " + num(c.knots[i].second) + "]";
      return s + "]}";
    }
  }
  return {};
}

std::string metric(const Metric& m) {
  switch (m.kind) {
    case MetricKind::multiple_choice: return "{multiple_choice: " + std::to_string(m.k) + "}";
    case MetricKind::pass_at: return "{pass_at: " + std::to_string(m.k) + "}";
    default: return metric_kind_name(m.kind);
  }
}

void text_fields(std::ostringstream& os, const NodeSpec& n) {
  if (!n.label.empty()) os << "    label: " << quoted(n.label) << '\n';
  if (!n.group.empty()) os << "    group: " << quoted(n.group) << '\n';
  if (!n.description.empty()) os << "    description: " << quoted(n.description) << '\n';
}

}  // namespace

std::string write_spec(const ModelSpec& spec, const std::string& header_comment) {
  std::ostringstream os;
  if (!header_comment.empty()) {
    std::istringstream is(header_comment);
    std::string line;
    while (std::getline(is, line)) os << (line.empty() ? "#" : "# " + line) << '\n';
  }
  os << "capgraph: 1\n";
  os << "name: " << quoted(spec.name) << '\n';
  if (!spec.description.empty()) os << "description: " << quoted(spec.description) << '\n';
  os << "threshold: " << num(spec.threshold) << '\n';
  const ScaleSpec& sc = spec.scale;
  os << "scale:\n";
  os << "  axis: " << (sc.axis == Axis::compute ? "compute" : "params") << '\n';
  os << "  range: [" << num(sc.from) << ", " << num(sc.to) << "]\n";
  os << "  points: " << sc.points << '\n';
  os << "  tokens_per_param: " << num(sc.tokens_per_param) << '\n';
  if (sc.data_limit) os << "  data_limit: " << num(*sc.data_limit) << '\n';
  if (sc.law.name == "chinchilla" || sc.law.name == "epoch2024")
    os << "  law: " << sc.law.name << '\n';
  else
    os << "  law: {E: " << num(sc.law.E) << ", A: " << num(sc.law.A) << ", B: " << num(sc.law.B)
       << ", alpha: " << num(sc.law.alpha) << ", beta: " << num(sc.law.beta) << "}\n";

  os << "skills:\n";
  for (const auto& n : spec.nodes) {
    if (n.is_task) continue;
    os << "  " << key(n.id) << ":\n";
    text_fields(os, n);
    os << "    curve: " << curve(n.curve) << '\n';
    if (n.floor != 0) os << "    floor: " << num(n.floor) << '\n';
    if (n.ceiling != 1) os << "    ceiling: " << num(n.ceiling) << '\n';
    if (n.shared) os << "    shared: true\n";
  }
  const bool any_task = std::any_of(spec.nodes.begin(), spec.nodes.end(), [](const NodeSpec& n) { return n.is_task; });
  if (!any_task) return os.str();
  os << "tasks:\n";
  for (const auto& n : spec.nodes) {
    if (!n.is_task) continue;
    os << "  " << key(n.id) << ":\n";
    text_fields(os, n);
    switch (n.gate) {
      case GateKind::all: os << "    all: " << refs(spec, n.uses) << '\n'; break;
      case GateKind::any: os << "    any: " << refs(spec, n.uses) << '\n'; break;
      case GateKind::mean: os << "    mean: " << refs(spec, n.uses) << '\n'; break;
      case GateKind::at_least: os << "    at_least: {k: " << n.k << ", of: " << refs(spec, n.uses) << "}\n"; break;
      case GateKind::best_of:
        os << "    best_of: {n: " << n.best_n << ", of: " << key(spec.nodes[n.uses.at(0).node].id) << "}\n";
        break;
    }
    if (n.guess != 0) os << "    guess: " << num(n.guess) << '\n';
    if (n.threshold) os << "    threshold: " << num(*n.threshold) << '\n';
    if (!n.metrics.empty()) {
      os << "    metrics: [";
      for (std::size_t i = 0; i < n.metrics.size(); ++i) os << (i ? ", " : "") << metric(n.metrics[i]);
      os << "]\n";
    }
  }
  return os.str();
}

}  // namespace capgraph::specs
