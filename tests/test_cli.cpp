// tests/test_cli.cpp — the command line as a user meets it: exit codes,
// round trips of every output format against the engine, determinism,
// whole-or-nothing output files, standard input.
#include "test_paths.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_runner.hpp"
#include "graph/budget.hpp"
#include "graph/evaluation.hpp"
#include "graph/importance.hpp"
#include "render/graphviz_writer.hpp"
#include "specs/load.hpp"

using namespace capgraph;
namespace fs = std::filesystem;

namespace {

using Run = testing::CliRun;
using testing::run_cli;

Run run_cli_stderr(const std::string& args) { return run_cli(args, true); }

Model load(const std::string& rel) {
  auto r = specs::load_spec_file(std::string(capgraph::test::source_dir) + "/" + rel);
  REQUIRE(r.ok());
  return Model::compile(std::move(*r.spec));
}

std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream is(text);
  std::string line;
  while (std::getline(is, line)) {
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream ls(line);
    while (std::getline(ls, cell, ',')) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

std::string num_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

double parse_num(const std::string& s) {
  if (s == "-inf") return -std::numeric_limits<double>::infinity();
  return std::stod(s);
}

}  // namespace

TEST_CASE("eval JSON and CSV round-trip to the engine's exact doubles", "[cli]") {
  const Model m = load("examples/emoji_movie.yaml");
  const std::vector<double> xs{1e10};
  const Evaluation ev = evaluate(m, xs);

  const Run js = run_cli("eval examples/emoji_movie.yaml --at 1e10 --format json");
  REQUIRE(js.code == 0);
  const auto j = nlohmann::json::parse(js.out);
  REQUIRE(j["nodes"].size() == m.size());
  // One value per --at point in each node's arrays (docs/json.md, eval).
  for (std::size_t v = 0; v < m.size(); ++v) {
    const auto& e = j["nodes"][v];
    CHECK(e["id"] == m.node(v).id);
    CHECK(e["p"][0].get<double>() == ev.p(v, 0));
    CHECK(e["log_p"][0].get<double>() == ev.log_p(v, 0));
    CHECK(e["partial_credit"][0].get<double>() == ev.partial_credit(v, 0));
  }
  CHECK(j["points"][0]["N"].get<double>() == 1e10);
  CHECK(j["points"][0]["D"].get<double>() == 2e11);

  const Run cs = run_cli("eval examples/emoji_movie.yaml --at 1e10 --format csv");
  REQUIRE(cs.code == 0);
  const auto rows = parse_csv(cs.out);
  // Long form, one row per (node, at, metric) (docs/cli.md, eval).
  REQUIRE(rows.front() == std::vector<std::string>{"node", "kind", "at", "metric", "value"});
  int matched = 0;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto v = *m.find(rows[i][0]);
    double expected = 0;
    if (rows[i][3] == "p") expected = ev.p(v, 0);
    else if (rows[i][3] == "log_p") expected = ev.log_p(v, 0);
    else if (rows[i][3] == "pass_at:10") expected = ev.metric(v, {MetricKind::pass_at, 10}, 0);
    else continue;
    CHECK(parse_num(rows[i][4]) == expected);
    ++matched;
  }
  CHECK(matched == 2 * static_cast<int>(m.size()) + 1);
}

