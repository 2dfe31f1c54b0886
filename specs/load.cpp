// capgraph/specs/load.cpp — see load.hpp.
#include "specs/load.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <system_error>

#include "specs/diagnostics.hpp"
#include "specs/input_text.hpp"
#include "specs/spec_reader.hpp"
#include "specs/yaml_tree.hpp"

namespace capgraph::specs {
namespace {

LoadResult io_failure(const std::string& file, const std::string& message) {
  LoadResult r;
  r.io_error = true;
  Diagnostic d;
  d.file = file;
  d.message = message;
  r.errors.push_back(std::move(d));
  return r;
}

/// `size` 0 = unknown (a stream read up to the limit).
LoadResult too_large(const std::string& file, std::uintmax_t size, std::size_t limit) {
  Diagnostics diag(file);
  const std::string what = size > 0 ? "spec is " + std::to_string(size) + " bytes, more than" : "spec is larger than";
  diag.error(0, 0, what + " the limit of " + std::to_string(limit) + " bytes", "raise it with --max-bytes");
  LoadResult r;
  r.errors = std::move(diag).finish();
  return r;
}

/// Reads at most `limit + 1` bytes, so an endless stream cannot exhaust memory.
bool read_stream(std::FILE* in, std::size_t limit, std::string& out) {
  char buf[1 << 16];
  while (out.size() <= limit) {
    const std::size_t n = std::fread(buf, 1, sizeof buf, in);
    out.append(buf, n);
    if (n < sizeof buf) return std::ferror(in) == 0;
  }
  return true;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

LoadResult load_spec_text(std::string_view text, const std::string& file, const LoadOptions& options) {
  if (text.size() > options.max_bytes) return too_large(file, text.size(), options.max_bytes);
  text = strip_bom(text);  // as editors on Windows write one
  Diagnostics diag(file);
  LoadResult result;
  {
    auto start = std::chrono::steady_clock::now();
    YamlTree tree;
    const bool readable = parse_yaml(text, YamlParseOptions{options.max_depth}, tree, diag);
    result.timings.parse = seconds_since(start);
    if (readable) {
      start = std::chrono::steady_clock::now();
      ModelSpec spec;
      read_spec(tree, options, diag, spec);
      if (diag.empty()) result.spec = std::move(spec);
      result.timings.validate = seconds_since(start);
    }
  }
  result.errors = std::move(diag).finish();
  return result;
}

LoadResult load_spec_file(const std::string& path, const LoadOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  std::string text;
  std::string name = path;
  if (path == "-") {
    name = "<stdin>";
    if (!read_stream(stdin, options.max_bytes, text)) return io_failure(name, "cannot read standard input");
  } else {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (!ec && std::filesystem::is_directory(status)) return io_failure(name, "cannot read: is a directory");
    if (!ec && std::filesystem::is_regular_file(status)) {
      const auto size = std::filesystem::file_size(path, ec);
      if (!ec && size > options.max_bytes) return too_large(name, size, options.max_bytes);
      if (!ec) text.reserve(static_cast<std::size_t>(size) + 1);
    }
    std::FILE* in = std::fopen(path.c_str(), "rb");
    if (in == nullptr) return io_failure(name, std::string("cannot open: ") + std::strerror(errno));
    const bool ok = read_stream(in, options.max_bytes, text);
    const int err = errno;
    std::fclose(in);
    if (!ok) return io_failure(name, std::string("cannot read: ") + std::strerror(err));
  }
  // A stream (stdin, a pipe) or a file that grew: only read up to the limit.
  if (text.size() > options.max_bytes) return too_large(name, 0, options.max_bytes);
  const double read_seconds = seconds_since(start);
  LoadResult result = load_spec_text(text, name, options);
  result.timings.read = read_seconds;
  return result;
}

}  // namespace capgraph::specs
