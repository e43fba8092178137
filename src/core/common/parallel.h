// parallel_slices(): a loop over [0, n) cut into one slice per thread of a WorkerTeam, the
// caller's thread included. Only the caller's thread polls interrupts; an exception on any thread
// stops the others and is rethrown on the caller's thread once every slice has ended.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <vector>

#include "core/common/threads.h"

namespace embedding {

// Runs work(begin, end, stop, poll) over [0, n) on up to `threads` threads (one slice each, at
// least `min_slice` items a slice): the caller's thread takes the first slice with poll = true;
// every slice should return early once `stop` is set. Returns the sum of the slices' results.
template <class Work>
std::size_t parallel_slices(std::size_t n, int threads, Work work, std::size_t min_slice = 1024) {
  WorkerTeam team(std::max(1, std::min<int>(threads, static_cast<int>(n / min_slice) + 1)));
  const std::size_t parts = static_cast<std::size_t>(team.size());
  const std::size_t slice = (n + parts - 1) / parts;
  std::vector<std::size_t> results(parts, 0);
  team.run([&](int part) {
    const std::size_t t = static_cast<std::size_t>(part);
    results[t] =
        work(std::min(n, t * slice), std::min(n, (t + 1) * slice), team.stop_flag(), part == 0);
  });
  std::size_t total = 0;
  for (std::size_t r : results) total += r;
  return total;
}

}  // namespace embedding
