// Threads of the core: they start inside BlockSignals (every signal blocked, so PostgreSQL's
// signals reach only the backend's own thread); WorkerTeam keeps a few for the length of one call.
#pragma once

#include <pthread.h>

#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace embedding {

// Blocks every signal on this thread while alive, so that threads started meanwhile inherit
// the full mask.
class BlockSignals {
 public:
  BlockSignals() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved_);
  }
  ~BlockSignals() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
  BlockSignals(const BlockSignals&) = delete;
  BlockSignals& operator=(const BlockSignals&) = delete;

 private:
  sigset_t saved_;
};

// `size` threads for the length of one call, the caller's included: run(task) runs task(i) for
// every i in [0, size()), part 0 on the caller's thread, and returns when all parts are done,
// rethrowing the first exception a part threw. A hand-off costs microseconds, where starting
// threads for every step would not. Workers run core code only; the destructor joins them.
class WorkerTeam {
 public:
  explicit WorkerTeam(int size);
  ~WorkerTeam();
  WorkerTeam(const WorkerTeam&) = delete;
  WorkerTeam& operator=(const WorkerTeam&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }
  void run(const std::function<void(int)>& task);

 private:
  void work(int part);

  std::mutex mutex_;
  std::condition_variable start_, done_;
  const std::function<void(int)>* task_ = nullptr;
  std::uint64_t generation_ = 0;
  int pending_ = 0;
  bool quit_ = false;
  std::vector<std::exception_ptr> errors_;
  std::vector<std::thread> workers_;
};

}  // namespace embedding
