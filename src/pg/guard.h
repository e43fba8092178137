// The error boundary between the C++ core and PostgreSQL: every extern "C" entry point runs its
// body through guarded(), which turns any C++ exception into ereport(ERROR) after C++ destructors
// have run.
#pragma once

extern "C" {
#include "postgres.h"

#include "fmgr.h"
}

#include <utility>

namespace embedding::pg {

// An error caught from C++, copied into palloc'd memory so no C++ object outlives the catch block.
struct CapturedError {
  int sqlstate;
  const char* message;
  const char* detail;
  const char* hint;
  ErrorData* pg_error;  // a PostgreSQL error carried through C++ frames (pg_call.h)
};

// Must be called from inside a catch block; never throws, never ereports.
void capture_current_exception(CapturedError* out) noexcept;
[[noreturn]] void raise_captured(const CapturedError& error);

// Runs body(); C++ exceptions become PostgreSQL errors. body must not keep
// non-trivially-destructible locals alive across PostgreSQL calls that can ereport (those longjmp).
template <typename Body>
auto guarded(Body&& body) -> decltype(body()) {
  CapturedError error;
  try {
    return std::forward<Body>(body)();
  } catch (...) {
    capture_current_exception(&error);
  }
  raise_captured(error);
}

}  // namespace embedding::pg

// Declares a V1 SQL-callable function whose body runs inside the guard. Usage:
//   EMB_FUNCTION(vector_dims) { ...; return Int32GetDatum(n); }
#define EMB_FUNCTION(name)                                                  \
  static Datum name##_body(FunctionCallInfo fcinfo);                        \
  extern "C" {                                                              \
  PG_FUNCTION_INFO_V1(name);                                                \
  Datum name(PG_FUNCTION_ARGS) {                                            \
    return ::embedding::pg::guarded([&]() { return name##_body(fcinfo); }); \
  }                                                                         \
  }                                                                         \
  static Datum name##_body(FunctionCallInfo fcinfo)