TEST_CASE("sweep CSV and JSON round-trip, and the table names every task and metric", "[cli]") {
  const Model m = load("examples/multistep_arithmetic.yaml");
  const auto xs = ScaleAxis::log_spaced(1e8, 1e13, 61);
  const Evaluation ev = evaluate(m, xs);
  const Run cs = run_cli("sweep examples/multistep_arithmetic.yaml --format csv");
  REQUIRE(cs.code == 0);
  const auto rows = parse_csv(cs.out);
  REQUIRE(rows.front() == std::vector<std::string>{"task", "metric", "at", "N", "D", "C", "value"});
  std::size_t checked = 0;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    if (rows[i][1] != "exact_match") continue;
    const std::size_t v = *m.find(rows[i][0]);
    const std::size_t jx = (i - 1) % 61;
    CHECK(parse_num(rows[i][2]) == xs[jx]);
    CHECK(parse_num(rows[i][6]) == ev.p(v, jx));
    ++checked;
  }
  CHECK(checked == 61 * m.tasks().size());

  const Run js = run_cli("sweep examples/multistep_arithmetic.yaml --format json");
  REQUIRE(js.code == 0);
  const auto j = nlohmann::json::parse(js.out);
  CHECK(j["points"].size() == 61);
  for (const auto& s : j["series"]) {
    if (s["metric"] != "pass_at:10") continue;
    const std::size_t v = *m.find(s["task"].get<std::string>());
    for (std::size_t jx = 0; jx < 61; ++jx)
      CHECK(s["values"][jx].get<double>() == ev.metric(v, {MetricKind::pass_at, 10}, jx));
  }
  // The JSON is written a series at a time (cli/cmd_sweep.cpp); it must be
  // exactly the document's own pretty print, with and without Monte Carlo.
  CHECK(js.out == nlohmann::ordered_json::parse(js.out).dump(2) + "\n");
  const Run jm = run_cli("sweep examples/emoji_movie.yaml --points 4 --monte-carlo 50 --format json");
  REQUIRE(jm.code == 0);
  CHECK(jm.out.find("\"monte_carlo\"") != std::string::npos);
  CHECK(jm.out == nlohmann::ordered_json::parse(jm.out).dump(2) + "\n");
  const Run tb = run_cli("sweep examples/multistep_arithmetic.yaml");
  REQUIRE(tb.code == 0);
  for (std::size_t t : m.tasks()) CHECK(tb.out.find(m.node(t).id) != std::string::npos);
  CHECK(tb.out.find("pass_at:10") != std::string::npos);
}

TEST_CASE("bottleneck JSON matches the library", "[cli]") {
  const Model m = load("examples/emoji_movie.yaml");
  const auto t = importance(m, *m.find("emoji_movie"), 1e10);
  const Run js = run_cli("bottleneck examples/emoji_movie.yaml --task emoji_movie --at 1e10 --format json");
  REQUIRE(js.code == 0);
  const auto j = nlohmann::json::parse(js.out)["points"][0];  // one entry per --at point (docs/json.md)
  REQUIRE(j["prerequisites"].size() == t.rows.size());
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    CHECK(j["prerequisites"][i]["node"] == m.node(t.rows[i].node).id);
    CHECK(j["prerequisites"][i]["birnbaum"].get<double>() == t.rows[i].birnbaum);
    CHECK(j["prerequisites"][i]["improvement_potential"].get<double>() == t.rows[i].improvement);
  }
  CHECK(j["critical_path"].size() == t.critical_path.size());
}

TEST_CASE("every output is byte-identical across runs", "[cli][determinism]") {
  for (const std::string args :
       {"sweep examples/emoji_movie.yaml", "sweep examples/mirage.yaml --format csv", "sweep examples/data_wall.yaml --format json",
        "eval examples/multistep_arithmetic.yaml --at 3e10 --format json",
        "bottleneck examples/emoji_movie.yaml --task emoji_movie --at 1e11 --format csv",
        "budget --params 1e14 --format json"}) {
    const Run a = run_cli(args), b = run_cli(args);
    INFO(args);
    CHECK(a.code == 0);
    CHECK(!a.out.empty());
    CHECK(a.out == b.out);
  }
}

