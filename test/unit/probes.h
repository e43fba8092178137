// Probes for tests of bounded work: AllocProbe, the largest single heap allocation (operator new)
// made on the calling thread while it lives; CancelAtPoll, an interrupt poll that cancels.
#pragma once

#include <cstddef>

namespace embedding::testing {

class AllocProbe {
 public:
  AllocProbe();
  ~AllocProbe();
  AllocProbe(const AllocProbe&) = delete;
  AllocProbe& operator=(const AllocProbe&) = delete;

  // The size of the largest allocation so far (bytes).
  std::size_t largest() const;
};

// While it lives, the thread's interrupt poll throws Error(kCancelled) at its `polls`-th call.
class CancelAtPoll {
 public:
  explicit CancelAtPoll(int polls);
  ~CancelAtPoll();
  CancelAtPoll(const CancelAtPoll&) = delete;
  CancelAtPoll& operator=(const CancelAtPoll&) = delete;
};

}  // namespace embedding::testing
