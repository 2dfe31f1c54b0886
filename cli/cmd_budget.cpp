// capgraph budget --params N | --compute C — the Chinchilla data/compute budget.
//
// The seed arithmetic, stated honestly: D = tokens_per_param * N tokens;
// text size = D * bytes_per_token; compute C = 6 N D; loss from the law;
// D against an estimate of the stock of public human text.
//
// Defaults and their sources (docs/budget.md):
//   20 tokens per parameter — Hoffmann et al. 2022 (Chinchilla).
//   4 bytes per token — typical of BPE tokenizers on English text (about
//     0.75 words per token; GPT-2/3 tokenizers average ~4 characters per token).
//   3e14 tokens of public text — Villalobos et al. 2024, "Will we run out of
//     data? Limits of LLM scaling based on human-generated data" (Epoch AI):
//     effective stock of quality-adjusted public human text ~300 trillion
//     tokens (90% interval 100T-1000T).
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <type_traits>
#include <variant>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "graph/budget.hpp"

namespace capgraph::cli {

namespace {

struct BudgetOpts {
  std::string params, compute;
  std::optional<double> tokens_per_param;
  double bytes_per_token = 4;
  double stock_tokens = 3e14;
  std::string data_limit;
  std::string law = "chinchilla";
  std::string check_bytes;
  CommonOptions common;
};

std::string si_bytes(double b) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB"};
  int i = 0;
  while (b >= 1000 && i < 7) {
    b /= 1000;
    ++i;
  }
  return num_short(b, 3) + " " + units[i];
}

// The budget's input from the options; a usage error for a bad pair.
BudgetInput budget_input(const BudgetOpts& o) {
  if (o.params.empty() == o.compute.empty())
    throw Failure(kUsage, "error: budget needs exactly one of --params N or --compute C");
  BudgetInput in;
  in.from_compute = o.params.empty();
  in.law = *law_by_name(o.law);
  in.tokens_per_param = o.tokens_per_param;
  if (!o.data_limit.empty()) in.data_limit = parse_positive("--data-limit", o.data_limit);
  in.bytes_per_token = o.bytes_per_token;
  in.stock_tokens = o.stock_tokens;
  if (!o.check_bytes.empty()) in.claimed_bytes = parse_positive("--check-bytes", o.check_bytes);
  const ScaleSpec ss = budget_scale(in);
  in.x = in.from_compute ? parse_scale("--compute", o.compute, &ss) : parse_scale("--params", o.params, &ss);
  return in;
}

void write_json(std::ostream& os, const BudgetInput& in, const Budget& b) {
  nlohmann::ordered_json j;
  for (const BudgetField& f : budget_fields(in, b))
    std::visit(
        [&](const auto& v) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(v)>, std::monostate>) j[f.key] = v;
        },
        f.value);
  os << json_text(j) << '\n';
}

// One budget, one row: the JSON's keys as columns (an absent field empty).
void write_csv(std::ostream& os, const BudgetInput& in, const Budget& b) {
  const std::vector<BudgetField> fields = budget_fields(in, b);
  std::string head, row;
  for (const BudgetField& f : fields) {
    head += (head.empty() ? "" : ",") + std::string(f.key);
    if (&f != &fields.front()) row += ',';
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, bool>) row += v ? "true" : "false";
          else if constexpr (std::is_same_v<T, double>) row += num(v);
          else if constexpr (std::is_same_v<T, std::string>) row += v;
        },
        f.value);
  }
  os << head << '\n' << row << '\n';
}

