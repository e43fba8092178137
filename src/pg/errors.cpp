// Maps core errors to SQLSTATEs (the one table) and re-raises captured C++ exceptions as
// PostgreSQL errors.
#include <cstring>
#include <exception>
#include <new>

#include "core/common/error.h"
#include "pg/guard.h"
#include "pg/pg_call.h"

extern "C" {
#include "miscadmin.h"
#include "utils/elog.h"
#include "utils/memutils.h"
}

namespace embedding::pg {
namespace {

struct CodeMapping {
  ErrorCode code;
  int sqlstate;
};

const CodeMapping kMappings[] = {
    {ErrorCode::kInvalidText, ERRCODE_INVALID_TEXT_REPRESENTATION},
    {ErrorCode::kDataException, ERRCODE_DATA_EXCEPTION},
    {ErrorCode::kInvalidParameter, ERRCODE_INVALID_PARAMETER_VALUE},
    {ErrorCode::kOutOfRange, ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE},
    {ErrorCode::kProgramLimit, ERRCODE_PROGRAM_LIMIT_EXCEEDED},
    {ErrorCode::kPermission, ERRCODE_INSUFFICIENT_PRIVILEGE},
    {ErrorCode::kOutOfMemory, ERRCODE_OUT_OF_MEMORY},
    {ErrorCode::kCancelled, ERRCODE_QUERY_CANCELED},
    {ErrorCode::kCorruptData, ERRCODE_DATA_CORRUPTED},
    {ErrorCode::kUndefinedObject, ERRCODE_UNDEFINED_OBJECT},
    {ErrorCode::kNullValue, ERRCODE_NULL_VALUE_NOT_ALLOWED},
    {ErrorCode::kDuplicateObject, ERRCODE_DUPLICATE_OBJECT},
    {ErrorCode::kIoError, ERRCODE_IO_ERROR},
    {ErrorCode::kProtocolViolation, ERRCODE_PROTOCOL_VIOLATION},
    {ErrorCode::kFeature, ERRCODE_FEATURE_NOT_SUPPORTED},
    {ErrorCode::kInternal, ERRCODE_INTERNAL_ERROR},
};

int sqlstate_for(ErrorCode code) {
  for (const auto& m : kMappings)
    if (m.code == code) return m.sqlstate;
  return ERRCODE_INTERNAL_ERROR;
}

// Copies into the current memory context without ever raising an error; nullptr on failure.
const char* copy_text(const char* text) {
  if (text == nullptr || *text == '\0') return nullptr;
  std::size_t len = std::strlen(text);
  char* copy = static_cast<char*>(
      MemoryContextAllocExtended(CurrentMemoryContext, len + 1, MCXT_ALLOC_NO_OOM));
  if (copy == nullptr) return "out of memory while reporting an error";
  std::memcpy(copy, text, len + 1);
  return copy;
}

}  // namespace

void capture_current_exception(CapturedError* out) noexcept {
  out->sqlstate = ERRCODE_INTERNAL_ERROR;
  out->message = "unknown C++ exception";
  out->detail = nullptr;
  out->hint = nullptr;
  out->pg_error = nullptr;
  try {
    throw;
  } catch (const PgError& e) {
    out->pg_error = e.data();
  } catch (const Error& e) {
    out->sqlstate = sqlstate_for(e.code());
    out->message = copy_text(e.what());
    out->detail = copy_text(e.detail().c_str());
  } catch (const std::bad_alloc&) {
    out->sqlstate = ERRCODE_OUT_OF_MEMORY;
    out->message = "out of memory";
  } catch (const std::exception& e) {
    out->message = copy_text(e.what());
  } catch (...) {
  }
  if (out->message == nullptr) out->message = "internal error";
}

void raise_captured(const CapturedError& error) {
  if (error.pg_error != nullptr) ReThrowError(error.pg_error);
  ereport(ERROR, (errcode(error.sqlstate), errmsg_internal("%s", error.message),
                  error.detail ? errdetail_internal("%s", error.detail) : 0,
                  error.hint ? errhint("%s", error.hint) : 0));
  pg_unreachable();
}

void throw_current_pg_error(MemoryContext context) {
  MemoryContextSwitchTo(context);
  ErrorData* data = CopyErrorData();
  FlushErrorState();
  throw PgError(data);
}

void check_for_interrupts() {
  if (INTERRUPTS_PENDING_CONDITION()) pg_call([] { CHECK_FOR_INTERRUPTS(); });
}

}  // namespace embedding::pg