TEST_CASE("exit codes: 0 ok, 1 invalid spec, 2 usage, 3 I/O", "[cli]") {
  CHECK(run_cli("check examples/emoji_movie.yaml").code == 0);
  CHECK(run_cli("check tests/bad/cycle.yaml").code == 1);
  CHECK(run_cli("eval examples/emoji_movie.yaml").code == 2);                  // --at missing
  CHECK(run_cli("eval examples/emoji_movie.yaml --at -5").code == 2);          // not positive
  CHECK(run_cli("eval examples/emoji_movie.yaml --at 1e9 --format xml").code == 2);
  CHECK(run_cli("eval examples/emoji_movie.yaml --at 1e9 --nodes emoji_semantic").code == 2);
  CHECK(run_cli("frobnicate").code == 2);
  CHECK(run_cli("check examples/no_such_file.yaml").code == 3);
  CHECK(run_cli("sweep examples/emoji_movie.yaml -o /nonexistent/dir/out.csv").code == 3);
  CHECK(run_cli("bottleneck examples/emoji_movie.yaml --task emoji_semantics --at 1e9").code == 2);
  const Run hint = run_cli_stderr("eval examples/emoji_movie.yaml --at 1e9 --nodes emoji_semantic");
  CHECK(hint.out.find("did you mean `emoji_semantics`?") != std::string::npos);
  for (const char* sub : {"check", "eval", "sweep", "bottleneck", "budget"})
    CHECK(run_cli(std::string(sub) + " --help").code == 0);
}

TEST_CASE("an output file is written whole or not at all", "[cli]") {
  const fs::path dir = fs::temp_directory_path() / ("capgraph_cli_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path out = dir / "curves.csv";
  REQUIRE(run_cli("sweep examples/emoji_movie.yaml --format csv -o '" + out.string() + "'").code == 0);
  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  CHECK(ss.str() == run_cli("sweep examples/emoji_movie.yaml --format csv").out);
  // an invalid spec leaves the existing file untouched, and no temporary behind
  CHECK(run_cli("sweep tests/bad/cycle.yaml --format csv -o '" + out.string() + "'").code == 1);
  std::ifstream again(out);
  std::stringstream s2;
  s2 << again.rdbuf();
  CHECK(s2.str() == ss.str());
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  CHECK(files == 1);
  fs::remove_all(dir);
}

TEST_CASE("a spec can come from standard input", "[cli]") {
  const Run a = run_cli("eval - --at 1e10 --format csv < examples/emoji_movie.yaml");
  const Run b = run_cli("eval examples/emoji_movie.yaml --at 1e10 --format csv");
  CHECK(a.code == 0);
  CHECK(a.out == b.out);
  const Run e = run_cli_stderr("check - < tests/bad/cycle.yaml");
  CHECK(e.code == 1);
  CHECK(e.out.rfind("<stdin>:", 0) == 0);
}

TEST_CASE("budget --params 1e14 shows the seed arithmetic", "[cli]") {
  const Run r = run_cli("budget --params 1e14 --format json --check-bytes 180e15");
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["tokens"].get<double>() == 2e15);                 // 20 tokens per parameter
  CHECK(j["text_bytes"].get<double>() == 8e15);             // 8 PB at 4 bytes per token
  CHECK(j["compute_flop"].get<double>() == Approx(1.2e30)); // 6 N D
  CHECK(j["claimed_bytes_implied_bytes_per_token"].get<double>() == Approx(90.0));
  const double loss = 1.69 + 406.4 / std::pow(1e14, 0.34) + 410.7 / std::pow(2e15, 0.28);
  CHECK(j["loss_nats_per_token"].get<double>() == Approx(loss).epsilon(1e-12));
  CHECK(j["tokens_over_stock"].get<double>() == Approx(2e15 / 3e14));
  const Run t = run_cli("budget --params 1e14");
  CHECK(t.out.find("8 PB") != std::string::npos);
}

