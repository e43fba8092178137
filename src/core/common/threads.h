// The core's one worker pool: WorkerTeam, threads started inside BlockSignals (every signal
// blocked, so PostgreSQL's signals reach only the backend's own thread) for the length of a call.
#pragma once

#include <pthread.h>

#include <atomic>
#include <chrono>
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

// `size` threads, the caller's included, kept for the length of one call (a hand-off costs
// microseconds, so a team serves many steps). run(task) runs task(part) for every part in
// [0, size()), part 0 on the caller's thread, and returns when all parts are done. Only the caller
// polls interrupts: in its part, and in `waiting`, which it calls every `interval` once its part
// is done and others still run. An exception in a part (or in `waiting`) sets the stop flag, which
// long parts check to end early; run rethrows it on the caller's thread when all parts are done
// (the caller's first, then the workers' by part). Workers run core code only, never a PostgreSQL
// call; a team that cannot start all its threads works with those that started.
class WorkerTeam {
 public:
  explicit WorkerTeam(int size);
  ~WorkerTeam();
  WorkerTeam(const WorkerTeam&) = delete;
  WorkerTeam& operator=(const WorkerTeam&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }
  void run(const std::function<void(int)>& task, const std::function<void()>& waiting = nullptr,
           std::chrono::milliseconds interval = std::chrono::milliseconds(5));

  // The stop flag of the current run: cleared when it starts, set by stop() or a failed part.
  const std::atomic<bool>& stop_flag() const { return stop_; }
  bool stopped() const { return stop_.load(std::memory_order_relaxed); }
  void stop() { stop_.store(true, std::memory_order_relaxed); }

 private:
  void work(int part);
  void run_part(int part, std::exception_ptr* error);

  std::mutex mutex_;
  std::condition_variable start_, done_;
  const std::function<void(int)>* task_ = nullptr;
  std::uint64_t generation_ = 0;
  int pending_ = 0;
  bool quit_ = false;
  std::atomic<bool> stop_{false};
  std::vector<std::exception_ptr> errors_;
  std::vector<std::thread> workers_;
};

}  // namespace embedding
