// capgraph/graph/workers.hpp — internal: the one way the engine runs work on
// several threads (evaluate() over blocks of points, the Monte Carlo
// estimates over items, the bottleneck query over prerequisites).
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace capgraph::detail {

/// Workers to use for `items` independent pieces of work when `requested`
/// threads were asked for (0 = every core): never more than the items.
inline unsigned worker_count(unsigned requested, std::size_t items) {
  const unsigned want = requested == 0 ? std::max(1u, std::thread::hardware_concurrency()) : requested;
  return static_cast<unsigned>(std::min<std::size_t>(want, items));
}

/// Calls work(w) for w in [0, workers): on the calling thread when there is
/// one worker, else one thread each. The first exception a worker throws is
/// rethrown here once all have finished (instead of std::terminate).
template <class Work>
void run_workers(unsigned workers, Work&& work) {
  if (workers == 0) return;
  if (workers == 1) {
    work(0u);
    return;
  }
  std::vector<std::exception_ptr> errors(workers);
  std::vector<std::thread> pool;
  pool.reserve(workers);
  for (unsigned w = 0; w < workers; ++w)
    pool.emplace_back([&, w] {
      try {
        work(w);
      } catch (...) {
        errors[w] = std::current_exception();
      }
    });
  for (auto& t : pool) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace capgraph::detail
