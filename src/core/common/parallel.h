// parallel_slices(): a loop over [0, n) cut into one slice per thread, the caller's thread
// included. Only the caller's thread polls interrupts; an exception on any thread stops the others
// and is rethrown on the caller's thread after every worker has been joined.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

#include "core/common/threads.h"

namespace embedding {

// Runs work(begin, end, stop, poll) over [0, n) on up to `threads` threads (one slice each, at
// least `min_slice` items a slice): the caller's thread takes the first slice with poll = true;
// every slice should return early once `stop` is set. Returns the sum of the slices' results.
template <class Work>
std::size_t parallel_slices(std::size_t n, int threads, Work work, std::size_t min_slice = 1024) {
  threads = std::max(1, std::min<int>(threads, static_cast<int>(n / min_slice) + 1));
  std::atomic<bool> stop{false};
  std::vector<std::size_t> results(threads, 0);
  std::vector<std::exception_ptr> errors(threads);
  std::vector<std::thread> workers;
  const std::size_t slice = (n + threads - 1) / threads;
  const auto run = [&](int t, bool poll) {
    try {
      results[t] = work(std::min(n, t * slice), std::min(n, (t + 1) * slice), stop, poll);
    } catch (...) {
      errors[t] = std::current_exception();
      stop.store(true);
    }
  };
  try {
    BlockSignals blocked;  // the workers start with every signal blocked
    for (int t = 1; t < threads; ++t) workers.emplace_back(run, t, false);
  } catch (...) {  // a thread could not start: stop and join those that did
    stop.store(true);
    for (auto& w : workers) w.join();
    throw;
  }
  run(0, true);
  for (auto& w : workers) w.join();
  for (const auto& error : errors)
    if (error) std::rethrow_exception(error);
  std::size_t total = 0;
  for (std::size_t r : results) total += r;
  return total;
}

}  // namespace embedding
