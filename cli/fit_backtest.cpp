// capgraph/cli/fit_backtest.cpp — text of `fit --backtest` and of a pooled
// fit's family offsets (cli/fit_backtest.hpp).
#include "cli/fit_backtest.hpp"

#include <cmath>
#include <sstream>

namespace capgraph::cli {

namespace {

std::string pct(std::size_t a, std::size_t b) {
  return b ? num_short(100.0 * static_cast<double>(a) / static_cast<double>(b), 3) + "%" : "n/a";
}
std::string fin(double v, int digits = 3) { return std::isfinite(v) ? num_short(v, digits) : "n/a"; }

}  // namespace

std::string offsets_table(const analysis::FitReport& r) {
  if (r.offsets.empty()) return "";
  const std::string& ref = r.offsets.front().family;
  std::ostringstream os;
  os << "\nFamily offsets (pooled fit; reference " << ref
     << ", the family with the most rows; a family at x scores like " << ref
     << " at x times the multiplier; 95% interval)\n";
  TextTable t({"family", "rows", "log10 offset", "SE", "multiplier", "low", "high", "reading"}, "l");
  for (const auto& f : r.offsets) {
    if (f.reference) {
      t.row({f.family, std::to_string(f.rows), "0", "", "1", "", "", "reference"});
      continue;
    }
    t.row({f.family, std::to_string(f.rows), num_short(f.log10_offset, 3), fin(f.se), num_short(f.multiplier, 3),
           fin(f.lo), fin(f.hi),
           f.family + " scores like " + ref + " at " + num_short(f.multiplier, 3) + "x its size"});
  }
  return text_of(os) + t.str();
}

nlohmann::ordered_json offsets_json(const analysis::FitReport& r) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (const auto& f : r.offsets)
    a.push_back({{"family", f.family}, {"reference", f.reference}, {"rows", f.rows}, {"rows_train", f.rows_train},
                 {"log10_offset", jnum(f.log10_offset)}, {"se", f.reference ? nlohmann::ordered_json() : jnum(f.se)},
                 {"multiplier", jnum(f.multiplier)}, {"low", jnum(f.lo)}, {"high", jnum(f.hi)}});
  return a;
}

std::string backtest_report(const analysis::BacktestSuite& s, Format fmt, const std::string& spec,
                            const std::string& data) {
  const auto& t = s.totals;
  std::ostringstream os;
  if (fmt == Format::csv) {
    os << "family,task,metric,cut,fit_status,n_train,n_test,mae_graph,mae_logistic,mae_flat,inside,no_interval\n";
    for (const auto& b : s.rows)
      os << csv_field(b.family) << ',' << csv_field(b.task) << ',' << csv_field(b.metric) << ',' << num(b.cut) << ','
         << analysis::fit_status_name(b.status) << ',' << b.n_train << ',' << b.n_test << ','
         << (std::isfinite(b.mae_graph) ? num(b.mae_graph) : "") << ',' << num(b.mae_logistic) << ','
         << num(b.mae_flat) << ',' << b.inside << ',' << b.no_interval << '\n';
    return text_of(os);
  }
  if (fmt == Format::json) {
    nlohmann::ordered_json j;
    j["pool"] = s.pool;
    j["rows"] = nlohmann::ordered_json::array();
    for (const auto& b : s.rows)
      j["rows"].push_back({{"family", b.family}, {"task", b.task}, {"metric", b.metric}, {"cut", jnum(b.cut)},
                           {"fit_status", analysis::fit_status_name(b.status)},
                           {"n_train", b.n_train}, {"n_test", b.n_test}, {"mae_graph", jnum(b.mae_graph)},
                           {"mae_logistic", jnum(b.mae_logistic)}, {"mae_flat", jnum(b.mae_flat)},
                           {"inside", b.inside}, {"no_interval", b.no_interval}});
    j["totals"] = {{"backtests", t.backtests},
                   {"graph_le_logistic", t.graph_le_logistic},
                   {"graph_lt_flat", t.graph_lt_flat},
                   {"points", t.points},
                   {"inside", t.inside},
                   {"no_interval", t.no_interval},
                   {"no_forecast", t.no_forecast},
                   {"mean_mae_graph", jnum(t.mean_mae_graph)},
                   {"mean_mae_logistic", jnum(t.mean_mae_logistic)},
                   {"mean_mae_flat", jnum(t.mean_mae_flat)}};
    j["notes"] = s.notes;
    return json_text(j) + "\n";
  }
  os << "Backtest of " << spec << " on " << data << ": each family's last two models forecast from the rest"
     << (s.pool ? " (pooled: every other family's rows train too)" : " (one family per fit)")
     << "; MAE in metric units; logistic = a logistic in log10 x fitted to the series' own training points, flat = "
        "its last training score\n";
  TextTable tb({"family", "task", "metric", "train", "test", "held out from", "MAE graph", "MAE logistic", "MAE flat",
                "graph vs logistic", "graph vs flat", "inside 95% PI"},
               "lll");
  for (const auto& b : s.rows)
    tb.row({b.family, b.task, b.metric, std::to_string(b.n_train), std::to_string(b.n_test), num_short(b.cut, 3),
            b.status == analysis::FitStatus::ok ? num_short(b.mae_graph, 3)
                                                : std::string("none (") + analysis::fit_status_name(b.status) + ")",
            num_short(b.mae_logistic, 3), num_short(b.mae_flat, 3),
            b.mae_graph <= b.mae_logistic * (1 + 1e-9) + 1e-15 ? "win" : "loss", b.mae_graph < b.mae_flat ? "win" : "loss",
            std::to_string(b.inside) + "/" + std::to_string(b.n_test)});
  os << tb.str() << "totals over " << t.backtests << " backtests: graph MAE <= logistic's in " << t.graph_le_logistic
     << " (" << pct(t.graph_le_logistic, t.backtests) << "), < flat's in " << t.graph_lt_flat << " ("
     << pct(t.graph_lt_flat, t.backtests) << "); held-out points inside their 95% prediction interval: " << t.inside
     << "/" << t.points << " (" << pct(t.inside, t.points) << ")"
     << (t.no_interval ? ", " + std::to_string(t.no_interval) + " without an interval" : "")
     << (t.no_forecast ? "; " + std::to_string(t.no_forecast) + (t.no_forecast == 1 ? " backtest" : " backtests") + " without a graph forecast (fit not a result), counted as losses" : "")
     << "; mean MAE graph " << (t.no_forecast ? "(with a forecast) " : "") << fin(t.mean_mae_graph) << ", logistic " << num_short(t.mean_mae_logistic, 3) << ", flat "
     << num_short(t.mean_mae_flat, 3) << "\n";
  return text_of(os);
}

}  // namespace capgraph::cli
