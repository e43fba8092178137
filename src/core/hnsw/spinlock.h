// A one-byte spinlock per graph node: neighbour-list critical sections are a few hundred
// nanoseconds, so spinning beats a mutex and a million nodes cost a megabyte, not 40.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

namespace embedding::hnsw {

class SpinLock {
 public:
  explicit SpinLock(std::atomic<std::uint8_t>& flag) : flag_(flag) {
    while (flag_.exchange(1, std::memory_order_acquire) != 0) {
      for (int spins = 0; flag_.load(std::memory_order_relaxed) != 0; ++spins) {
        if (spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
          __builtin_ia32_pause();
#endif
        } else {
          std::this_thread::yield();  // the holder was preempted: let it run
        }
      }
    }
  }
  ~SpinLock() { flag_.store(0, std::memory_order_release); }
  SpinLock(const SpinLock&) = delete;
  SpinLock& operator=(const SpinLock&) = delete;

 private:
  std::atomic<std::uint8_t>& flag_;
};

}  // namespace embedding::hnsw
