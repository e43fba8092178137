// Threads of the core start inside BlockSignals: with every signal blocked, so that PostgreSQL's
// signals reach only the backend's own thread.
#pragma once

#include <pthread.h>

#include <csignal>

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

}  // namespace embedding
