// tests/test_cli_pool.cpp — `capgraph fit --pool` and `fit --backtest` as a
// user meets them: the offsets in every format, the backtest's formats
// (tidy CSV with unique keys), byte-identical reruns, usage errors.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <cmath>
#include <set>
#include <sstream>
#include <tuple>

#include "cli_runner.hpp"

namespace {

using Run = capgraph::testing::CliRun;
Run run(const std::string& args, bool stderr_only = false) { return capgraph::testing::run_cli(args, stderr_only); }

const std::string kFit =
    "fit examples/arithmetic_open_models.yaml --data examples/data/arithmetic_open_models.csv ";

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string f; std::getline(ss, f, ',');) out.push_back(f);
  return out;
}

}  // namespace

TEST_CASE("fit --pool: offsets in the table, the CSV and the JSON", "[cli][pool]") {
  const Run t = run(kFit + "--pool");
  REQUIRE(t.code == 0);
  CHECK(t.out.find("Family offsets (pooled fit; reference OPT") != std::string::npos);
  CHECK(t.out.find("Pythia scores like OPT at ") != std::string::npos);
  CHECK(t.out.find("in the scale of OPT, the reference family") != std::string::npos);
  const Run j = run(kFit + "--pool --format json");
  REQUIRE(j.code == 0);
  const auto js = nlohmann::json::parse(j.out);
  const auto& offs = js["offsets"];
  REQUIRE(offs.size() == 5);
  CHECK(offs[0]["family"] == "OPT");
  CHECK(offs[0]["reference"] == true);
  CHECK(offs[0]["multiplier"] == 1.0);
  CHECK(offs[0]["log10_offset"] == 0.0);
  for (std::size_t i = 1; i < offs.size(); ++i) {
    const double m = offs[i]["multiplier"].get<double>();
    CHECK(m == Approx(std::pow(10.0, offs[i]["log10_offset"].get<double>())).epsilon(1e-12));
    CHECK(offs[i]["low"].get<double>() < m);
    CHECK(offs[i]["high"].get<double>() > m);
  }
  const std::string file = "/tmp/capgraph_cli_pool_offsets_" + std::to_string(::getpid()) + ".csv";
  const Run c = run(kFit + "--pool --format csv --offsets " + file);
  REQUIRE(c.code == 0);
  std::ifstream in(file);
  std::string head, first;
  std::getline(in, head);
  std::getline(in, first);
  CHECK(head == "family,reference,rows,log10_offset,se,multiplier,lo,hi");
  CHECK(first == "OPT,true,32,0,,1,1,1");
  std::size_t n = 2;
  for (std::string l; std::getline(in, l);) ++n;
  CHECK(n == 6);
  std::remove(file.c_str());
  CHECK(run(kFit + "--family OPT --offsets " + file).code == 2);  // --offsets needs --pool
  // with --family and --train-below: only that family's rows above the cut are held out
  const Run h = run(kFit + "--pool --family XGLM --train-below 3e9 --format json");
  REQUIRE(h.code == 0);
  const auto jh = nlohmann::json::parse(h.out);
  CHECK(jh["rows_used"] == 116);
  CHECK(jh["rows_train"] == 116 - 8);  // XGLM's 4.5e9 and 7.5e9 models, 4 tasks
}

TEST_CASE("fit --backtest: formats, unique keys, byte-identical reruns", "[cli][backtest]") {
  const Run a = run(kFit + "--backtest --pool");
  const Run b = run(kFit + "--backtest --pool");
  REQUIRE(a.code == 0);
  CHECK(a.out == b.out);
  CHECK(a.out.find("totals over 20 backtests") != std::string::npos);
  const Run c = run(kFit + "--backtest --pool --format csv");
  REQUIRE(c.code == 0);
  std::stringstream ss(c.out);
  std::string line;
  std::getline(ss, line);
  CHECK(line == "family,task,metric,cut,fit_status,n_train,n_test,mae_graph,mae_logistic,mae_flat,inside,no_interval");
  std::set<std::tuple<std::string, std::string, std::string>> keys;
  std::size_t rows = 0, inside = 0, points = 0;
  while (std::getline(ss, line)) {
    const auto f = split(line);
    REQUIRE(f.size() == 12);
    keys.emplace(f[0], f[1], f[2]);
    ++rows;
    points += std::stoul(f[6]);
    inside += std::stoul(f[10]);
  }
  CHECK(rows == 20);
  CHECK(keys.size() == rows);
  const Run j = run(kFit + "--backtest --pool --format json");
  REQUIRE(j.code == 0);
  const auto js = nlohmann::json::parse(j.out);
  CHECK(js["pool"] == true);
  CHECK(js["rows"].size() == 20);
  CHECK(js["totals"]["backtests"] == 20);
  CHECK(js["totals"]["points"] == points);
  CHECK(js["totals"]["inside"] == inside);
  std::size_t le = 0;
  for (const auto& r : js["rows"])
    le += !r["mae_graph"].is_null() && r["mae_graph"].get<double>() <= r["mae_logistic"].get<double>();
  CHECK(js["totals"]["graph_le_logistic"] == le);
}

TEST_CASE("fit --backtest: usage errors", "[cli][backtest]") {
  Run e = run(kFit + "--backtest --family OPT", true);
  CHECK(e.code == 2);
  CHECK(e.out.find("--backtest chooses its own families") != std::string::npos);
  CHECK(run(kFit + "--backtest --train-below 1e10").code == 2);
  CHECK(run(kFit + "--backtest -o /tmp/never_written.yaml").code == 2);
  e = run(kFit, true);  // several families, neither --family nor --pool
  CHECK(e.code == 2);
  CHECK(e.out.find("or pool them with --pool") != std::string::npos);
}

TEST_CASE("fit --pool: a family at the floor is left out, and forecast alone it is not a result", "[cli][pool]") {
  const std::string words =
      "fit examples/word_unscrambling_open_models.yaml --data examples/data/word_unscrambling_open_models.csv ";
  const Run all = run(words + "--pool"), notes = run(words + "--pool", true);
  REQUIRE(all.code == 0);
  CHECK(notes.out.find("note: family `XGLM` left out of the pool: none of its 4 training score(s) lies strictly "
                     "between the logit floor 0.001 and 0.999") != std::string::npos);
  CHECK(all.out.find("XGLM scores like") == std::string::npos);
  CHECK(all.out.find("Pythia scores like OPT at ") != std::string::npos);
  // XGLM's own forecast: its offset is not identified; the hint is about data, not --fixed
  const Run x = run(words + "--pool --family XGLM --train-below 4.5e9", true);
  CHECK(x.code == 4);
  CHECK(x.out.find("the data do not identify XGLM.log10_offset; add observations of family XGLM") !=
        std::string::npos);
  CHECK(x.out.find("--fixed XGLM") == std::string::npos);
}
