// A test-only PostgreSQL module (never installed with the extension) whose SQL functions push
// errors across the C++/PostgreSQL boundary, for test/t/boundary.sh to check guarded()/pg_call().
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "core/common/error.h"
#include "pg/guard.h"
#include "pg/pg_call.h"

extern "C" {
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
}

extern "C" {
PG_MODULE_MAGIC;
}

namespace {

// How many Witness objects this backend has destroyed: the next call reads it to see that an
// error raised under a live Witness still ran its destructor.
std::int64_t destroyed = 0;

// A C++ object with a destructor (and a heap-owning member) alive while the error is raised.
class Witness {
 public:
  Witness() : name_(64, 'w') {}
  ~Witness() { ++destroyed; }
  Witness(const Witness&) = delete;
  Witness& operator=(const Witness&) = delete;
  std::size_t size() const { return name_.size(); }

 private:
  std::string name_;
};

using embedding::Error;
using embedding::ErrorCode;

}  // namespace

// An ereport(ERROR) raised through pg_call() under a live C++ object: 23514, the object destroyed.
EMB_FUNCTION(boundary_pg_error) {
  Witness witness;
  embedding::pg::pg_call([&] {
    ereport(ERROR, (errcode(ERRCODE_CHECK_VIOLATION), errmsg("boundary: PostgreSQL error"),
                    errdetail("raised under %zu bytes of C++ state", witness.size())));
  });
  return BoolGetDatum(false);
}

// A C++ exception thrown straight through the guard: 22023 with its detail.
EMB_FUNCTION(boundary_cpp_error) {
  Witness witness;
  throw Error(ErrorCode::kInvalidParameter, "boundary: C++ exception", "thrown under the guard");
  return BoolGetDatum(false);
}

// A C++ exception thrown by the function pg_call() runs, inside its PG_TRY block: 54000, and
// PostgreSQL's exception stack restored before it reaches the guard.
EMB_FUNCTION(boundary_cpp_in_pg_call) {
  Witness witness;
  embedding::pg::pg_call([] { throw Error(ErrorCode::kProgramLimit, "boundary: C++ in pg_call"); });
  return BoolGetDatum(false);
}

// A C++ exception thrown inside a PostgreSQL callback: the executor (through SPI) calls
// boundary_cpp_error(), whose guard turns the exception into an ereport that longjmps back through
// the executor's C frames to this function's pg_call, under a live C++ object.
EMB_FUNCTION(boundary_cpp_in_callback) {
  Witness witness;
  embedding::pg::pg_call([] {
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
    SPI_execute("SELECT boundary_cpp_error()", true, 0);
    SPI_finish();
  });
  return BoolGetDatum(false);
}

// A C++ loop that polls for interrupts under a live object until statement_timeout cancels it
// (57014); false if no cancel came within 10 s.
EMB_FUNCTION(boundary_interrupt) {
  Witness witness;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    embedding::pg::check_for_interrupts();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return BoolGetDatum(false);
}

EMB_FUNCTION(boundary_destroyed) { return Int64GetDatum(destroyed); }

// PostgreSQL's error-handling state seen by a top-level call: equal before and after the errors
// if none of them left a dangling exception or error-context frame or a held-off interrupt.
EMB_FUNCTION(boundary_state) {
  char text[160];
  snprintf(text, sizeof(text), "exception_stack=%p error_context=%p holdoff=%u crit=%u",
           static_cast<void*>(PG_exception_stack), static_cast<void*>(error_context_stack),
           InterruptHoldoffCount, CritSectionCount);
  return PointerGetDatum(cstring_to_text(text));
}
