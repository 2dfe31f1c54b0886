// capgraph check SPEC... — validate; nothing else.
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/common.hpp"

namespace capgraph::cli {

void add_check(CLI::App& app, Action& run) {
  struct Opts {
    std::vector<std::string> specs;
    CommonOptions common;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = app.add_subcommand("check", "Validate spec files; print every error as file:line:column");
  sub->add_option("SPEC", o->specs, "Spec files (- for standard input)")->required();
  o->common.add_loading(*sub, false);
  sub->callback([o, &run] {
    run = [o] {
      int worst = kOk;
      for (const auto& path : o->specs) {
        Timings t(o->common.timings);
        try {
          const Model m = load_model(path, o->common, t);
          std::cout << (path == "-" ? "<stdin>" : path) << ": ok (" << m.size() - m.tasks().size() << " skills, "
                    << m.tasks().size() << " tasks)\n";
        } catch (const Failure& f) {
          if (f.what()[0] != '\0') std::cerr << f.what() << '\n';
          worst = std::max(worst, f.code);
        }
        t.print();
      }
      return worst;
    };
  });
}

}  // namespace capgraph::cli
