// capgraph/tests/test_render_support.hpp — models built in C++ for the
// render tests (no YAML needed), and small checks on produced SVG.
#pragma once

#include <cctype>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "graph/model.hpp"
#include "graph/model_spec.hpp"

namespace capgraph::test {

inline Curve logistic(double mid, double slope) {
  Curve c;
  c.kind = CurveKind::logistic;
  c.mid = mid;
  c.slope = slope;
  return c;
}

inline Curve constant(double p) {
  Curve c;
  c.kind = CurveKind::constant;
  c.value = p;
  return c;
}

/// Builds a ModelSpec node by node, references by id.
class SpecBuilder {
 public:
  explicit SpecBuilder(std::string name = "test model") { spec.name = std::move(name); }

  SpecBuilder& skill(const std::string& id, Curve curve, const std::string& group = {}, const std::string& label = {},
                     const std::string& description = {}) {
    NodeSpec n;
    n.id = id;
    n.label = label;
    n.group = group;
    n.description = description;
    n.curve = std::move(curve);
    add(std::move(n));
    return *this;
  }

  SpecBuilder& task(const std::string& id, GateKind gate, const std::vector<std::pair<std::string, double>>& uses,
                    const std::string& group = {}, const std::string& label = {}, int k = 0, int best_n = 1) {
    NodeSpec n;
    n.id = id;
    n.label = label;
    n.group = group;
    n.is_task = true;
    n.gate = gate;
    n.k = k;
    n.best_n = best_n;
    for (const auto& [ref, count] : uses) n.uses.push_back(Use{index_.at(ref), count, {}});
    add(std::move(n));
    return *this;
  }

  NodeSpec& last() { return spec.nodes.back(); }
  Model compile() const { return Model::compile(spec); }

  ModelSpec spec;

 private:
  void add(NodeSpec n) {
    index_[n.id] = spec.nodes.size();
    spec.nodes.push_back(std::move(n));
  }
  std::map<std::string, std::size_t> index_;
};

/// The "emoji movie" example of docs/spec-format.md, with groups.
inline ModelSpec emoji_movie_spec() {
  SpecBuilder b("Emoji movie");
  b.skill("emoji_semantics", logistic(2e9, 1.2), "perception", "Emoji -> concept")
      .skill("title_recall", logistic(5e9, 1.0), "memory")
      .skill("movie_facts", logistic(1e10, 0.9), "memory")
      .task("decode_clues", GateKind::all, {{"emoji_semantics", 3}}, "perception")
      .task("emoji_movie", GateKind::all, {{"decode_clues", 1}, {"movie_facts", 1}, {"title_recall", 1}});
  b.last().metrics = {{MetricKind::exact_match, 0}, {MetricKind::partial_credit, 0}, {MetricKind::log_likelihood, 0},
                      {MetricKind::multiple_choice, 5}};
  return b.spec;
}

/// A ten-step chain: every step smooth, the composite sharp (the "mirage").
inline ModelSpec mirage_spec() {
  SpecBuilder b("Ten-step mirage");
  b.skill("step", logistic(3e9, 1.1), "", "one reasoning step");
  b.task("ten_steps", GateKind::all, {{"step", 10}}, "", "ten steps in a row");
  b.task("best_of_five", GateKind::best_of, {{"ten_steps", 1}}, "", "", 0, 5);
  return b.spec;
}

/// A generated layered model with `n` nodes (40% skills) in `layers` task
/// layers, tasks using 2-4 prerequisites from the layer below (30%: any
/// layer below); about `groups` groups, each a contiguous run of one layer
/// (as people group specs: by topic within a level). Deterministic in `seed`.
inline ModelSpec generated_spec(std::size_t n, std::size_t groups, std::uint64_t seed = 1, int layers = 5) {
  std::uint64_t state = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  auto next = [&state](std::uint64_t bound) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::size_t>((state >> 33) % bound);
  };
  ModelSpec spec;
  spec.name = "generated " + std::to_string(n);
  const std::size_t skills = std::max<std::size_t>(2, n * 2 / 5);
  const std::size_t per_layer = std::max<std::size_t>(1, groups / static_cast<std::size_t>(layers + 1));
  std::vector<std::vector<std::size_t>> layer(1);
  for (std::size_t i = 0; i < skills; ++i) {
    NodeSpec s;
    s.id = "s";
    s.id += std::to_string(i);
    s.curve = logistic(std::pow(10.0, 8.5 + 0.001 * static_cast<double>(next(3000))), 0.8 + 0.001 * static_cast<double>(next(800)));
    if (groups > 0) {
      s.group = "group 0.";
      s.group += std::to_string(i * per_layer / skills);
    }
    layer[0].push_back(spec.nodes.size());
    spec.nodes.push_back(std::move(s));
  }
  const std::size_t tasks = n - skills;
  for (int l = 1; l <= layers; ++l) {
    layer.emplace_back();
    const std::size_t count = tasks / static_cast<std::size_t>(layers) + (l == layers ? tasks % static_cast<std::size_t>(layers) : 0);
    for (std::size_t i = 0; i < count; ++i) {
      NodeSpec t;
      // appended piecewise: GCC 12's -Wrestrict misfires on "t" + to_string(...) (GCC bug 105329)
      t.id = "t";
      t.id += std::to_string(l);
      t.id += '_';
      t.id += std::to_string(i);
      t.is_task = true;
      t.gate = next(5) == 0 ? GateKind::any : GateKind::all;
      if (groups > 0) {
        t.group = "group ";
        t.group += std::to_string(l);
        t.group += '.';
        t.group += std::to_string(i * per_layer / count);
      }
      std::map<std::size_t, double> kids;
      const std::size_t want = 2 + next(3);
      for (std::size_t k = 0; k < want; ++k) {
        const std::size_t from = next(10) < 3 ? next(static_cast<std::size_t>(l)) : static_cast<std::size_t>(l - 1);
        const auto& pool = layer[from];
        kids[pool[next(pool.size())]] += next(4) == 0 ? 2 : 1;
      }
      for (const auto& [c, cnt] : kids) t.uses.push_back(Use{c, cnt, {}});
      layer.back().push_back(spec.nodes.size());
      spec.nodes.push_back(std::move(t));
    }
  }
  return spec;
}

