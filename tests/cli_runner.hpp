// tests/cli_runner.hpp — running the capgraph binary from a test.
#pragma once

#include "test_paths.hpp"
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

namespace capgraph::testing {

struct CliRun {
  int code = -1;
  std::string out;
};

// Runs the capgraph binary (CAPGRAPH_EXE) with `args` (shell syntax) from the
// source folder (CAPGRAPH_SOURCE_DIR), capturing standard output, or
// standard error with `stderr_only`.
inline CliRun run_cli(const std::string& args, bool stderr_only = false) {
  const std::string redirect = stderr_only ? " 2>&1 >/dev/null" : " 2>/dev/null";
  const std::string cmd = std::string("cd '") + capgraph::test::source_dir + "' && '" + capgraph::test::exe + "' " + args + redirect;
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace capgraph::testing
