// WorkerTeam (see threads.h): workers wait on a condition variable for the next generation of
// work, run their part and report back; the caller runs part 0 meanwhile, then waits.
#include "core/common/threads.h"

#include <utility>

namespace embedding {

WorkerTeam::WorkerTeam(int size) : errors_(size > 1 ? size : 1) {
  if (size <= 1) return;  // the caller alone: no threads, so no signal mask to set (two syscalls)
  BlockSignals blocked;
  try {
    for (int part = 1; part < size; ++part) workers_.emplace_back([this, part] { work(part); });
  } catch (...) {
    // The system refused a thread: the team works with those that started.
  }
}

WorkerTeam::~WorkerTeam() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    quit_ = true;
  }
  start_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void WorkerTeam::run_part(int part, std::exception_ptr* error) {
  try {
    (*task_)(part);
  } catch (...) {
    *error = std::current_exception();
    stop();
  }
}

void WorkerTeam::work(int part) {
  std::uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_.wait(lock, [&] { return quit_ || generation_ != seen; });
      if (quit_) return;
      seen = generation_;
    }
    std::exception_ptr error;
    run_part(part, &error);
    std::lock_guard<std::mutex> lock(mutex_);
    errors_[part] = error;
    if (--pending_ == 0) done_.notify_one();
  }
}

void WorkerTeam::run(const std::function<void(int)>& task, const std::function<void()>& waiting,
                     std::chrono::milliseconds interval) {
  stop_.store(false);
  if (workers_.empty()) {
    task(0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    task_ = &task;
    pending_ = static_cast<int>(workers_.size());
    ++generation_;
  }
  start_.notify_all();
  std::exception_ptr error;
  run_part(0, &error);
  std::unique_lock<std::mutex> lock(mutex_);
  while (!done_.wait_for(lock, interval, [&] { return pending_ == 0; })) {
    if (!waiting || error) continue;
    lock.unlock();
    try {
      waiting();
    } catch (...) {
      error = std::current_exception();
      stop();
    }
    lock.lock();
  }
  if (error) std::rethrow_exception(error);
  for (std::exception_ptr& e : errors_)
    if (e) std::rethrow_exception(std::exchange(e, nullptr));
}

}  // namespace embedding
