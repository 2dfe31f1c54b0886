// capgraph — the command line (DESIGN.md section 4).
#include <csignal>
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/common.hpp"

int main(int argc, char** argv) {
  using namespace capgraph::cli;
  std::signal(SIGPIPE, SIG_IGN);  // a closed pipe is reported as EPIPE and ends quietly
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
  add_budget(app, run);
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
