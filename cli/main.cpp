// capgraph — the command line (docs/cli.md).
#include <malloc.h>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/common.hpp"

int main(int argc, char** argv) {
  using namespace capgraph::cli;
  std::signal(SIGPIPE, SIG_IGN);  // a closed pipe is reported as EPIPE and ends quietly
  install_signal_cleanup();       // an interrupt leaves no temporary file
  // Keep freed memory for reuse. By default glibc gives every freed block
  // of 128 KiB or more back to the kernel, so the next such block (the
  // model after the YAML tree, each table of a bottleneck query) is fresh
  // memory to fault in again, about 3 ms per MB on the VMs we measured. One
  // short-lived process gains by reusing it: blocks up to 32 MiB come from
  // the heap, and the heap is not trimmed (`bottleneck` on the 100,000-node
  // spec compiles in 0.08 s this way, 0.22 s without).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  // And one arena for every thread: a worker's first allocations otherwise
  // come from a fresh arena of its own, all of it to fault in, while the
  // main arena holds the memory freed by loading (`bottleneck` on the
  // 100,000-node cone: 7,200 page faults -> 2,300, its query 0.24-0.26 ->
  // 0.17-0.18 s; `sweep` of 1,000 points on two threads is no slower). The
  // workers allocate their scratch once, so they do not contend on it.
  mallopt(M_ARENA_MAX, 1);
  // And no fastbins: loading frees a few million small blocks (the YAML
  // tree, the validator's maps); kept in fastbins, they are merged all at
  // once by the next large malloc, which was the bottleneck query's first
  // table (about 6 ms, in the query rather than in loading). Freed into the
  // ordinary bins they are merged as they are freed (`bottleneck` on the
  // 100,000-node cone: query 0.145 -> 0.132 s median of 5, loading no slower).
  mallopt(M_MXFAST, 0);
  CLI::App app{"capgraph: capability dependency graphs — why a capability appears suddenly, and what holds it back"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "capgraph 0.1.0");
  Action run;
  add_check(app, run);
  add_eval(app, run);
  add_sweep(app, run);
  add_bottleneck(app, run);
  add_render(app, run);
  add_plot(app, run);
  add_analyze(app, run);
  add_fit(app, run);
  add_report(app, run);
  add_budget(app, run);
  check_numbers(app);
  try {
    check_utf8_arguments(argc, argv);
  } catch (const Failure& f) {
    std::cerr << f.what() << '\n';
    return f.code;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "capgraph: error: " << e.what() << "\n(run `capgraph --help` or `capgraph SUBCOMMAND --help`)\n";
    return kUsage;
  }
  try {
    return run ? run() : kUsage;
  } catch (const Failure& f) {
    if (f.what()[0] != '\0') std::cerr << f.what() << '\n';
    return f.code;
  } catch (const capgraph::ModelError& e) {
    // Raised by the engine after loading (e.g. shared skills too costly to
    // expand exactly): located at the node it concerns.
    const std::string& file = current_spec_name();
    if (!file.empty())
      std::cerr << file << ':' << e.loc().line << ':' << e.loc().column << ": ";
    std::cerr << "error: " << e.what() << '\n';
    return kInvalid;
  } catch (const std::bad_alloc&) {
    std::cerr << "error: out of memory\n";
    return kIo;
  }
}
