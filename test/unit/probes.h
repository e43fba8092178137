// Probes for tests of bounded work: AllocProbe, the largest single heap allocation (operator new)
// made on the calling thread while it lives; CancelAtPoll, an interrupt poll that cancels; code_of.
#pragma once

#include <cstddef>
#include <optional>

#include "core/common/error.h"

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

// The code of the Error fn throws, or nullopt when it returns.
template <class Fn>
std::optional<ErrorCode> code_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& error) {
    return error.code();
  }
  return std::nullopt;
}

}  // namespace embedding::testing
