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
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "graph/scale_axis.hpp"

namespace capgraph::cli {

namespace {

struct BudgetOpts {
  std::string params, compute;
  double tokens_per_param = 20;
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

}  // namespace

void add_budget(CLI::App& app, Action& run) {
  auto o = std::make_shared<BudgetOpts>();
  auto* sub = app.add_subcommand("budget", "Chinchilla data and compute budget for a model size or a compute budget");
  auto* p = sub->add_option("--params", o->params, "Model parameters N, e.g. 1e14");
  auto* c = sub->add_option("--compute", o->compute, "Training compute C in FLOPs (compute-optimal split), e.g. 1e25");
  p->excludes(c);
  sub->add_option("--tokens-per-param", o->tokens_per_param, "Training tokens per parameter (with --params)")
      ->transform(number_check(Number::positive))
      ->capture_default_str();
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
  sub->callback([o, &run] {
    run = [o] {
      if (o->params.empty() == o->compute.empty())
        throw Failure(kUsage, "error: budget needs exactly one of --params N or --compute C");
      ScaleSpec ss;
      ss.law = *law_by_name(o->law);
      ss.tokens_per_param = o->tokens_per_param;
      if (!o->data_limit.empty()) ss.data_limit = parse_positive("--data-limit", o->data_limit);
      ss.axis = o->params.empty() ? Axis::compute : Axis::params;
      const ScaleAxis axis(ss);
      const double x = ss.axis == Axis::params ? parse_scale("--params", o->params, &ss)
                                               : parse_scale("--compute", o->compute, &ss);
      const ScalePoint pt = axis.at(x);
      const double bytes = pt.D * o->bytes_per_token;
      const double loss = axis.loss(pt.N, pt.D);
      const double ratio = pt.D / o->stock_tokens;
      std::optional<double> claimed;
      if (!o->check_bytes.empty()) claimed = parse_positive("--check-bytes", o->check_bytes);

      std::ostringstream os;
      const std::string law_name = ss.law.name == "chinchilla" ? "Chinchilla (Hoffmann et al. 2022)"
                                                               : "Epoch replication (Besiroglu et al. 2024)";
      switch (o->common.fmt()) {
        case Format::json: {
          nlohmann::ordered_json j;
          j["law"] = ss.law.name;
          j["params"] = pt.N;
          j["tokens"] = pt.D;
          j["data_limited"] = pt.data_limited;
          j["tokens_per_param"] = pt.D / pt.N;
          j["bytes_per_token"] = o->bytes_per_token;
          j["text_bytes"] = bytes;
          j["compute_flop"] = pt.C;
          j["loss_nats_per_token"] = loss;
          j["stock_tokens"] = o->stock_tokens;
          j["tokens_over_stock"] = ratio;
          if (claimed) j["claimed_bytes_implied_bytes_per_token"] = *claimed / pt.D;
          os << json_text(j) << '\n';
          break;
        }
        case Format::csv:
          os << "quantity,value,unit\n"
             << "params," << num(pt.N) << ",parameters\n"
             << "tokens," << num(pt.D) << ",tokens\n"
             << "tokens_per_param," << num(pt.D / pt.N) << ",tokens/parameter\n"
             << "bytes_per_token," << num(o->bytes_per_token) << ",bytes/token\n"
             << "text_bytes," << num(bytes) << ",bytes\n"
             << "compute," << num(pt.C) << ",FLOP\n"
             << "loss," << num(loss) << ",nats/token\n"
             << "stock_tokens," << num(o->stock_tokens) << ",tokens\n"
             << "tokens_over_stock," << num(ratio) << ",ratio\n";
          if (claimed) os << "claimed_bytes_implied_bytes_per_token," << num(*claimed / pt.D) << ",bytes/token\n";
          break;
        case Format::table: {
          os << "budget under " << law_name << "\n\n";
          TextTable t({"quantity", "value", "how"}, "lrl");
          t.row({"parameters N", num_short(pt.N, 4),
                 ss.axis == Axis::params ? "given" : "compute-optimal: G (C/6)^a" + std::string(pt.data_limited ? ", then C/(6D)" : "")});
          t.row({"training tokens D", num_short(pt.D, 4),
                 pt.data_limited ? "capped by --data-limit"
                 : ss.axis == Axis::params ? num_short(o->tokens_per_param) + " tokens/param x N"
                                           : "compute-optimal: (C/6)^b / G"});
          t.row({"text", si_bytes(bytes), num_short(o->bytes_per_token) + " bytes/token x D"});
          t.row({"training compute C", num_short(pt.C, 4) + " FLOP", "6 N D"});
          t.row({"loss L(N, D)", num_short(loss, 4) + " nats/token", "E + A/N^alpha + B/D^beta"});
          t.row({"public text stock", num_short(o->stock_tokens, 3) + " tokens", "Villalobos et al. 2024 (--stock-tokens)"});
          t.row({"D / stock", num_short(ratio, 3) + "x", ratio > 1 ? "needs more text than the estimated stock" : "within the estimated stock"});
          if (claimed)
            t.row({"claimed text", si_bytes(*claimed), "implies " + num_short(*claimed / pt.D, 3) + " bytes/token"});
          os << t.str();
          break;
        }
      }
      write_output(text_of(os), o->common);
      return kOk;
    };
  });
}

}  // namespace capgraph::cli
