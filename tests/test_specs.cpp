// Tests of the spec layer (specs/): valid specs land field by field in a
// ModelSpec, defaults, source positions, hints, limits. The bad-input
// corpus (tests/bad/) is checked by test_specs_bad.cpp.
#include <catch2/catch.hpp>

#include <string>

#include "specs/diagnostics.hpp"
#include "specs/load.hpp"
#include "specs/name_index.hpp"

using namespace capgraph;
using capgraph::specs::load_spec_text;
using capgraph::specs::LoadOptions;
using capgraph::specs::LoadResult;

namespace {

// The example of docs/spec-format.md, verbatim.
const char* const kDesignExample = R"(capgraph: 1                      # format version, required
name: Emoji movie                # required
description: free text
threshold: 0.5                   # default "human-relevant" level for emergence reports
scale:
  axis: params                   # params | compute   (what sweeps vary)
  range: [1e8, 1e13]             # default sweep range along the axis
  points: 61                     # default number of log-spaced sweep points
  tokens_per_param: 20           # D = tokens_per_param * N on the params axis
  data_limit: 3e14               # optional cap on training tokens D
  law: chinchilla                # or {E:, A:, B:, alpha:, beta:} constants
skills:                          # leaves: smooth curves over scale
  emoji_semantics:
    label: Emoji -> concept      # optional display name (default: the id)
    group: perception            # optional cluster in maps
    description: free text
    curve: {logistic: {mid: 2e9, slope: 1.2}}
    floor: 0.0                   # optional, default 0
    ceiling: 1.0                 # optional, default 1
    shared: false                # optional, see 3.3
  title_recall:
    curve: {power_law: {c: 5e8, alpha: 0.3}}
  movie_facts:
    curve: {points: [[1e8, 0.05], [1e9, 0.2], [1e10, 0.5], [1e11, 0.8]]}
tasks:                           # composites: exactly one gate each
  decode_clues:
    all: [{emoji_semantics: 3}]  # three independent uses of one skill
  emoji_movie:
    all: [decode_clues, movie_facts, title_recall]
    guess: 0.0                   # optional chance floor
    threshold: 0.5               # optional per-task threshold
    metrics: [exact_match, partial_credit, log_likelihood, {multiple_choice: 5}, {pass_at: 10}]
)";

LoadResult load(const std::string& text, const LoadOptions& options = {}) {
  return load_spec_text(text, "spec.yaml", options);
}

/// The error lines without the file name, joined by newlines.
std::string errors_of(const LoadResult& r) {
  std::string out;
  for (const auto& d : r.errors) {
    std::string line = d.to_string();
    if (line.rfind("spec.yaml:", 0) == 0) line.erase(0, 10);
    out += line + "\n";
  }
  return out;
}

const NodeSpec& node(const ModelSpec& spec, const std::string& id) {
  for (const NodeSpec& n : spec.nodes) {
    if (n.id == id) return n;
  }
  FAIL("no node " << id);
  throw;
}

const std::string kHead = "capgraph: 1\nname: t\n";

}  // namespace

