// poll_interrupts(): what long core loops call so that a query cancel or statement_timeout stops
// them. The PostgreSQL glue installs a poll for the backend thread (it throws to unwind the
// loop); other threads and plain unit tests have none, so for them the call does nothing.
#pragma once

#include <cstdint>

namespace embedding {

using InterruptPoll = void (*)();

// The poll of the calling thread (thread_local, so worker threads never run the glue's poll).
inline thread_local InterruptPoll tls_interrupt_poll = nullptr;

inline void set_interrupt_poll(InterruptPoll poll) noexcept { tls_interrupt_poll = poll; }

// Calls the thread's poll, which may throw (a cancel becomes an exception that unwinds the core).
inline void poll_interrupts() {
  if (tls_interrupt_poll != nullptr) tls_interrupt_poll();
}

// For loops whose iterations are cheap: polls once in `1 << shift` iterations.
template <unsigned Shift = 12>
inline void poll_interrupts_every(std::uint64_t iteration) {
  if ((iteration & ((std::uint64_t{1} << Shift) - 1)) == 0) poll_interrupts();
}

}  // namespace embedding