TEST_CASE("budget: the tokens-per-parameter rules against their closed forms", "[cli][budget]") {
  // --compute C --tokens-per-param R: C = 6 N D with D = R N, so N = sqrt(C / (6 R)).
  for (const auto& [C, R] : std::vector<std::pair<double, double>>{{1e24, 20}, {3e21, 7.5}, {1e30, 200}}) {
    BudgetInput in;
    in.from_compute = true;
    in.x = C;
    in.tokens_per_param = R;
    in.law = *law_by_name("chinchilla");
    const Budget b = compute_budget(in);
    const double N = std::sqrt(C / (6.0 * R));
    CHECK(b.rule == BudgetRule::fixed_ratio);
    CHECK(b.point.N == N);
    CHECK(b.point.D == R * N);
    CHECK(b.point.C == Approx(C).epsilon(1e-14));
    CHECK(b.tokens_per_param == Approx(R).epsilon(1e-15));
    const std::string args = "budget --compute " + num_text(C) + " --tokens-per-param " + num_text(R) + " --format json";
    const Run r = run_cli(args);
    REQUIRE(r.code == 0);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["rule"] == "fixed_ratio");
    CHECK(j["params"].get<double>() == N);
    CHECK(j["tokens"].get<double>() == R * N);
  }
  // Capped by the data limit: D = limit, N = C / (6 D).
  BudgetInput cap;
  cap.from_compute = true;
  cap.x = 1e24;
  cap.tokens_per_param = 20;
  cap.data_limit = 1e12;
  cap.law = *law_by_name("chinchilla");
  const Budget bc = compute_budget(cap);
  CHECK(bc.point.data_limited);
  CHECK(bc.point.D == 1e12);
  CHECK(bc.point.N == 1e24 / (6.0 * 1e12));
  // --compute alone: the law's split, D/N = (C/6)^(b - a) / G^2, about 98 at 1e24 FLOP.
  const Run opt = run_cli("budget --compute 1e24 --format json");
  REQUIRE(opt.code == 0);
  const auto jo = nlohmann::json::parse(opt.out);
  const double alpha = 0.34, beta = 0.28, A = 406.4, B = 410.7;
  const double a = beta / (alpha + beta), b = alpha / (alpha + beta);
  const double G = std::pow(alpha * A / (beta * B), 1.0 / (alpha + beta));
  CHECK(jo["rule"] == "compute_optimal");
  CHECK(jo["tokens_per_param"].get<double>() == Approx(std::pow(1e24 / 6, b - a) / (G * G)).epsilon(1e-12));
  CHECK(jo["tokens_per_param"].get<double>() == Approx(97.73).margin(0.01));
  // --params: 20 by default, or R.
  CHECK(nlohmann::json::parse(run_cli("budget --params 70B --format json").out)["tokens_per_param"] == 20.0);
  const auto jp = nlohmann::json::parse(run_cli("budget --params 70B --tokens-per-param 30 --format json").out);
  CHECK(jp["tokens"].get<double>() == 30 * 7e10);
  CHECK(jp["rule"] == "fixed_ratio");
  // Every format shows the ratio and the rule.
  const Run t = run_cli("budget --compute 1e24");
  CHECK(t.out.find("tokens per param") != std::string::npos);
  CHECK(t.out.find("97.73") != std::string::npos);
  CHECK(t.out.find("compute_optimal") != std::string::npos);
  const Run c = run_cli("budget --compute 1e24 --tokens-per-param 20 --format csv");
  CHECK(c.out.rfind("law,rule,params,tokens,data_limited,tokens_per_param,", 0) == 0);
  CHECK(c.out.find(",fixed_ratio,") != std::string::npos);
}