TEST_CASE("specs: the spec-format example loads field by field", "[specs]") {
  const LoadResult r = load(kDesignExample);
  INFO(errors_of(r));
  REQUIRE(r.ok());
  REQUIRE(r.errors.empty());
  const ModelSpec& s = *r.spec;
  CHECK(s.name == "Emoji movie");
  CHECK(s.description == "free text");
  CHECK(s.threshold == 0.5);
  CHECK(s.scale.axis == Axis::params);
  CHECK(s.scale.from == 1e8);
  CHECK(s.scale.to == 1e13);
  CHECK(s.scale.points == 61);
  CHECK(s.scale.tokens_per_param == 20);
  REQUIRE(s.scale.data_limit.has_value());
  CHECK(*s.scale.data_limit == 3e14);
  CHECK(s.scale.law.name == "chinchilla");
  CHECK(s.scale.law.A == 406.4);

  // Skills first, then tasks, each in file order.
  REQUIRE(s.nodes.size() == 5);
  CHECK(s.nodes[0].id == "emoji_semantics");
  CHECK(s.nodes[1].id == "title_recall");
  CHECK(s.nodes[2].id == "movie_facts");
  CHECK(s.nodes[3].id == "decode_clues");
  CHECK(s.nodes[4].id == "emoji_movie");

  const NodeSpec& es = s.nodes[0];
  CHECK_FALSE(es.is_task);
  CHECK(es.label == "Emoji -> concept");
  CHECK(es.display_name() == "Emoji -> concept");
  CHECK(es.group == "perception");
  CHECK(es.description == "free text");
  CHECK(es.curve.kind == CurveKind::logistic);
  CHECK(es.curve.mid == 2e9);
  CHECK(es.curve.slope == 1.2);
  CHECK(es.floor == 0.0);
  CHECK(es.ceiling == 1.0);
  CHECK_FALSE(es.shared);

  const NodeSpec& tr = s.nodes[1];
  CHECK(tr.curve.kind == CurveKind::power_law);
  CHECK(tr.curve.c == 5e8);
  CHECK(tr.curve.alpha == 0.3);
  CHECK(tr.display_name() == "title_recall");

  const NodeSpec& mf = s.nodes[2];
  CHECK(mf.curve.kind == CurveKind::points);
  REQUIRE(mf.curve.knots.size() == 4);
  CHECK(mf.curve.knots[0] == std::pair<double, double>(1e8, 0.05));
  CHECK(mf.curve.knots[3] == std::pair<double, double>(1e11, 0.8));

  const NodeSpec& dc = s.nodes[3];
  CHECK(dc.is_task);
  CHECK(dc.gate == GateKind::all);
  REQUIRE(dc.uses.size() == 1);
  CHECK(dc.uses[0].node == 0);
  CHECK(dc.uses[0].count == 3);
  CHECK(dc.metrics.empty());  // engine defaults
  CHECK_FALSE(dc.threshold.has_value());

  const NodeSpec& em = s.nodes[4];
  CHECK(em.gate == GateKind::all);
  REQUIRE(em.uses.size() == 3);
  CHECK(em.uses[0].node == 3);
  CHECK(em.uses[1].node == 2);
  CHECK(em.uses[2].node == 1);
  CHECK(em.uses[0].count == 1);
  CHECK(em.guess == 0.0);
  REQUIRE(em.threshold.has_value());
  CHECK(*em.threshold == 0.5);
  const std::vector<Metric> metrics = {{MetricKind::exact_match, 0},
                                       {MetricKind::partial_credit, 0},
                                       {MetricKind::log_likelihood, 0},
                                       {MetricKind::multiple_choice, 5},
                                       {MetricKind::pass_at, 10}};
  CHECK(em.metrics == metrics);
}

TEST_CASE("specs: defaults of a minimal spec", "[specs]") {
  const LoadResult r = load(kHead + "skills:\n  a: {curve: {constant: 0.25}}\n");
  INFO(errors_of(r));
  REQUIRE(r.ok());
  const ModelSpec& s = *r.spec;
  const ScaleSpec defaults;
  CHECK(s.description.empty());
  CHECK(s.threshold == 0.5);
  CHECK(s.scale.axis == Axis::params);
  CHECK(s.scale.from == 1e8);
  CHECK(s.scale.to == 1e13);
  CHECK(s.scale.points == 61);
  CHECK(s.scale.tokens_per_param == 20);
  CHECK_FALSE(s.scale.data_limit.has_value());
  CHECK(s.scale.law.name == "chinchilla");
  CHECK(s.scale.law.E == defaults.law.E);
  REQUIRE(s.nodes.size() == 1);
  const NodeSpec& a = s.nodes[0];
  CHECK(a.curve.kind == CurveKind::constant);
  CHECK(a.curve.value == 0.25);
  CHECK(a.floor == 0);
  CHECK(a.ceiling == 1);
  CHECK_FALSE(a.shared);
  CHECK(a.label.empty());
  CHECK(a.group.empty());
}