// ---- a minimal XML reader (enough to check our SVG) -------------------------
//
// Parses a whole document into elements with attributes and text, and throws
// std::runtime_error on anything not well-formed: unbalanced or mismatched
// tags, unquoted or duplicate attributes, unknown entities, a raw `<` or `&`
// in text, `--` inside a comment, content after the root element.

struct XmlElement {
  std::string name;
  std::vector<std::pair<std::string, std::string>> attrs;  // decoded values
  std::vector<std::unique_ptr<XmlElement>> children;
  std::string text;  // decoded character data directly inside, concatenated
  XmlElement* parent = nullptr;

  const std::string* attr(const std::string& key) const {
    for (const auto& [k, v] : attrs)
      if (k == key) return &v;
    return nullptr;
  }
  bool has_class(const std::string& c) const {
    const std::string* v = attr("class");
    if (!v) return false;
    std::size_t i = 0;
    while (i < v->size()) {
      std::size_t j = v->find(' ', i);
      if (j == std::string::npos) j = v->size();
      if (v->substr(i, j - i) == c) return true;
      i = j + 1;
    }
    return false;
  }
  /// All text below this element, in document order.
  std::string all_text() const {
    std::string t = text;
    for (const auto& c : children) t += c->all_text();
    return t;
  }
  void visit(const std::function<void(const XmlElement&)>& f) const {
    f(*this);
    for (const auto& c : children) c->visit(f);
  }
  std::vector<const XmlElement*> find_all(const std::function<bool(const XmlElement&)>& pred) const {
    std::vector<const XmlElement*> out;
    visit([&](const XmlElement& e) {
      if (pred(e)) out.push_back(&e);
    });
    return out;
  }
};

class XmlReader {
 public:
  static std::unique_ptr<XmlElement> parse(const std::string& doc) {
    XmlReader r(doc);
    return r.document();
  }

