// Running PostgreSQL calls underneath live C++ objects, and tying C++ objects to memory contexts.
// pg_call() turns an ereport into a C++ exception (so destructors run); guarded() re-raises it.
#pragma once

#include <exception>
#include <new>
#include <utility>

#include "pg/guard.h"

extern "C" {
#include "utils/memutils.h"
}

namespace embedding::pg {

// A PostgreSQL error in flight as a C++ exception; the guard re-raises the saved ErrorData.
class PgError : public std::exception {
 public:
  explicit PgError(ErrorData* data) : data_(data) {}
  ErrorData* data() const { return data_; }
  const char* what() const noexcept override { return "PostgreSQL error"; }

 private:
  ErrorData* data_;
};

// Saves the current error (inside PG_CATCH), clears PostgreSQL's error state, and throws it.
[[noreturn]] void throw_current_pg_error(MemoryContext context);

// Runs fn(), a PostgreSQL call that may ereport, and converts an error into PgError. A C++
// exception thrown by fn() is caught inside the PG_TRY block, so PG_END_TRY restores
// PostgreSQL's exception and error-context stacks before it is rethrown.
template <typename Fn>
void pg_call(Fn&& fn) {
  MemoryContext context = CurrentMemoryContext;
  bool failed = false;
  std::exception_ptr thrown;  // in this frame, which a longjmp lands in rather than skips
  PG_TRY();
  {
    try {
      fn();
    } catch (...) {
      thrown = std::current_exception();
    }
  }
  PG_CATCH();
  { failed = true; }
  PG_END_TRY();
  if (thrown) std::rethrow_exception(thrown);
  if (failed) throw_current_pg_error(context);
}

// The one interrupt check of the glue: CHECK_FOR_INTERRUPTS() turned into a C++ exception
// (PgError), so it is safe with C++ objects on the stack. The core's poll_interrupts() calls it on
// the backend's thread (module.cpp).
void check_for_interrupts();

// Allocates a T with new and deletes it when `context` is reset or deleted, so an error that
// longjmps past its owner does not leak it (memory, threads, file mappings).
template <typename T, typename... Args>
T* new_owned(MemoryContext context, Args&&... args) {
  struct Holder {
    MemoryContextCallback callback;
    T* object;
  };
  auto* holder = static_cast<Holder*>(MemoryContextAllocZero(context, sizeof(Holder)));
  holder->object = new T(std::forward<Args>(args)...);
  holder->callback.func = [](void* arg) {
    auto* h = static_cast<Holder*>(arg);
    delete h->object;
    h->object = nullptr;
  };
  holder->callback.arg = holder;
  MemoryContextRegisterResetCallback(context, &holder->callback);
  return holder->object;
}

}  // namespace embedding::pg
