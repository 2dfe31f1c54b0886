// tests/test_cli_analysis.cpp — `capgraph analyze` and `capgraph fit` as a
// user meets them: formats, determinism, exit codes, file:line errors,
// whole-or-nothing output, and a fitted spec that loads again.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_runner.hpp"
#include "analysis/observations.hpp"
#include "specs/load.hpp"

namespace fs = std::filesystem;

namespace {

using Run = capgraph::testing::CliRun;
Run run(const std::string& args, bool stderr_only = false) { return capgraph::testing::run_cli(args, stderr_only); }

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("capgraph_cli_analysis_" + name + "_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

const std::string kIpa = "examples/data/ipa_transliteration_open_models.csv";
const std::string kArith = "examples/data/arithmetic_open_models.csv";
const std::string kSpec = "examples/arithmetic_open_models.yaml";

}  // namespace

TEST_CASE("analyze: table, CSV and JSON agree, output is deterministic", "[cli][analysis]") {
  const Run table = run("analyze " + kIpa);
  REQUIRE(table.code == 0);
  CHECK(table.out.find("international_phonetic_alphabet_transliterate") != std::string::npos);
  CHECK(table.out.find("exact_str_match") != std::string::npos);
  CHECK(run("analyze " + kIpa).out == table.out);

  const Run csv = run("analyze " + kIpa + " --format csv");
  REQUIRE(csv.code == 0);
  CHECK(csv.out.rfind("task,family,metric,type,lower_is_better,points,", 0) == 0);
  CHECK(std::count(csv.out.begin(), csv.out.end(), '\n') == 1 + 10);  // 5 families x 2 metrics

  const Run js = run("analyze " + kIpa + " --format json");
  REQUIRE(js.code == 0);
  const auto j = nlohmann::json::parse(js.out);
  REQUIRE(j["series"].size() == 10);
  bool found = false;
  for (const auto& s : j["series"])
    if (s["family"] == "OPT" && s["metric"] == "bleu") {
      found = true;
      CHECK(s["paired_metric"] == "exact_str_match");
      CHECK(s["breakthroughness"].get<double>() == Approx(25.03).margin(0.01));
      CHECK(s["score_scale"].get<double>() == 0.01);
    }
  CHECK(found);

  const Run filt = run("analyze " + kArith + " --task arithmetic_2_digit_addition --family Pythia --format csv");
  REQUIRE(filt.code == 0);
  CHECK(std::count(filt.out.begin(), filt.out.end(), '\n') == 2);
  CHECK(run("analyze " + kArith + " --task nothing").code == 2);
  CHECK(run("analyze " + kArith + " --axis compute").code == 0);  // every row has train_flops
  CHECK(run("analyze " + kArith + " --threshold 2").code == 2);
}

TEST_CASE("analyze: bad CSV input is exit 1 with file:line errors and no output file", "[cli][analysis]") {
  const fs::path dir = temp_dir("bad");
  const fs::path bad = dir / "bad.csv";
  std::ofstream(bad) << "task,family,params,metric,score\n"
                        "t,F,1e9,exact_match,0.5\n"
                        "t,F,lots,exact_match,0.7\n"
                        "t,F,1e10,bleu,170\n";
  const fs::path out = dir / "out.csv";
  const Run e = run("analyze '" + bad.string() + "' -o '" + out.string() + "'", true);
  CHECK(e.code == 1);
  CHECK(e.out.find("bad.csv:3: error: column `params`: `lots` is not a finite number") != std::string::npos);
  CHECK(e.out.find("bad.csv:4: error: column `score`: bleu score 170 is outside [0, 100]") != std::string::npos);
  CHECK_FALSE(fs::exists(out));
  CHECK(run("analyze '" + (dir / "missing.csv").string() + "'").code == 3);
  // unknown metric: accepted with a note, read as higher-is-better
  const fs::path unk = dir / "unk.csv";
  std::ofstream(unk) << "task,family,params,metric,score\nt,F,1e9,f1,0.5\nt,F,1e10,f1,0.7\n";
  const Run n = run("analyze '" + unk.string() + "'", true);
  CHECK(n.code == 0);
  CHECK(n.out.find("note: metric `f1` is not one capgraph knows") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("fit: writes a spec that loads again, reports, backtests", "[cli][fit]") {
  const fs::path dir = temp_dir("fit");
  const fs::path fitted = dir / "fitted.yaml";
  const Run r = run("fit " + kSpec + " --data " + kArith + " --family OPT -o '" + fitted.string() + "'");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("Parameters (95% interval: estimate -+ t(26) = 2.056 SE)") != std::string::npos);
  CHECK(r.out.find("Optimiser: 9 of 9 starts reached the best objective; status: ok") != std::string::npos);
  CHECK(r.out.find("digit_add") != std::string::npos);
  CHECK(r.out.find("Forecast threshold crossing per task") != std::string::npos);
  const auto back = capgraph::specs::load_spec_file(fitted.string());
  REQUIRE(back.ok());
  CHECK(back.spec->nodes.size() == 7);
  std::ifstream in(fitted);
  std::stringstream first;
  first << in.rdbuf();
  // deterministic: the same command writes the same bytes
  const fs::path again = dir / "again.yaml";
  REQUIRE(run("fit " + kSpec + " --data " + kArith + " --family OPT -o '" + again.string() + "'").code == 0);
  std::ifstream in2(again);
  std::stringstream second;
  second << in2.rdbuf();
  CHECK(first.str() == second.str());
  CHECK(run("check '" + fitted.string() + "'").code == 0);

  const Run js = run("fit " + kSpec + " --data " + kArith + " --family OPT --format json --train-below 1e10");
  REQUIRE(js.code == 0);
  const auto j = nlohmann::json::parse(js.out);
  CHECK(j["parameters"].size() == 6);
  CHECK(j["backtest"].size() == 4);
  CHECK(j["rows_train"] == 20);
  CHECK(j["rows_used"] == 32);
  for (const auto& p : j["parameters"]) CHECK(p["se"].is_number());
  for (const char* key : {"task", "family", "metric", "n_train", "n_test", "mae_graph"})
    CHECK(j["backtest"][0].contains(key));
  // one table per file: --format csv alone has nothing to write
  CHECK(run("fit " + kSpec + " --data " + kArith + " --family OPT --format csv --train-below 1e10").code == 2);
  const Run csv = run("fit " + kSpec + " --data " + kArith + " --family OPT --format csv --train-below 1e10 --predictions -");
  REQUIRE(csv.code == 0);
  CHECK(csv.out.rfind("task,family,metric,params,split,observed,predicted,lo,hi,line\n", 0) == 0);
  // one row per observation (32), train below the cut, test above, each inside [lo, hi] or not
  {
    std::istringstream in(csv.out);
    std::string line;
    std::getline(in, line);
    std::size_t rows = 0, test = 0;
    while (std::getline(in, line)) {
      const auto f = capgraph::analysis::split_csv_line(line);
      REQUIRE(f.size() == 10);
      ++rows;
      const bool is_test = f[4] == "test";
      test += is_test;
      CHECK(is_test == (std::stod(f[3]) >= 1e10));
      CHECK(std::stod(f[7]) <= std::stod(f[8]));
      CHECK(std::stod(f[7]) >= 0);
      CHECK(std::stod(f[8]) <= 1);
    }
    CHECK(rows == 32);
    CHECK(test == 12);
  }
  // the other tables, as CSV and as JSON with the same columns
  const fs::path tables = temp_dir("fit_tables");
  const std::string pc = (tables / "p.csv").string(), cc = (tables / "c.csv").string(),
                    pj = (tables / "p.json").string(), pr = (tables / "pred.csv").string();
  REQUIRE(run("fit " + kSpec + " --data " + kArith + " --family OPT --params '" + pc + "' --crossings '" + cc +
              "' --predictions '" + pr + "'").code == 0);
  {
    std::ifstream in(pc);
    std::string head;
    std::getline(in, head);
    CHECK(head == "skill,parameter,start,estimate,se,lo,hi,status");
    std::ifstream ic(cc);
    std::getline(ic, head);
    CHECK(head == "task,metric,threshold,status,crossing,lo,hi,from,to");
  }
  REQUIRE(run("fit " + kSpec + " --data " + kArith + " --family OPT --format json --params '" + pj + "' --report /dev/null").code == 0);
  {
    std::ifstream in(pj);
    const auto pt = nlohmann::json::parse(in);
    REQUIRE(pt.size() == 6);
    CHECK(pt[0]["skill"] == "digit_add");
    CHECK(pt[0]["status"] == "fitted");
    CHECK(pt[0]["hi"].get<double>() > pt[0]["estimate"].get<double>());
  }
  // plot --data draws a predictions table with one whisker per interval
  const Run pl = run("plot " + kSpec + " --metrics exact_match --data '" + pr + "'");
  REQUIRE(pl.code == 0);
  std::size_t bands = 0;
  for (auto at = pl.out.find("class=\"band\""); at != std::string::npos; at = pl.out.find("class=\"band\"", at + 1)) ++bands;
  CHECK(bands == 32);
  fs::remove_all(tables);
  fs::remove_all(dir);
}

TEST_CASE("fit: usage and data errors", "[cli][fit]") {
  // several families and no --family
  Run e = run("fit " + kSpec + " --data " + kArith, true);
  CHECK(e.code == 2);
  CHECK(e.out.find("several model families") != std::string::npos);
  e = run("fit " + kSpec + " --data " + kArith + " --family OPT --fit digit_ad", true);
  CHECK(e.code == 2);
  CHECK(e.out.find("did you mean `digit_add`?") != std::string::npos);
  CHECK(run("fit " + kSpec + " --data " + kArith + " --family OPT --train-below 1e3").code == 2);
  CHECK(run("fit " + kSpec + " --data " + kArith + " --family OPT --train-below soon").code == 2);
  CHECK(run("fit " + kSpec + " --data " + kArith + " --family OPT --map x").code == 2);
  // observations of tasks the spec does not have: a note, not silence
  e = run("fit " + kSpec + " --data " + kIpa + " --family OPT", true);
  CHECK(e.code == 2);
  CHECK(e.out.find("no observation in") != std::string::npos);
  // --map sends a task of the data to a node of the spec
  e = run("fit " + kSpec + " --data " + kIpa + " --family OPT --map international_phonetic_alphabet_transliterate=arithmetic_2_digit_addition", true);
  CHECK(e.code == 0);
  CHECK(e.out.find("row(s) scored with `bleu` not used") != std::string::npos);
}

TEST_CASE("fit: the numbers docs/analysis.md and the README quote", "[cli][fit]") {
  const Run full = run("fit " + kSpec + " --data " + kArith + " --family OPT --format json");
  REQUIRE(full.code == 0);
  const auto j = nlohmann::json::parse(full.out);
  const auto& p = j["parameters"];
  REQUIRE(p.size() == 6);
  CHECK(p[0]["skill"] == "digit_add");
  CHECK(p[0]["value"].get<double>() == Approx(11.309).margin(0.002));  // mid 2.0e11
  CHECK(p[0]["se"].get<double>() == Approx(0.279).margin(0.002));
  CHECK(p[1]["value"].get<double>() == Approx(0.868).margin(0.002));
  CHECK(p[1]["se"].get<double>() == Approx(0.134).margin(0.002));
  const auto& f = j["forecasts"][0];
  CHECK(f["task"] == "arithmetic_2_digit_addition");
  CHECK(f["crossing"].get<double>() == Approx(2.11e12).epsilon(0.01));
  // profile-likelihood interval: 4.34e11 below, no upper end by the range's 1e13
  CHECK(f["low"].get<double>() == Approx(4.34e11).epsilon(0.01));
  CHECK(f["high"].is_null());
  CHECK(f["to"].get<double>() == 1e13);
  CHECK(p[0]["low"].get<double>() == Approx(11.309 - 2.0555 * 0.2795).margin(0.002));  // t(26)
  REQUIRE(j["covariance"].size() == 6);
  CHECK(j["covariance"][0][0].get<double>() == Approx(0.2795 * 0.2795).epsilon(0.01));  // SE^2 on the diagonal
  CHECK(j["covariance"][0][1].get<double>() == j["covariance"][1][0].get<double>());

  auto mean_mae = [](const nlohmann::json& bt, const char* key) {
    double s = 0;
    for (const auto& b : bt) s += b[key].get<double>();
    return s / static_cast<double>(bt.size());
  };
  const Run opt = run("fit " + kSpec + " --data " + kArith + " --family OPT --format json --train-below 1e10");
  const auto jo = nlohmann::json::parse(opt.out);
  CHECK(mean_mae(jo["backtest"], "mae_graph") == Approx(0.0904).margin(0.0005));
  CHECK(mean_mae(jo["backtest"], "mae_baseline") == Approx(0.0709).margin(0.0005));
  const Run py = run("fit " + kSpec + " --data " + kArith + " --family Pythia --format json --train-below 1e10");
  const auto jp = nlohmann::json::parse(py.out);
  CHECK(mean_mae(jp["backtest"], "mae_graph") == Approx(0.237).margin(0.0005));
  CHECK(mean_mae(jp["backtest"], "mae_baseline") == Approx(0.260).margin(0.0005));
  CHECK(jp["backtest"][3]["graph_check"] == "miss");
  CHECK(jp["backtest"][3]["baseline_check"] == "hit");
  const Run gj = run("fit " + kSpec + " --data " + kArith + " --family GPT-Neo/J --format json --train-below 1e10");
  const auto jg = nlohmann::json::parse(gj.out);
  CHECK(mean_mae(jg["backtest"], "mae_graph") == Approx(0.241).margin(0.0005));
  CHECK(mean_mae(jg["backtest"], "mae_baseline") == Approx(0.280).margin(0.0005));
  // XGLM: 4 models, the fit does not identify digit_add and digit_sub:
  // not a result (exit 4), the report says what to do, nothing else written
  const fs::path dir = temp_dir("fit_not_a_result");
  const fs::path out = dir / "x.yaml", preds = dir / "p.csv";
  const Run x = run("fit " + kSpec + " --data " + kArith + " --family XGLM -o '" + out.string() + "' --predictions '" +
                    preds.string() + "'");
  CHECK(x.code == 4);
  CHECK(x.out.find("status: not identified") != std::string::npos);
  CHECK(x.out.find("error: the fit is not a result (not identified): the data do not identify digit_add.log10_mid") !=
        std::string::npos);
  CHECK(x.out.find("--fixed digit_add,digit_sub") != std::string::npos);
  CHECK(x.out.find("Forecast threshold crossing") == std::string::npos);
  CHECK_FALSE(fs::exists(out));
  CHECK_FALSE(fs::exists(preds));
  fs::remove_all(dir);
  // BLOOM has no model at or above 1e10: nothing to backtest
  CHECK(run("fit " + kSpec + " --data " + kArith + " --family BLOOM --train-below 1e10").code == 2);
}