 private:
  explicit XmlReader(const std::string& d) : s_(d) {}
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("XML error at byte " + std::to_string(i_) + ": " + what);
  }
  bool starts(const char* lit) const { return s_.compare(i_, std::char_traits<char>::length(lit), lit) == 0; }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  static bool name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == ':' ||
           (static_cast<unsigned char>(c) >= 0x80);
  }
  std::string name() {
    const std::size_t b = i_;
    while (i_ < s_.size() && name_char(s_[i_])) ++i_;
    if (b == i_) fail("name expected");
    return s_.substr(b, i_ - b);
  }
  std::string decode(const std::string& raw) {
    std::string out;
    for (std::size_t k = 0; k < raw.size(); ++k) {
      if (raw[k] == '<') fail("raw < in text or attribute");
      if (raw[k] != '&') {
        out += raw[k];
        continue;
      }
      const std::size_t semi = raw.find(';', k);
      if (semi == std::string::npos) fail("unterminated entity");
      const std::string ent = raw.substr(k + 1, semi - k - 1);
      if (ent == "amp") out += '&';
      else if (ent == "lt") out += '<';
      else if (ent == "gt") out += '>';
      else if (ent == "quot") out += '"';
      else if (ent == "apos") out += '\'';
      else if (!ent.empty() && ent[0] == '#') {
        const bool hex = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X');
        const std::string digits = ent.substr(hex ? 2 : 1);
        if (digits.empty()) fail("empty character reference");
        for (char c : digits)
          if (!(hex ? std::isxdigit(static_cast<unsigned char>(c)) : std::isdigit(static_cast<unsigned char>(c))))
            fail("bad character reference &" + ent + ";");
        const unsigned long cp = std::stoul(digits, nullptr, hex ? 16 : 10);
        if (cp == 0 || cp > 0x10FFFF || (cp < 0x20 && cp != 9 && cp != 10 && cp != 13)) fail("invalid character reference");
        // UTF-8 encode
        if (cp < 0x80) out += static_cast<char>(cp);
        else if (cp < 0x800) { out += static_cast<char>(0xC0 | (cp >> 6)); out += static_cast<char>(0x80 | (cp & 0x3F)); }
        else if (cp < 0x10000) { out += static_cast<char>(0xE0 | (cp >> 12)); out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F)); out += static_cast<char>(0x80 | (cp & 0x3F)); }
        else { out += static_cast<char>(0xF0 | (cp >> 18)); out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F)); out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F)); out += static_cast<char>(0x80 | (cp & 0x3F)); }
      } else {
        fail("unknown entity &" + ent + ";");
      }
      k = semi;
    }
    return out;
  }
  void misc() {  // comments, PIs, doctype, whitespace
    for (;;) {
      skip_ws();
      if (starts("<!--")) {
        const std::size_t end = s_.find("-->", i_ + 4);
        if (end == std::string::npos) fail("unterminated comment");
        if (s_.substr(i_ + 4, end - i_ - 4).find("--") != std::string::npos) fail("-- inside a comment");
        i_ = end + 3;
      } else if (starts("<?")) {
        const std::size_t end = s_.find("?>", i_);
        if (end == std::string::npos) fail("unterminated processing instruction");
        i_ = end + 2;
      } else if (starts("<!DOCTYPE")) {
        const std::size_t end = s_.find('>', i_);
        if (end == std::string::npos) fail("unterminated doctype");
        i_ = end + 1;
      } else {
        return;
      }
    }
  }
  std::unique_ptr<XmlElement> element(XmlElement* parent) {
    if (!starts("<")) fail("element expected");
    ++i_;
    auto e = std::make_unique<XmlElement>();
    e->parent = parent;
    e->name = name();
    for (;;) {
      skip_ws();
      if (starts("/>")) {
        i_ += 2;
        return e;
      }
      if (starts(">")) {
        ++i_;
        break;
      }
      std::string key = name();
      skip_ws();
      if (!starts("=")) fail("= expected after attribute " + key);
      ++i_;
      skip_ws();
      if (i_ >= s_.size() || (s_[i_] != '"' && s_[i_] != '\'')) fail("quoted attribute value expected");
      const char q = s_[i_++];
      const std::size_t end = s_.find(q, i_);
      if (end == std::string::npos) fail("unterminated attribute value");
      if (e->attr(key)) fail("duplicate attribute " + key);
      e->attrs.emplace_back(key, decode(s_.substr(i_, end - i_)));
      i_ = end + 1;
    }
    for (;;) {
      if (i_ >= s_.size()) fail("unterminated element <" + e->name + ">");
      if (starts("</")) {
        i_ += 2;
        const std::string closing = name();
        if (closing != e->name) fail("</" + closing + "> closes <" + e->name + ">");
        skip_ws();
        if (!starts(">")) fail("> expected");
        ++i_;
        return e;
      }
      if (starts("<!--")) {
        misc();
        continue;
      }
      if (starts("<![CDATA[")) {
        const std::size_t end = s_.find("]]>", i_);
        if (end == std::string::npos) fail("unterminated CDATA");
        e->text += s_.substr(i_ + 9, end - i_ - 9);
        i_ = end + 3;
        continue;
      }
      if (starts("<")) {
        e->children.push_back(element(e.get()));
        continue;
      }
      const std::size_t next = s_.find('<', i_);
      e->text += decode(s_.substr(i_, next - i_));
      i_ = next == std::string::npos ? s_.size() : next;
    }
  }
  std::unique_ptr<XmlElement> document() {
    misc();
    auto root = element(nullptr);
    misc();
    if (i_ != s_.size()) fail("content after the root element");
    return root;
  }

  const std::string& s_;
  std::size_t i_ = 0;
};

/// Nothing in the document can run script: no <script>, no on* attribute,
/// no href / xlink:href, no `javascript:` in any attribute value.
inline std::string script_problem(const XmlElement& root) {
  std::string problem;
  root.visit([&](const XmlElement& e) {
    if (!problem.empty()) return;
    std::string lower = e.name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "script" || lower == "foreignobject" || lower == "iframe") problem = "element <" + e.name + ">";
    for (const auto& [k, v] : e.attrs) {
      std::string key = k, val = v;
      for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      for (char& c : val) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (key.rfind("on", 0) == 0) problem = "event handler attribute " + k;
      if (key == "href" || key == "xlink:href") problem = "link attribute " + k + "=" + v;
      if (val.find("javascript:") != std::string::npos && key != "xlink:title") problem = "javascript: in " + k;
    }
  });
  return problem;
}

}  // namespace capgraph::test