TEST_CASE("specs: every gate, curve and scale option", "[specs]") {
  const LoadResult r = load(kHead + R"(description: >
  folded text
threshold: 0.7
scale:
  axis: compute
  range: [1e20, 1e25]
  points: 5
  tokens_per_param: 25.5
  data_limit: ~
  law: {E: 0, A: 400, B: 410, alpha: 0.34, beta: 0.28}
skills:
  c: {curve: {chinchilla: {weight: 0.5}}, shared: true, floor: 0.25, ceiling: 0.75}
  k: {curve: {constant: 1}, shared: True}
  one: {curve: {points: [[1e9, 0.5]]}}
  neg: {curve: {logistic: {mid: 1e9, slope: -2}}}
tasks:
  al:
    at_least: {k: 3, of: [{c: 2}, k, {one: 2.0}]}
  bo:
    best_of: {n: 8, of: al}
    metrics: []
  mn:
    mean: [{al: 0.5}, {bo: 2}]
    guess: 0.25
  an:
    any: [{c: 1.5}, neg]
    label: "Any"
    metrics: [{pass_at: 1}, {multiple_choice: 2}]
)");
  INFO(errors_of(r));
  REQUIRE(r.ok());
  const ModelSpec& s = *r.spec;
  CHECK(s.description == "folded text\n");
  CHECK(s.threshold == 0.7);
  CHECK(s.scale.axis == Axis::compute);
  CHECK(s.scale.from == 1e20);
  CHECK(s.scale.to == 1e25);
  CHECK(s.scale.points == 5);
  CHECK(s.scale.tokens_per_param == 25.5);
  CHECK_FALSE(s.scale.data_limit.has_value());
  CHECK(s.scale.law.name == "custom");
  CHECK(s.scale.law.E == 0);
  CHECK(s.scale.law.A == 400);
  CHECK(s.scale.law.B == 410);
  CHECK(s.scale.law.alpha == 0.34);
  CHECK(s.scale.law.beta == 0.28);

  const NodeSpec& c = node(s, "c");
  CHECK(c.curve.kind == CurveKind::chinchilla);
  CHECK(c.curve.weight == 0.5);
  CHECK(c.shared);
  CHECK(c.floor == 0.25);
  CHECK(c.ceiling == 0.75);
  CHECK(node(s, "k").shared);
  CHECK(node(s, "k").curve.value == 1);
  CHECK(node(s, "one").curve.knots.size() == 1);
  CHECK(node(s, "neg").curve.slope == -2);

  const NodeSpec& al = node(s, "al");
  CHECK(al.gate == GateKind::at_least);
  CHECK(al.k == 3);
  REQUIRE(al.uses.size() == 3);
  CHECK(al.uses[0].count == 2);
  CHECK(al.uses[2].count == 2);

  const NodeSpec& bo = node(s, "bo");
  CHECK(bo.gate == GateKind::best_of);
  CHECK(bo.best_n == 8);
  REQUIRE(bo.uses.size() == 1);
  CHECK(s.nodes[bo.uses[0].node].id == "al");
  CHECK(bo.uses[0].count == 1);
  CHECK(bo.metrics.empty());

  const NodeSpec& mn = node(s, "mn");
  CHECK(mn.gate == GateKind::mean);
  CHECK(mn.guess == 0.25);
  REQUIRE(mn.uses.size() == 2);
  CHECK(mn.uses[0].count == 0.5);
  CHECK(mn.uses[1].count == 2);

  const NodeSpec& an = node(s, "an");
  CHECK(an.gate == GateKind::any);
  CHECK(an.label == "Any");
  CHECK(an.uses[0].count == 1.5);
  const std::vector<Metric> metrics = {{MetricKind::pass_at, 1}, {MetricKind::multiple_choice, 2}};
  CHECK(an.metrics == metrics);
}

TEST_CASE("specs: named scaling laws", "[specs]") {
  const LoadResult r = load(kHead + "scale: {law: epoch2024}\nskills:\n  a: {curve: {constant: 0.5}}\n");
  REQUIRE(r.ok());
  CHECK(r.spec->scale.law.name == "epoch2024");
  CHECK(r.spec->scale.law.B == 2085.434);
}

TEST_CASE("specs: positions of ids and references", "[specs]") {
  const LoadResult r = load(kHead + R"(skills:
  alpha:
    curve: {constant: 0.5}
  beta: {curve: {constant: 0.5}}
tasks:
  t:
    all:
      - alpha
      - {beta: 2}
  u: {any: [t, alpha]}
)");
  INFO(errors_of(r));
  REQUIRE(r.ok());
  const ModelSpec& s = *r.spec;
  CHECK(node(s, "alpha").loc.line == 4);
  CHECK(node(s, "alpha").loc.column == 3);
  CHECK(node(s, "beta").loc.line == 6);
  const NodeSpec& t = node(s, "t");
  CHECK(t.loc.line == 8);
  CHECK(t.loc.column == 3);
  REQUIRE(t.uses.size() == 2);
  CHECK(t.uses[0].loc.line == 10);
  CHECK(t.uses[0].loc.column == 9);
  CHECK(t.uses[1].loc.line == 11);
  CHECK(t.uses[1].loc.column == 10);  // the id inside {beta: 2}
  const NodeSpec& u = node(s, "u");
  CHECK(u.loc.line == 12);
  REQUIRE(u.uses.size() == 2);
  CHECK(u.uses[1].loc.line == 12);
  CHECK(u.uses[1].loc.column == 16);
}

