// capgraph/analysis/observations.hpp — measured scores of models on tasks.
//
// Reads observation CSV files such as examples/data/*.csv: one row per
// (task, model family, model, metric) with the model's scale and score.
//
//   required columns: task, family, params, metric, score
//   optional columns: shots, model, train_flops, n (items scored), node
//                     (the spec node the task maps to)
//
// Every bad row is reported, one line each, as `file:line: error: column
// `c`: message[; hint]`, and the whole file is then refused: nothing is
// silently dropped. Metric names are recognised (MetricInfo): which way is
// better, the scale of the score (BLEU is 0-100), and the engine metric
// (docs/measures.md §3) a score can be compared with, if any.
//
// The file is read in pieces and its rows parsed as they arrive (the text is
// never held whole), up to ReadOptions::max_bytes; it must be UTF-8 (a
// leading byte order mark is skipped). Complexity: O(bytes). Errors:
// ReadResult::errors, never exceptions.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../graph/model_spec.hpp"
#include "../specs/load.hpp"

namespace capgraph::analysis {

/// What a metric name means.
struct MetricInfo {
  std::string name;              ///< as written in the file
  bool lower_is_better = false;  ///< Brier, loss, or declared
  double scale = 1;              ///< score * scale is the value used (BLEU: 0.01)
  bool unit_interval = false;    ///< the scaled value lies in [0, 1] (threshold crossing applies)
  bool discrete = false;         ///< all-or-nothing per item (exact match, accuracy)
  /// The engine metric the scaled value can be fitted to; nullopt = none
  /// (BLEU and Brier are not quantities the graph predicts).
  std::optional<Metric> engine;
  bool recognised = false;       ///< false: an unknown name, read as higher-is-better
};

/// Recognises a metric name. `declared_lower` lists names declared
/// lower-is-better by the user (e.g. --lower-is-better my_loss).
MetricInfo metric_info(const std::string& name, const std::vector<std::string>& declared_lower = {});

/// One row.
struct Observation {
  int line = 0;  ///< 1-based line in the file
  std::string task, family, model, metric, node;  ///< node: where the task maps (default: task)
  double params = 0;
  std::optional<double> train_flops;
  std::optional<double> n;  ///< number of items scored, if known
  int shots = -1;           ///< -1 = not given
  double score = 0;         ///< as written
  double value = 0;         ///< score * metric scale
};

struct ReadOptions {
  std::map<std::string, std::string> task_to_node;  ///< --map task=node
  std::vector<std::string> lower_is_better;         ///< declared lower-is-better metrics
  bool need_train_flops = false;                    ///< compute axis: train_flops required in every row
  std::size_t max_bytes = specs::LoadOptions{}.max_bytes;  ///< the file's size limit, as a spec's (--max-bytes)
};

/// A problem in the file: `file:line: error: column `c`: message; hint`
/// (`file:line:col:` with a character column; `file:` for the whole file).
struct CsvError {
  std::string file;
  int line = 0;        ///< 0 = the whole file
  std::string column;  ///< may be empty
  std::string message;
  std::string hint;
  int col = 0;         ///< 1-based character column, 0 = not given
  std::string to_string() const;
};

struct ObservationSet {
  std::string file;
  std::vector<Observation> rows;     ///< in file order
  std::map<std::string, MetricInfo> metrics;  ///< every metric name seen
  std::vector<std::string> notes;    ///< e.g. ignored unknown columns
};

struct ReadResult {
  ObservationSet set;
  std::vector<CsvError> errors;  ///< empty = the file was accepted
  bool io_error = false;
  bool ok() const { return errors.empty(); }
};

/// Reads a file ("-" = standard input).
ReadResult read_observations(const std::string& path, const ReadOptions& options = {});
/// The same for text in memory; `file` names it in messages.
ReadResult read_observations_text(std::string_view text, const std::string& file, const ReadOptions& options = {});

/// Splits one CSV record (RFC 4180 quoting; a trailing CR is dropped).
std::vector<std::string> split_csv_line(std::string_view line);

/// A series: the rows of one (task, family, metric), ordered by scale.
struct Series {
  std::string task, family, metric, node;
  std::vector<std::size_t> rows;  ///< indices into ObservationSet::rows, by increasing x (ties: file order)
  std::vector<double> x, y;       ///< scale (params or train_flops) and value (scaled score)
};

/// Groups rows into series, in order of first appearance of (task, family)
/// and, within it, of the metric. `compute_axis` uses train_flops as x
/// (rows without it must have been refused by the reader).
std::vector<Series> group_series(const ObservationSet& set, bool compute_axis = false);

}  // namespace capgraph::analysis
