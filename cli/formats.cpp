// capgraph/cli/formats.cpp — see formats.hpp.
#include "cli/formats.hpp"

#include "text/number_format.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <new>
#include <sstream>

namespace capgraph::cli {

std::string num(double v) { return text::shortest(v); }

std::string num_short(double v, int digits) { return text::significant(v, digits); }

std::string text_of(const std::ostringstream& os) {
  if (!os) throw std::bad_alloc();
  return os.str();
}

std::string TextTable::str() const {
  std::vector<std::size_t> w(header_.size(), 0);
  auto widen = [&](const std::vector<std::string>& r) {
    for (std::size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], r[i].size());
  };
  widen(header_);
  for (const auto& r : rows_) widen(r);
  auto numeric = [](const std::string& s) {
    if (s == "inf" || s == "-inf" || s == "n/a" || s == "nan") return true;
    double v;
    const auto res = std::from_chars(s.data(), s.data() + s.size(), v);
    return res.ec == std::errc() && res.ptr == s.data() + s.size();
  };
  std::ostringstream os;
  auto line = [&](const std::vector<std::string>& r, bool head) {
    std::string out;
    for (std::size_t i = 0; i < r.size(); ++i) {
      const std::size_t pad = w[i] - r[i].size();
      const char a = i < align_.size() ? align_[i] : 'a';
      const bool right = !head && (a == 'r' || (a == 'a' && i > 0 && numeric(r[i])));
      if (i) out += "  ";
      if (right) out += std::string(pad, ' ') + r[i];
      else out += r[i] + (i + 1 < r.size() ? std::string(pad, ' ') : "");
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    os << out << '\n';
  };
  line(header_, true);
  std::vector<std::string> rule;
  for (std::size_t x : w) rule.push_back(std::string(x, '-'));
  line(rule, true);
  for (const auto& r : rows_) line(r, false);
  return text_of(os);
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string kind_of(const NodeSpec& n) { return n.is_task ? gate_kind_name(n.gate) : "skill"; }

nlohmann::ordered_json jnum(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json jopt(const std::optional<double>& v) { return v ? jnum(*v) : nlohmann::ordered_json(nullptr); }

std::string json_text(const nlohmann::ordered_json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string describe_point(const Model& model, const ScalePoint& pt) {
  std::string s;
  if (model.spec().scale.axis == Axis::compute) s = "C = " + num_short(pt.C) + " FLOP (N = " + num_short(pt.N);
  else s = "N = " + num_short(pt.N) + " params (C = " + num_short(pt.C) + " FLOP";
  s += ", D = " + num_short(pt.D) + " tokens" + (pt.data_limited ? ", data-limited" : "") + ")";
  return s;
}

}  // namespace capgraph::cli