TEST_CASE("specs: strings, booleans and numbers", "[specs]") {
  SECTION("any scalar is a string where a string is expected") {
    const LoadResult r = load("capgraph: 1\nname: 42\nskills:\n  a: {curve: {constant: 5e-1}, label: 'true'}\n");
    INFO(errors_of(r));
    REQUIRE(r.ok());
    CHECK(r.spec->name == "42");
    CHECK(r.spec->nodes[0].label == "true");
    CHECK(r.spec->nodes[0].curve.value == 0.5);
  }
  SECTION("a leading + and an integer written as 2.0") {
    const LoadResult r = load(kHead + "scale: {points: +3.0}\nskills:\n  a: {curve: {constant: +.5}}\n");
    INFO(errors_of(r));
    REQUIRE(r.ok());
    CHECK(r.spec->scale.points == 3);
    CHECK(r.spec->nodes[0].curve.value == 0.5);
  }
  SECTION("a UTF-8 byte order mark and non-ASCII text") {
    const LoadResult r = load("\xEF\xBB\xBF" + kHead + "skills:\n  a: {curve: {constant: 0.5}, label: \"caf\xC3\xA9\"}\n");
    INFO(errors_of(r));
    REQUIRE(r.ok());
    CHECK(r.spec->nodes[0].label == "caf\xC3\xA9");
  }
  SECTION("a quoted number is not a number") {
    const LoadResult r = load(kHead + "skills:\n  a: {curve: {constant: '0.5'}}\n");
    CHECK(errors_of(r) == "4:25: error: `constant` must be a number, found the quoted string `0.5`; remove the quotes\n");
  }
  SECTION("number out of range of a double") {
    const LoadResult r = load(kHead + "skills:\n  a: {curve: {logistic: {mid: 1e400, slope: 1}}}\n");
    CHECK(errors_of(r) == "4:31: error: `mid` is out of the range of a double (`1e400`)\n");
  }
  SECTION("not a number") {
    const LoadResult r = load(kHead + "skills:\n  a: {curve: {logistic: {mid: big, slope: 0x10}}}\n");
    CHECK(errors_of(r) ==
          "4:31: error: `mid` must be a number, found `big`\n"
          "4:43: error: `slope` must be a number, found `0x10`\n");
  }
  SECTION("YAML tags are rejected") {
    const LoadResult r = load(kHead + "skills:\n  a: {curve: {constant: !!float 0.5}}\n");
    CHECK_FALSE(r.ok());
    CHECK(errors_of(r).find("YAML tags are not supported") != std::string::npos);
  }
}

TEST_CASE("specs: did-you-mean hints", "[specs]") {
  SECTION("unknown reference, by edit distance") {
    const LoadResult r = load(kHead +
                              "skills:\n  emoji_semantics: {curve: {constant: 0.5}}\n"
                              "tasks:\n  t: {all: [emoji_semantic]}\n");
    CHECK(errors_of(r) == "6:13: error: unknown reference `emoji_semantic`; did you mean `emoji_semantics`?\n");
  }
  SECTION("unknown reference, by prefix") {
    const LoadResult r = load(kHead +
                              "skills:\n  emoji_semantics: {curve: {constant: 0.5}}\n"
                              "tasks:\n  t: {all: [emoji]}\n");
    CHECK(errors_of(r) == "6:13: error: unknown reference `emoji`; did you mean `emoji_semantics`?\n");
  }
  SECTION("unknown reference, nothing close") {
    const LoadResult r = load(kHead + "skills:\n  a: {curve: {constant: 0.5}}\ntasks:\n  t: {all: [zzzzzz]}\n");
    CHECK(errors_of(r) == "6:13: error: unknown reference `zzzzzz`\n");
  }
  SECTION("unknown key with transposed letters; no 'missing' error besides") {
    const LoadResult r = load("capgraph: 1\nnmae: t\nskills:\n  a: {curve: {constant: 0.5}}\n");
    CHECK(errors_of(r) == "2:1: error: unknown top-level key `nmae`; did you mean `name`?\n");
  }
  SECTION("unknown key far from every allowed key lists them") {
    const LoadResult r = load(kHead + "skills:\n  a: {curve: {constant: 0.5}, zzzzzz: 1}\n");
    CHECK(errors_of(r) ==
          "4:31: error: unknown key `zzzzzz` in skill `a`; expected one of label, group, description, curve, "
          "floor, ceiling, shared\n");
  }
  SECTION("misspelt gate: one error, not also 'no gate'") {
    const LoadResult r = load(kHead + "skills:\n  a: {curve: {constant: 0.5}}\ntasks:\n  t: {at_lest: {k: 1, of: [a]}}\n");
    CHECK(errors_of(r) == "6:7: error: unknown key `at_lest` in task `t`; did you mean `at_least`?\n");
  }
  SECTION("unknown axis") {
    const LoadResult r = load(kHead + "scale: {axis: compue}\nskills:\n  a: {curve: {constant: 0.5}}\n");
    CHECK(errors_of(r) == "3:15: error: unknown axis `compue`; did you mean `compute`?\n");
  }
}

