// capgraph/specs/spec_writer.cpp
#include "specs/spec_writer.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "text/number_format.hpp"

namespace capgraph::specs {

namespace {

// Numbers go to the emitter as text: yaml-cpp 0.7 prints a double with 17
// significant digits, where the shortest round-trip text is wanted.
std::string num(double v) { return text::shortest(v); }

// Ids match [A-Za-z_][A-Za-z0-9_.-]*, so the emitter writes them plain;
// YAML 1.1's boolean words ("yes", "off", ...) must be quoted to stay
// strings, and yaml-cpp only quotes null-like words on its own.
bool reserved_word(const std::string& id) {
  std::string l = id;
  for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const char* reserved[] = {"null", "true", "false", "yes", "no", "on", "off", "y", "n"};
  return std::any_of(std::begin(reserved), std::end(reserved), [&](const char* r) { return l == r; });
}

void id(YAML::Emitter& out, const std::string& name) {
  if (reserved_word(name)) out << YAML::DoubleQuoted;
  out << name;
}

// A reference to a used node: `id`, or `{id: count}` where the count is not 1
// (or always, where `plain_if_one` is false).
void ref(YAML::Emitter& out, const ModelSpec& spec, const Use& u) {
  if (u.count == 1) return id(out, spec.nodes[u.node].id);
  out << YAML::Flow << YAML::BeginMap << YAML::Key;
  id(out, spec.nodes[u.node].id);
  out << YAML::Value << num(u.count) << YAML::EndMap;
}

void refs(YAML::Emitter& out, const ModelSpec& spec, const std::vector<Use>& uses) {
  out << YAML::Flow << YAML::BeginSeq;
  for (const Use& u : uses) ref(out, spec, u);
  out << YAML::EndSeq;
}

void params(YAML::Emitter& out, std::initializer_list<std::pair<const char*, double>> kv) {
  out << YAML::Flow << YAML::BeginMap;
  for (const auto& [k, v] : kv) out << YAML::Key << k << YAML::Value << num(v);
  out << YAML::EndMap;
}

void curve(YAML::Emitter& out, const Curve& c) {
  out << YAML::Flow << YAML::BeginMap;
  switch (c.kind) {
    case CurveKind::logistic:
      out << YAML::Key << "logistic" << YAML::Value;
      params(out, {{"mid", c.mid}, {"slope", c.slope}});
      break;
    case CurveKind::power_law:
      out << YAML::Key << "power_law" << YAML::Value;
      params(out, {{"c", c.c}, {"alpha", c.alpha}});
      break;
    case CurveKind::chinchilla:
      out << YAML::Key << "chinchilla" << YAML::Value;
      params(out, {{"weight", c.weight}});
      break;
    case CurveKind::constant: out << YAML::Key << "constant" << YAML::Value << num(c.value); break;
    case CurveKind::points:
      out << YAML::Key << "points" << YAML::Value << YAML::BeginSeq;
      for (const auto& [x, p] : c.knots) out << YAML::BeginSeq << num(x) << num(p) << YAML::EndSeq;
      out << YAML::EndSeq;
      break;
  }
  out << YAML::EndMap;
}

void metric(YAML::Emitter& out, const Metric& m) {
  switch (m.kind) {
    case MetricKind::multiple_choice:
    case MetricKind::pass_at:
      out << YAML::Flow << YAML::BeginMap << YAML::Key << metric_kind_name(m.kind) << YAML::Value
          << std::to_string(m.k) << YAML::EndMap;
      break;
    default: out << metric_kind_name(m.kind);
  }
}

// A double-quoted string. libyaml reads U+0085, U+2028 and U+2029 as line
// breaks (YAML 1.1) and folds them, while yaml-cpp writes them raw; a string
// holding one is written with its non-ASCII characters escaped (\uXXXX), so
// it reads back unchanged.
void quoted(YAML::Emitter& out, const std::string& value) {
  const bool breaks = value.find("\xc2\x85") != std::string::npos || value.find("\xe2\x80\xa8") != std::string::npos ||
                      value.find("\xe2\x80\xa9") != std::string::npos;
  if (breaks) out.SetOutputCharset(YAML::EscapeNonAscii);
  out << YAML::DoubleQuoted << value;
  if (breaks) out.SetOutputCharset(YAML::EmitNonAscii);
}

void text_field(YAML::Emitter& out, const char* key, const std::string& value) {
  if (value.empty()) return;
  out << YAML::Key << key << YAML::Value;
  quoted(out, value);
}

void scale(YAML::Emitter& out, const ScaleSpec& sc) {
  out << YAML::Key << "scale" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "axis" << YAML::Value << (sc.axis == Axis::compute ? "compute" : "params");
  out << YAML::Key << "range" << YAML::Value << YAML::Flow << YAML::BeginSeq << num(sc.from) << num(sc.to)
      << YAML::EndSeq;
  out << YAML::Key << "points" << YAML::Value << std::to_string(sc.points);
  out << YAML::Key << "tokens_per_param" << YAML::Value << num(sc.tokens_per_param);
  if (sc.data_limit) out << YAML::Key << "data_limit" << YAML::Value << num(*sc.data_limit);
  out << YAML::Key << "law" << YAML::Value;
  if (sc.law.name == "chinchilla" || sc.law.name == "epoch2024")
    out << sc.law.name;
  else
    params(out, {{"E", sc.law.E}, {"A", sc.law.A}, {"B", sc.law.B}, {"alpha", sc.law.alpha}, {"beta", sc.law.beta}});
  out << YAML::EndMap;
}

void skill(YAML::Emitter& out, const NodeSpec& n) {
  out << YAML::Key;
  id(out, n.id);
  out << YAML::Value << YAML::BeginMap;
  text_field(out, "label", n.label);
  text_field(out, "group", n.group);
  text_field(out, "description", n.description);
  out << YAML::Key << "curve" << YAML::Value;
  curve(out, n.curve);
  if (n.floor != 0) out << YAML::Key << "floor" << YAML::Value << num(n.floor);
  if (n.ceiling != 1) out << YAML::Key << "ceiling" << YAML::Value << num(n.ceiling);
  if (n.shared) out << YAML::Key << "shared" << YAML::Value << true;
  out << YAML::EndMap;
}

const char* gate_key(GateKind g) {
  switch (g) {
    case GateKind::all: return "all";
    case GateKind::any: return "any";
    case GateKind::mean: return "mean";
    case GateKind::at_least: return "at_least";
    case GateKind::best_of: return "best_of";
  }
  return "";
}

void task(YAML::Emitter& out, const ModelSpec& spec, const NodeSpec& n) {
  out << YAML::Key;
  id(out, n.id);
  out << YAML::Value << YAML::BeginMap;
  text_field(out, "label", n.label);
  text_field(out, "group", n.group);
  text_field(out, "description", n.description);
  out << YAML::Key << gate_key(n.gate) << YAML::Value;
  switch (n.gate) {
    case GateKind::all:
    case GateKind::any:
    case GateKind::mean: refs(out, spec, n.uses); break;
    case GateKind::at_least:
      out << YAML::Flow << YAML::BeginMap << YAML::Key << "k" << YAML::Value << std::to_string(n.k) << YAML::Key
          << "of" << YAML::Value;
      refs(out, spec, n.uses);
      out << YAML::EndMap;
      break;
    case GateKind::best_of:
      out << YAML::Flow << YAML::BeginMap << YAML::Key << "n" << YAML::Value << std::to_string(n.best_n) << YAML::Key
          << "of" << YAML::Value;
      id(out, spec.nodes[n.uses.at(0).node].id);
      out << YAML::EndMap;
      break;
  }
  if (n.guess != 0) out << YAML::Key << "guess" << YAML::Value << num(n.guess);
  if (n.threshold) out << YAML::Key << "threshold" << YAML::Value << num(*n.threshold);
  if (!n.metrics.empty()) {
    out << YAML::Key << "metrics" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const Metric& m : n.metrics) metric(out, m);
    out << YAML::EndSeq;
  }
  out << YAML::EndMap;
}

// The fitted parameters and their covariance, one flow list per row.
void fit_block(YAML::Emitter& out, const ModelSpec& spec, const FitSpec& fit) {
  const std::size_t n = fit.parameters.size();
  if (fit.covariance.size() != n * n) throw std::logic_error("spec writer: covariance is not P x P");
  out << YAML::Key << "fit" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "parameters" << YAML::Value << YAML::BeginSeq;
  for (const FitParameterSpec& p : fit.parameters) {
    out << YAML::Flow << YAML::BeginSeq;
    id(out, spec.nodes.at(p.node).id);
    out << p.parameter << num(p.estimate) << YAML::EndSeq;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "covariance" << YAML::Value << YAML::BeginSeq;
  for (std::size_t i = 0; i < n; ++i) {
    out << YAML::Flow << YAML::BeginSeq;
    for (std::size_t j = 0; j < n; ++j) out << num(fit.covariance[i * n + j]);
    out << YAML::EndSeq;
  }
  out << YAML::EndSeq << YAML::EndMap;
}

}  // namespace

std::string write_spec(const ModelSpec& spec, const std::string& header_comment) {
  YAML::Emitter out;
  out.SetIndent(2);
  if (!header_comment.empty()) out << YAML::Comment(header_comment);
  out << YAML::BeginMap;
  out << YAML::Key << "capgraph" << YAML::Value << "1";
  out << YAML::Key << "name" << YAML::Value;
  quoted(out, spec.name);
  text_field(out, "description", spec.description);
  out << YAML::Key << "threshold" << YAML::Value << num(spec.threshold);
  scale(out, spec.scale);
  out << YAML::Key << "skills" << YAML::Value << YAML::BeginMap;
  for (const auto& n : spec.nodes)
    if (!n.is_task) skill(out, n);
  out << YAML::EndMap;
  if (std::any_of(spec.nodes.begin(), spec.nodes.end(), [](const NodeSpec& n) { return n.is_task; })) {
    out << YAML::Key << "tasks" << YAML::Value << YAML::BeginMap;
    for (const auto& n : spec.nodes)
      if (n.is_task) task(out, spec, n);
    out << YAML::EndMap;
  }
  if (spec.fit) fit_block(out, spec, *spec.fit);
  out << YAML::EndMap;
  if (!out.good()) throw std::logic_error("spec writer: " + out.GetLastError());
  return std::string(out.c_str(), out.size()) + "\n";
}

}  // namespace capgraph::specs
