// capgraph/graph/buffer_rows.hpp — internal: rows of an evaluation buffer
// assigned by liveness, like registers. Model::compile uses it for the ln P
// rows (detail::Program::row) and evaluate() for the partial-credit rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace capgraph::detail {

/// A row is taken when position i (in evaluation order) is evaluated and
/// given back after the last position that reads it, or at once when
/// nothing reads it (the caller copies what it keeps before the next
/// position). Freed rows are reused last in, first out, so the next
/// position writes a row that is still in cache.
///   has_row(i): whether position i gets a row at all;
///   for_each_read(i, f): calls f(c) for each position c < i with a row that
///     i reads (a position read by several uses may come more than once);
///   last_read[c]: the last position that reads c, or -1; overwritten.
/// Sets row[i] for every position with a row; returns the number of rows.
template <class Row, class HasRow, class ForEachRead>
std::size_t assign_rows_by_liveness(std::size_t n, HasRow has_row, ForEachRead for_each_read,
                                    std::vector<std::int32_t>& last_read, std::vector<Row>& row) {
  std::size_t rows = 0;
  std::vector<Row> free_rows;
  for (std::size_t i = 0; i < n; ++i) {
    if (!has_row(i)) continue;
    if (free_rows.empty()) {
      row[i] = static_cast<Row>(rows++);
    } else {
      row[i] = free_rows.back();
      free_rows.pop_back();
    }
    for_each_read(i, [&](std::size_t c) {
      if (last_read[c] != static_cast<std::int32_t>(i)) return;
      last_read[c] = -2;  // once, whatever the number of uses
      free_rows.push_back(row[c]);
    });
    if (last_read[i] == -1) free_rows.push_back(row[i]);
  }
  return rows;
}

}  // namespace capgraph::detail