TEST_CASE("the examples show what their comments claim", "[examples]") {
  // mirage: exact match narrower than partial credit for L >= 2, narrower the
  // longer the answer; far higher breakthroughness for long answers.
  const Run r = run_cli("sweep examples/mirage.yaml --format json");
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  std::map<std::string, nlohmann::json> em, pc;
  for (const auto& s : j["series"]) {
    if (s["metric"] == "exact_match") em[s["task"]] = s["emergence"];
    if (s["metric"] == "partial_credit") pc[s["task"]] = s["emergence"];
  }
  double prev_width = 1e9;
  for (int L = 1; L <= 10; ++L) {
    const std::string t = "answer_" + std::to_string(L);
    const double we = em[t]["transition_width_decades"], wp = pc[t]["transition_width_decades"];
    if (L >= 2) CHECK(we < wp);
    CHECK(we < prev_width);
    prev_width = we;
    if (L >= 6) CHECK(em[t]["breakthroughness"].get<double>() > 2 * pc[t]["breakthroughness"].get<double>());
  }
  // data wall: after the data limit the curves flatten — the rise per decade
  // of compute in the last decade is a fraction of the rise before the wall.
  const Model m = load("examples/data_wall.yaml");
  const auto xs = ScaleAxis::log_spaced(1e21, 1e31, 101);
  const Evaluation ev = evaluate(m, xs);
  const std::size_t t = *m.find("research_summary");
  const double before = ev.p(t, 50) - ev.p(t, 40);  // 1e26 vs 1e25
  const double after = ev.p(t, 100) - ev.p(t, 90);  // 1e31 vs 1e30
  CHECK(ev.points()[100].data_limited);
  CHECK_FALSE(ev.points()[40].data_limited);
  CHECK(after < 0.25 * before);
}

TEST_CASE("Monte Carlo on the command line: reproducible for a seed, within 4 standard errors of the exact values", "[cli][monte_carlo]") {
  const std::string args = "eval examples/fault_tree_three_motor.yaml --at 1e9 --format json --monte-carlo 50000 --seed 7";
  const Run a = run_cli(args), b = run_cli(args);
  REQUIRE(a.code == 0);
  CHECK(a.out == b.out);
  const auto j = nlohmann::json::parse(a.out);
  int tasks = 0;
  for (const auto& n : j["nodes"]) {
    if (!n.contains("monte_carlo")) continue;
    // one value per --at point (docs/json.md, eval)
    const double se = n["monte_carlo"]["std_error"][0];
    INFO(n["id"]);
    CHECK(std::abs(n["monte_carlo"]["p"][0].get<double>() - n["p"][0].get<double>()) <= 4 * se);
    ++tasks;
  }
  CHECK(tasks > 3);
  CHECK(run_cli("eval examples/fault_tree_three_motor.yaml --at 1e9 --format json --monte-carlo 50000 --seed 8").out != a.out);
  const Run bn = run_cli("bottleneck examples/emoji_movie.yaml --task emoji_movie --at 1e10 --format json --monte-carlo 40000");
  REQUIRE(bn.code == 0);
  const auto jb = nlohmann::json::parse(bn.out);
  for (const auto& r : jb["points"][0]["prerequisites"]) {
    const double se = r["monte_carlo"]["std_error"];
    CHECK(std::abs(r["monte_carlo"]["improvement_potential"].get<double>() - r["improvement_potential"].get<double>()) <= 4 * se);
  }
  const Run sw = run_cli("sweep examples/multistep_arithmetic.yaml --points 5 --monte-carlo 20000 --format json");
  REQUIRE(sw.code == 0);
  const auto sweep = nlohmann::json::parse(sw.out);  // kept alive: the loop below iterates into it
  for (const auto& s : sweep["series"]) {
    if (s["metric"] != "exact_match") continue;
    for (std::size_t i = 0; i < 5; ++i) {
      const double exact = s["values"][i], est = s["monte_carlo"]["values"][i], se = s["monte_carlo"]["std_errors"][i];
      INFO(s["task"] << " point " << i << ": exact " << exact << ", estimate " << est << " +- " << se);
      if (se > 0) {
        CHECK(std::abs(est - exact) <= 4 * se);
      } else {
        // no hit (or no miss) in 20,000 samples: plausible only where the
        // expected count of hits (misses) is small
        CHECK(std::min(exact, 1 - exact) * 20000 < 3);
      }
    }
  }
}