void write_table(std::ostream& os, const BudgetInput& in, const Budget& b) {
  const ScalePoint& pt = b.point;
  const char* rule = budget_rule_name(b.rule);
  const std::string law_name = in.law.name == "chinchilla" ? "Chinchilla (Hoffmann et al. 2022)"
                                                           : "Epoch replication (Besiroglu et al. 2024)";
  const bool ratio_given = in.tokens_per_param.has_value();
  const std::string R = num_short(b.rule == BudgetRule::fixed_ratio && !pt.data_limited ? b.tokens_per_param
                                                                                         : in.tokens_per_param.value_or(20));
  os << "budget under " << law_name << "\n\n";
  TextTable t({"quantity", "value", "how"}, "lrl");
  std::string how_n = "given";
  if (in.from_compute)
    how_n = (ratio_given ? "fixed ratio: sqrt(C / (6 R))" : std::string("compute-optimal: G (C/6)^a")) +
            (pt.data_limited ? ", then C/(6D)" : "");
  t.row({"parameters N", num_short(pt.N, 4), how_n});
  t.row({"training tokens D", num_short(pt.D, 4),
         pt.data_limited ? "capped by --data-limit"
         : b.rule == BudgetRule::fixed_ratio ? "R x N, R = " + R + " tokens/param"
                                             : "compute-optimal: (C/6)^b / G"});
  t.row({"tokens per param", num_short(b.tokens_per_param, 4),
         std::string("D / N (rule: ") + rule + (ratio_given ? ", --tokens-per-param" : "") + ")"});
  t.row({"text", si_bytes(b.text_bytes), num_short(in.bytes_per_token) + " bytes/token x D"});
  t.row({"training compute C", num_short(pt.C, 4) + " FLOP", "6 N D"});
  t.row({"loss L(N, D)", num_short(b.loss, 4) + " nats/token", "E + A/N^alpha + B/D^beta"});
  t.row({"public text stock", num_short(in.stock_tokens, 3) + " tokens", "Villalobos et al. 2024 (--stock-tokens)"});
  t.row({"D / stock", num_short(b.tokens_over_stock, 3) + "x",
         b.tokens_over_stock > 1 ? "needs more text than the estimated stock" : "within the estimated stock"});
  if (in.claimed_bytes)
    t.row({"claimed text", si_bytes(*in.claimed_bytes), "implies " + num_short(*b.implied_bytes_per_token, 3) + " bytes/token"});
  os << t.str();
  os << "\nrules: --params uses a fixed R (20 tokens/param, Chinchilla's rule of thumb); --compute splits C at\n"
        "the fitted law's optimum, whose D/N grows with C (about 98 at 1e24 FLOP under chinchilla);\n"
        "--tokens-per-param R fixes the ratio for both.\n";
}

int run_budget(const BudgetOpts& o) {
  const BudgetInput in = budget_input(o);
  const Budget b = compute_budget(in);
  const ScalePoint& pt = b.point;
  if (!(std::isnormal(pt.N) && std::isnormal(pt.D) && std::isfinite(pt.C)))
    throw Failure(kUsage, "error: --compute " + o.compute + " with --tokens-per-param " + num_short(*in.tokens_per_param) +
                              " gives N = " + num_short(pt.N) + ", D = " + num_short(pt.D) +
                              ", outside the numbers a budget can state (docs/measures.md §1)");
  std::ostringstream os;
  switch (o.common.fmt()) {
    case Format::json: write_json(os, in, b); break;
    case Format::csv: write_csv(os, in, b); break;
    case Format::table: write_table(os, in, b); break;
  }
  write_output(text_of(os), o.common);
  return kOk;
}

}  // namespace

void add_budget(CLI::App& app, Action& run) {
  auto o = std::make_shared<BudgetOpts>();
  auto* sub = app.add_subcommand("budget", "Chinchilla data and compute budget for a model size or a compute budget");
  auto* p = sub->add_option("--params", o->params, "Model parameters N, e.g. 1e14");
  auto* c = sub->add_option("--compute", o->compute, "Training compute C in FLOPs (compute-optimal split), e.g. 1e25");
  p->excludes(c);
  sub->add_option("--tokens-per-param", o->tokens_per_param,
                  "Training tokens per parameter R: D = R N (default 20 with --params; with --compute it fixes the "
                  "ratio, N = sqrt(C / (6 R)), instead of the law's compute-optimal split)")
      ->transform(number_check(Number::positive));
  sub->add_option("--bytes-per-token", o->bytes_per_token, "Bytes of text per token (BPE on English: ~4)")
      ->transform(number_check(Number::positive))
      ->capture_default_str();
  sub->add_option("--stock-tokens", o->stock_tokens,
                  "Estimated stock of public human text in tokens (Villalobos et al. 2024: 3e14)")
      ->transform(number_check(Number::positive))
      ->capture_default_str();
  sub->add_option("--data-limit", o->data_limit, "Cap on training tokens D");
  sub->add_option("--law", o->law, "Scaling law constants")->check(CLI::IsMember({"chinchilla", "epoch2024"}))
      ->capture_default_str();
  sub->add_option("--check-bytes", o->check_bytes,
                  "A claimed text size in bytes to check: prints the bytes per token it implies");
  o->common.add_to(*sub, true, 0);  // reads no spec: no limits apply
  sub->callback([o, &run] { run = [o] { return run_budget(*o); }; });
}

}  // namespace capgraph::cli
