// WorkerTeam (see threads.h): workers wait on a condition variable for the next generation of
// work, run their part and report back; the caller runs part 0 meanwhile.
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

void WorkerTeam::work(int part) {
  std::uint64_t seen = 0;
  for (;;) {
    const std::function<void(int)>* task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_.wait(lock, [&] { return quit_ || generation_ != seen; });
      if (quit_) return;
      seen = generation_;
      task = task_;
    }
    std::exception_ptr error;
    try {
      (*task)(part);
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    errors_[part] = error;
    if (--pending_ == 0) done_.notify_one();
  }
}

void WorkerTeam::run(const std::function<void(int)>& task) {
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
  try {
    task(0);
  } catch (...) {
    error = std::current_exception();
  }
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] { return pending_ == 0; });
  if (error) std::rethrow_exception(error);
  for (std::exception_ptr& e : errors_)
    if (e) std::rethrow_exception(std::exchange(e, nullptr));
}

}  // namespace embedding