TEST_CASE("past the exact shared-skill limit: exit 1 pointing to --monte-carlo, which then works alone", "[cli][monte_carlo]") {
  const Run refused = run_cli_stderr("eval examples/fault_tree_three_motor.yaml --at 1e9 --max-shared-expanded 2");
  CHECK(refused.code == 1);
  CHECK(refused.out.find("--monte-carlo") != std::string::npos);
  const Run mc = run_cli("eval examples/fault_tree_three_motor.yaml --at 1e9 --max-shared-expanded 2 --monte-carlo 20000 --format json");
  REQUIRE(mc.code == 0);
  const auto j = nlohmann::json::parse(mc.out);
  CHECK(j["exact"] == false);
  CHECK(j["nodes"].size() > 3);
}

TEST_CASE("render and plot from the command line: files, formats, notes, errors", "[cli][render]") {
  const fs::path dir = fs::temp_directory_path() / ("capgraph_cli_render_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string map = (dir / "map.svg").string();
  REQUIRE(run_cli("render examples/emoji_movie.yaml --at 1e10 --task emoji_movie -o '" + map + "'").code == 0);
  std::ifstream in(map);
  std::stringstream svg;
  svg << in.rdbuf();
  CHECK(svg.str().find("<svg") != std::string::npos);
  CHECK(svg.str().find("Emoji &#45;&gt; concept") != std::string::npos);  // Graphviz writes - as &#45;
  CHECK(svg.str().find("<script") == std::string::npos);
  CHECK(run_cli("render examples/emoji_movie.yaml --at 1e10 --format dot").out.find("digraph") != std::string::npos);
  CHECK(run_cli("render examples/emoji_movie.yaml --at 1e10").out == run_cli("render examples/emoji_movie.yaml --at 1e10").out);
  CHECK(run_cli("render examples/emoji_movie.yaml --at 1e10 --task emoji_semantic").code == 2);
  CHECK(run_cli("render examples/emoji_movie.yaml --at 1e10 --focus decode_clues --depth 1").code == 0);

  const Run plot = run_cli("plot examples/mirage.yaml --tasks answer_1,answer_10 --metrics exact_match,partial_credit");
  REQUIRE(plot.code == 0);
  CHECK(plot.out.find("<svg") != std::string::npos);
  CHECK(plot.out.find("answer_10") != std::string::npos);
  CHECK(run_cli("plot examples/mirage.yaml --metrics exact_match,f1").code == 2);
  CHECK(run_cli("plot examples/mirage.yaml --metrics pass_at").code == 2);
  const Run data = run_cli("plot examples/emoji_movie.yaml --tasks emoji_movie --metrics exact_match "
                           "--data tests/data/observations_word_unscrambling_pythia.csv");
  REQUIRE(data.code == 0);
  CHECK(data.out.find("Pythia word_unscrambling") != std::string::npos);
  // a bad row is an error with file:line, and no output
  const fs::path bad = dir / "bad.csv";
  std::ofstream(bad) << "task,family,params,metric,score\nx,F,1e9,exact_match,0.5\nx,F,lots,exact_match,0.7\n";
  const Run e = run_cli_stderr("plot examples/emoji_movie.yaml --data '" + bad.string() + "'");
  CHECK(e.code == 1);
  CHECK(e.out.find("bad.csv:3: error:") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("figure formats follow --format or the -o extension, and a contradiction is a usage error", "[cli][render]") {
  const fs::path dir = fs::temp_directory_path() / ("capgraph_cli_formats_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto head = [](const fs::path& p, std::size_t n) {
    std::ifstream in(p, std::ios::binary);
    std::string s(n, '\0');
    in.read(s.data(), static_cast<std::streamsize>(n));
    s.resize(static_cast<std::size_t>(in.gcount()));
    return s;
  };
  const std::string spec = "render examples/emoji_movie.yaml --at 1e10 -o '";
  REQUIRE(run_cli(spec + (dir / "m.svg").string() + "'").code == 0);
  CHECK(head(dir / "m.svg", 2000).find("<svg") != std::string::npos);
  REQUIRE(run_cli(spec + (dir / "m.gv").string() + "'").code == 0);
  CHECK(head(dir / "m.gv", 7) == "digraph");
  if (capgraph::render::graphviz_png_available()) {
    REQUIRE(run_cli(spec + (dir / "m.png").string() + "'").code == 0);
    CHECK(head(dir / "m.png", 4) == "\x89PNG");
    REQUIRE(run_cli(spec + (dir / "m.pdf").string() + "'").code == 0);
    CHECK(head(dir / "m.pdf", 5) == "%PDF-");
    REQUIRE(run_cli(spec + (dir / "m.bin").string() + "' --format png --dpi 72").code == 0);
    CHECK(head(dir / "m.bin", 4) == "\x89PNG");
  }
  // --format against the extension: exit 2, and no file
  CHECK(run_cli(spec + (dir / "x.png").string() + "' --format svg").code == 2);
  CHECK(!fs::exists(dir / "x.png"));
  CHECK(run_cli("plot examples/mirage.yaml -o '" + (dir / "c.png").string() + "' --format svg").code == 2);
  CHECK(!fs::exists(dir / "c.png"));
  CHECK(run_cli("plot examples/mirage.yaml -o '" + (dir / "c.svg").string() + "'").code == 0);
  CHECK(run_cli("render examples/emoji_movie.yaml --at 1e10 --page 12x9").code == 0);
  CHECK(run_cli("render examples/emoji_movie.yaml --at 1e10 --page a5").code == 2);
  CHECK(run_cli("render examples/emoji_movie.yaml --at 1e10 --page 0x9cm").code == 2);
  fs::remove_all(dir);
}

namespace {

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string magic_of(const std::string& format) {
  return format == "png" ? "\x89PNG" : format == "pdf" ? "%PDF-" : "<?xml";
}

// A PNG's width and height from its IHDR chunk.
std::pair<unsigned, unsigned> png_size(const std::string& png) {
  REQUIRE(png.size() > 24);
  auto be = [&](std::size_t at) {
    unsigned v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(png[at + i]);
    return v;
  };
  return {be(16), be(20)};
}

// The plot SVG's width and height (px) from its root element.
std::pair<double, double> svg_size(const std::string& svg) {
  const auto w = svg.find("width=\""), h = svg.find("height=\"");
  REQUIRE(w != std::string::npos);
  REQUIRE(h != std::string::npos);
  return {std::stod(svg.substr(w + 7)), std::stod(svg.substr(h + 8))};
}

}  // namespace

TEST_CASE("plot formats: every --format x extension pair, magic bytes, --dpi, determinism", "[cli][plot]") {
  const fs::path dir = fs::temp_directory_path() / ("capgraph_cli_plot_formats_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string plot = "plot examples/mirage.yaml --tasks answer_1,answer_10 -o '";
  for (const std::string ext : {"svg", "pdf", "png"})
    for (const std::string flag : {"", "svg", "pdf", "png"}) {
      CAPTURE(ext, flag);
      const fs::path out = dir / ("c_" + flag + "." + ext);
      const Run r = run_cli(plot + out.string() + "'" + (flag.empty() ? "" : " --format " + flag));
      if (!flag.empty() && flag != ext) {
        CHECK(r.code == 2);
        CHECK(!fs::exists(out));
      } else {
        REQUIRE(r.code == 0);
        CHECK(file_bytes(out).rfind(magic_of(ext), 0) == 0);
      }
    }
  // No extension: --format decides.
  REQUIRE(run_cli(plot + (dir / "c_bin").string() + "' --format pdf").code == 0);
  CHECK(file_bytes(dir / "c_bin").rfind("%PDF-", 0) == 0);

  // PNG pixels: the SVG's px at dpi / 96.
  REQUIRE(run_cli(plot + (dir / "ref.svg").string() + "'").code == 0);
  const auto [w, h] = svg_size(file_bytes(dir / "ref.svg"));
  for (const double dpi : {96.0, 150.0, 200.0}) {
    CAPTURE(dpi);
    const fs::path png = dir / "d.png";
    REQUIRE(run_cli(plot + png.string() + "' --dpi " + std::to_string(dpi)).code == 0);
    const auto [pw, ph] = png_size(file_bytes(png));
    CHECK(pw == static_cast<unsigned>(std::lround(w * dpi / 96)));
    CHECK(ph == static_cast<unsigned>(std::lround(h * dpi / 96)));
  }
  CHECK(run_cli(plot + (dir / "e.png").string() + "' --dpi 0").code == 2);

  // PDF: one page of the SVG's size in pt (96 px = 72 pt), text kept as text (fonts).
  REQUIRE(run_cli(plot + (dir / "a.pdf").string() + "'").code == 0);
  const std::string pdf = file_bytes(dir / "a.pdf");
  const auto box = pdf.find("/MediaBox [ 0 0 ");
  REQUIRE(box != std::string::npos);
  std::istringstream media(pdf.substr(box + 16, 40));
  double mw = 0, mh = 0;
  media >> mw >> mh;
  CHECK(mw == Approx(w * 0.75).margin(0.01));
  CHECK(mh == Approx(h * 0.75).margin(0.01));
  CHECK(pdf.find("/FontFile") != std::string::npos);

  // Same input, same bytes.
  REQUIRE(run_cli(plot + (dir / "b.pdf").string() + "'").code == 0);
  CHECK(file_bytes(dir / "b.pdf") == pdf);
  REQUIRE(run_cli(plot + (dir / "p1.png").string() + "'").code == 0);
  REQUIRE(run_cli(plot + (dir / "p2.png").string() + "'").code == 0);
  CHECK(file_bytes(dir / "p1.png") == file_bytes(dir / "p2.png"));
  fs::remove_all(dir);
}

TEST_CASE("render --split-groups: one page per group, and the small-label hint", "[cli][render]") {
  const fs::path dir = fs::temp_directory_path() / ("capgraph_cli_split_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string render = "render examples/frontier_eval.yaml --at 3.16e11";
  REQUIRE(run_cli(render + " --split-groups -o '" + (dir / "fe.svg").string() + "'").code == 0);
  for (const std::string g : {"coding", "maths", "agentic", "knowledge", "foundations", "ungrouped"}) {
    CAPTURE(g);
    const std::string svg = file_bytes(dir / ("fe-" + g + ".svg"));
    REQUIRE(svg.rfind("<?xml", 0) == 0);
    // the page's title names its group; no node of another group is drawn
    if (g != "ungrouped") CHECK(svg.find("\u2014 " + g + " \u2014") != std::string::npos);
  }
  const std::string coding = file_bytes(dir / "fe-coding.svg");
  CHECK(coding.find("Fix a failing test") != std::string::npos);
  CHECK(coding.find("Maths suite") == std::string::npos);
  CHECK(coding.find("hidden") != std::string::npos);  // coding builds on foundations: "+n hidden"
  // no -o, or with --focus: usage errors
  CHECK(run_cli(render + " --split-groups").code == 2);
  CHECK(run_cli(render + " --split-groups --focus coding_suite -o '" + (dir / "x.svg").string() + "'").code == 2);
  CHECK(!fs::exists(dir / "x-coding.svg"));
  // The whole 46-node map is too small for print at 16 x 24 cm: render says how to split it.
  const Run whole = run_cli_stderr(render + " -o '" + (dir / "all.svg").string() + "'");
  CHECK(whole.out.find("note: fitted to the page (16x24cm) the smallest label is") != std::string::npos);
  CHECK(whole.out.find("--split-groups") != std::string::npos);
  // A 7-node map is not.
  CHECK(run_cli_stderr("render examples/emoji_movie.yaml --at 1e10 -o '" + (dir / "e.svg").string() + "'")
            .out.find("smallest label") == std::string::npos);
  fs::remove_all(dir);
}