TEST_CASE("specs: NameIndex grows and keeps the first value", "[specs]") {
  std::vector<std::string> names;
  for (int i = 0; i < 1000; ++i) names.push_back("id" + std::to_string(i));
  capgraph::specs::NameIndex index;  // starts small: rehashes many times
  for (std::size_t i = 0; i < names.size(); ++i) {
    CHECK(index.insert(names[i], static_cast<std::uint32_t>(i)).second);
  }
  CHECK(index.size() == 1000);
  const auto again = index.insert("id7", 99);
  CHECK_FALSE(again.second);
  CHECK(again.first == 7);
  for (std::size_t i = 0; i < names.size(); ++i) CHECK(index.find(names[i]) == static_cast<std::uint32_t>(i));
  CHECK_FALSE(index.find("id1000").has_value());
  CHECK_FALSE(index.find("").has_value());
}

TEST_CASE("specs: all errors of a file, sorted and deduplicated", "[specs]") {
  // Three independent mistakes, written bottom-up: all three come back, in
  // file order.
  const LoadResult r = load(kHead + R"(skills:
  a:
    curve: {constant: 0.5}
    celing: 1
  b:
    curve: {power_law: {c: 5e8, alpha: 0}}
tasks:
  t:
    all: [a, b, c]
)");
  CHECK_FALSE(r.ok());
  CHECK_FALSE(r.spec.has_value());
  REQUIRE(r.errors.size() == 3);
  CHECK(r.errors[0].line == 6);
  CHECK(r.errors[1].line == 8);
  CHECK(r.errors[2].line == 11);
  CHECK(r.errors[0].hint == "did you mean `ceiling`?");
  CHECK(r.errors[2].message == "unknown reference `c`");

  // The same unknown id used twice at two places: two errors.
  const LoadResult twice = load(kHead + "skills:\n  a: {curve: {constant: 0.5}}\ntasks:\n  t: {all: [x, x]}\n");
  CHECK(twice.errors.size() == 2);
}

TEST_CASE("specs: Diagnostics sorts by position and drops exact duplicates", "[specs]") {
  capgraph::specs::Diagnostics diag("f.yaml");
  diag.error(5, 2, "b");
  diag.error(1, 9, "a");
  diag.error(5, 2, "b");           // exact duplicate
  diag.error(5, 2, "b", "hint");   // same place and message, other hint: kept
  diag.error(5, 1, "c");
  diag.error(5, 2, "d");           // same place, later discovery: after "b"
  const auto out = std::move(diag).finish();
  REQUIRE(out.size() == 5);
  CHECK(out[0].message == "a");
  CHECK(out[1].message == "c");
  CHECK(out[2].message == "b");
  CHECK(out[2].hint.empty());
  CHECK(out[3].hint == "hint");
  CHECK(out[4].message == "d");
}

TEST_CASE("specs: Diagnostic::to_string", "[specs]") {
  capgraph::specs::Diagnostic d;
  d.file = "x.yaml";
  d.line = 3;
  d.column = 7;
  d.message = "unknown reference `a`";
  CHECK(d.to_string() == "x.yaml:3:7: error: unknown reference `a`");
  d.hint = "did you mean `b`?";
  CHECK(d.to_string() == "x.yaml:3:7: error: unknown reference `a`; did you mean `b`?");
  d.line = 0;
  CHECK(d.to_string() == "x.yaml: error: unknown reference `a`; did you mean `b`?");
}

