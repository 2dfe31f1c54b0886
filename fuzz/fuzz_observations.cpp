// capgraph/fuzz/fuzz_observations.cpp — libFuzzer target: the observations
// CSV reader (analysis/observations.hpp) and the grouping into series.
// Arbitrary bytes must give either errors (each with a line) or rows whose
// numbers are finite and text UTF-8, with series ordered by scale; never a crash or a
// sanitizer report. The input's length picks the reader's options (so that
// the seeds, real observation files, are read whole).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "analysis/observations.hpp"
#include "specs/input_text.hpp"
#include "fuzz/fuzz_invariants.hpp"

using namespace capgraph;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;
  const std::size_t flags = size % 8;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  analysis::ReadOptions o;
  o.need_train_flops = (flags & 1) != 0;
  if (flags & 2) o.lower_is_better = {"loss", "my_metric"};
  if (flags & 4) o.task_to_node = {{"arithmetic", "add_2digit"}};
  const analysis::ReadResult r = analysis::read_observations_text(text, "<fuzz>", o);
  for (std::size_t b = 0; b < text.size() && b < 4096;) {  // the line splitter on its own
    std::size_t e = text.find('\n', b);
    if (e == std::string_view::npos) e = text.size();
    (void)analysis::split_csv_line(text.substr(b, e - b));
    b = e + 1;
  }
  if (!r.ok()) {
    for (const auto& e : r.errors) {
      if (e.line < 0) fuzz::violated("error with a negative line", e.line);
      (void)e.to_string();
    }
    return 0;
  }
  for (const auto& row : r.set.rows) {
    if (!std::isfinite(row.params)) fuzz::violated("accepted row with non-finite params", row.params);
    if (!std::isfinite(row.score)) fuzz::violated("accepted row with non-finite score", row.score);
    if (!std::isfinite(row.value)) fuzz::violated("accepted row with non-finite value", row.value);
    if (row.train_flops && !std::isfinite(*row.train_flops)) fuzz::violated("non-finite train_flops", *row.train_flops);
    if (o.need_train_flops && !row.train_flops) fuzz::violated("row without train_flops on the compute axis", 0);
    // Accepted text is UTF-8 (JSON output relies on it), scales in the accepted range.
    for (const std::string* t : {&row.task, &row.family, &row.model, &row.metric, &row.node})
      if (specs::first_invalid_utf8(*t) != std::string_view::npos) fuzz::violated("accepted text that is not UTF-8", 0);
    if (!specs::scale_problem(row.params).empty()) fuzz::violated("accepted params outside the scale range", row.params);
  }
  const auto series = analysis::group_series(r.set, o.need_train_flops);
  std::size_t total = 0;
  for (const auto& s : series) {
    if (s.x.size() != s.rows.size() || s.y.size() != s.rows.size()) fuzz::violated("series sizes differ", 0);
    for (std::size_t i = 1; i < s.x.size(); ++i)
      if (!(s.x[i - 1] <= s.x[i])) fuzz::violated("series not ordered by scale", s.x[i]);
    total += s.rows.size();
  }
  if (total != r.set.rows.size()) fuzz::violated("series lost or duplicated rows", static_cast<double>(total));
  return 0;
}
