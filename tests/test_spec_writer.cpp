// The spec writer (specs/spec_writer.hpp): what it writes reads back as a
// model that evaluates bit for bit like the original.
#include "test_paths.hpp"
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "graph/evaluation.hpp"
#include "graph/scale_axis.hpp"
#include "specs/load.hpp"
#include "specs/spec_writer.hpp"

using namespace capgraph;

namespace {

std::vector<std::string> spec_files() {
  std::vector<std::string> files;
  for (const char* dir : {"examples", "tests/data"})
    for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(test::source_dir) / dir))
      if (e.path().extension() == ".yaml") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

std::uint64_t bits(double v) { return std::bit_cast<std::uint64_t>(v); }

}  // namespace

TEST_CASE("spec writer: load(write(load(x))) evaluates bit for bit as load(x)", "[specs][writer]") {
  const auto files = spec_files();
  REQUIRE(files.size() >= 9);  // the examples and the writer's fixture
  for (const auto& file : files) {
    INFO(file);
    const auto a = specs::load_spec_file(file);
    REQUIRE(a.ok());
    const std::string text = specs::write_spec(*a.spec, "written by the test\n  second line");
    const auto b = specs::load_spec_text(text, "written.yaml");
    for (const auto& e : b.errors) INFO(e.to_string());
    REQUIRE(b.ok());
    CHECK(specs::write_spec(*b.spec, "written by the test\n  second line") == text);
    const Model ma = Model::compile(*a.spec), mb = Model::compile(*b.spec);
    REQUIRE(ma.size() == mb.size());
    const ScaleSpec& sc = a.spec->scale;
    const auto xs = ScaleAxis::log_spaced(sc.from, sc.to, sc.points);
    const Evaluation ea = evaluate(ma, xs), eb = evaluate(mb, xs);
    std::size_t compared = 0;
    for (std::size_t v = 0; v < ma.size(); ++v) {
      INFO(ma.node(v).id);
      REQUIRE(mb.node(v).id == ma.node(v).id);
      for (std::size_t j = 0; j < xs.size(); ++j) {
        CHECK(bits(eb.log_p(v, j)) == bits(ea.log_p(v, j)));
        CHECK(bits(eb.p(v, j)) == bits(ea.p(v, j)));
        if (!ma.node(v).is_task) continue;
        REQUIRE(mb.metrics(v).size() == ma.metrics(v).size());
        for (std::size_t m = 0; m < ma.metrics(v).size(); ++m)
          CHECK(bits(eb.metric(v, mb.metrics(v)[m], j)) == bits(ea.metric(v, ma.metrics(v)[m], j)));
        ++compared;
      }
    }
    CHECK(compared > 0);
  }
}

TEST_CASE("spec writer: the header comment, key order and quoting", "[specs][writer]") {
  const auto a = specs::load_spec_file(std::string(test::source_dir) + "/tests/data/spec_writer_every_key.yaml");
  REQUIRE(a.ok());
  const std::string text = specs::write_spec(*a.spec, "Fitted by capgraph fit.\nparameters:\n  a.mid = 1");
  // the header is a comment block; then the keys in the writer's order
  CHECK(text.rfind("# Fitted by capgraph fit.\n# parameters:\n#   a.mid = 1\ncapgraph: 1\nname: ", 0) == 0);
  std::size_t at = 0;
  for (const char* key : {"\nname:", "\ndescription:", "\nthreshold:", "\nscale:", "\n  axis:", "\n  range:",
                          "\n  points:", "\n  tokens_per_param:", "\n  data_limit:", "\n  law:", "\nskills:",
                          "\ntasks:"}) {
    INFO(key);
    const auto next = text.find(key, at);
    REQUIRE(next != std::string::npos);
    at = next;
  }
  // YAML 1.1 boolean words stay strings: quoted, as keys and as references
  CHECK(text.find("\n  \"yes\":\n") != std::string::npos);
  CHECK(text.find("\n  \"No\":\n") != std::string::npos);
  CHECK(text.find("all: [\"yes\", {\"No\": 2.5}, pts]") != std::string::npos);
  // flow-style curves and gates, shortest numbers
  CHECK(text.find("curve: {logistic: {mid: 3.1e+10, slope: 1.7}}") != std::string::npos);
  CHECK(text.find("at_least: {k: 2, of: [\"yes\", {pts: 2}, \"No\"]}") != std::string::npos);
  CHECK(text.find("metrics: [exact_match, {multiple_choice: 4}, {pass_at: 10}]") != std::string::npos);
  CHECK(text.find("law: {E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28}") != std::string::npos);
  // strings keep every byte through the round trip
  const auto b = specs::load_spec_text(text, "written.yaml");
  REQUIRE(b.ok());
  CHECK(b.spec->name == a.spec->name);
  CHECK(b.spec->description == a.spec->description);
  CHECK(b.spec->description == "line one\nline two\ttab \\ backslash \u00e9\u00a0nbsp \x01 control");
  for (std::size_t i = 0; i < a.spec->nodes.size(); ++i) {
    CHECK(b.spec->nodes[i].label == a.spec->nodes[i].label);
    CHECK(b.spec->nodes[i].description == a.spec->nodes[i].description);
    CHECK(b.spec->nodes[i].group == a.spec->nodes[i].group);
  }
}