TEST_CASE("specs: limits", "[specs]") {
  const std::string spec = kHead + "skills:\n  a: {curve: {constant: 0.5}}\n  b: {curve: {constant: 0.5}}\n"
                                   "tasks:\n  t: {all: [{a: 3}, b]}\n";
  REQUIRE(load(spec).ok());

  SECTION("max_bytes") {
    LoadOptions o;
    o.max_bytes = 10;
    const LoadResult r = load(spec, o);
    REQUIRE(r.errors.size() == 1);
    CHECK_FALSE(r.io_error);
    CHECK(r.errors[0].to_string() == "spec.yaml: error: spec is " + std::to_string(spec.size()) +
                                         " bytes, more than the limit of 10 bytes; raise it with --max-bytes");
  }
  SECTION("max_nodes") {
    LoadOptions o;
    o.max_nodes = 2;
    const LoadResult r = load(spec, o);
    CHECK(errors_of(r) ==
          "7:3: error: spec has 3 skills and tasks, more than the limit of 2; raise it with --max-nodes\n");
  }
  SECTION("max_depth") {
    LoadOptions o;
    o.max_depth = 3;  // root, skills, a: the curve mapping is level 4
    const LoadResult r = load(spec, o);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].line == 4);
    CHECK(r.errors[0].column == 14);
    CHECK(r.errors[0].message == "nesting deeper than 3 levels");
  }
  SECTION("max_uses") {
    LoadOptions o;
    o.max_uses = 2;
    const LoadResult r = load(spec, o);
    CHECK(errors_of(r) == "7:17: error: uses 3 of `a` exceeds the limit of 2; raise it with --max-uses\n");
  }
  SECTION("max_points") {
    LoadOptions o;
    o.max_points = 100;
    REQUIRE(load(kHead + "scale: {points: 100}\nskills:\n  a: {curve: {constant: 0.5}}\n", o).ok());
    const LoadResult r = load(kHead + "scale: {points: 101}\nskills:\n  a: {curve: {constant: 0.5}}\n", o);
    CHECK(errors_of(r) ==
          "3:17: error: points 101 exceeds the limit of 100 sweep points; raise it with --max-points\n");
  }
}

TEST_CASE("specs: files", "[specs]") {
  const LoadResult r = capgraph::specs::load_spec_file("/nonexistent/dir/spec.yaml");
  CHECK(r.io_error);
  CHECK_FALSE(r.ok());
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].to_string().rfind("/nonexistent/dir/spec.yaml: error: cannot open", 0) == 0);
}

TEST_CASE("specs: whole-model checks", "[specs]") {
  SECTION("cycle path at the first node") {
    const LoadResult r = load(kHead + "skills:\n  a: {curve: {constant: 0.5}}\n"
                                      "tasks:\n  x: {all: [a, y]}\n  y: {any: [x]}\n");
    CHECK(errors_of(r) == "6:3: error: cycle: x -> y -> x\n");
  }
  SECTION("self-reference at the reference") {
    const LoadResult r = load(kHead + "skills:\n  a: {curve: {constant: 0.5}}\ntasks:\n  x: {best_of: {n: 2, of: x}}\n");
    CHECK(errors_of(r) == "6:27: error: task `x` uses itself\n");
  }
  SECTION("a skill and a task with one id") {
    const LoadResult r = load(kHead + "skills:\n  a: {curve: {constant: 0.5}}\ntasks:\n  a: {all: [a]}\n");
    CHECK(errors_of(r) == "6:3: error: duplicate id `a`; first defined at line 4\n");
  }
  SECTION("duplicate keys in a nested map and in skills") {
    const LoadResult r = load(kHead + "skills:\n  a: {curve: {constant: 0.5, constant: 0.7}}\n  a: {curve: {constant: 0.5}}\n");
    CHECK(errors_of(r) ==
          "4:30: error: duplicate key `constant` (first at line 4)\n"
          "5:3: error: duplicate key `a` (first at line 4)\n");
  }
  SECTION("duplicate keys in a big map (hashed check)") {
    std::string text = kHead + "skills:\n";
    for (int i = 0; i < 40; ++i) text += "  s" + std::to_string(i) + ": {curve: {constant: 0.5}}\n";
    text += "  s7: {curve: {constant: 0.5}}\n";
    CHECK(errors_of(load(text)) == "44:3: error: duplicate key `s7` (first at line 11)\n");
  }
}
