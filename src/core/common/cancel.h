// CancelToken: a flag one thread sets and core loops poll, so that a query cancel in the
// backend reaches worker threads (index build, training) and stops them within a second.
#pragma once

#include <atomic>

#include "core/common/error.h"

namespace embedding {

class CancelToken {
 public:
  CancelToken() = default;
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;

  void cancel() noexcept { cancelled_.store(true, std::memory_order_relaxed); }
  void reset() noexcept { cancelled_.store(false, std::memory_order_relaxed); }
  bool cancelled() const noexcept { return cancelled_.load(std::memory_order_relaxed); }

  // Throws Error(kCancelled) once cancel() has been called.
  void check() const {
    if (cancelled()) throw Error(ErrorCode::kCancelled, "canceling statement due to user request");
  }

 private:
  std::atomic<bool> cancelled_{false};
};

}  // namespace embedding
