// Error: the one exception type the core throws. It carries a category that the
// PostgreSQL glue maps to a SQLSTATE (src/pg/errors.cpp), a message and an optional detail.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace embedding {

enum class ErrorCode {
  kInvalidText,        // malformed literal (22P02)
  kDataException,      // bad value: NaN, dimension mismatch (22000)
  kInvalidParameter,   // bad argument value (22023)
  kOutOfRange,         // numeric value out of range (22003)
  kProgramLimit,       // limit exceeded, e.g. too many dimensions (54000)
  kPermission,         // permission denied (42501)
  kOutOfMemory,        // (53200)
  kCancelled,          // query cancelled (57014)
  kCorruptData,        // corrupt file or page (XX001)
  kUndefinedObject,    // unknown model etc. (42704)
  kNullValue,          // null where not allowed (22004)
  kDuplicateObject,    // already exists (42710)
  kIoError,            // file access (58030)
  kProtocolViolation,  // malformed binary message (08P01)
  kFeature,            // feature not supported (0A000)
  kInternal,           // bug (XX000)
};

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message, std::string detail = {})
      : std::runtime_error(std::move(message)), code_(code), detail_(std::move(detail)) {}
  ErrorCode code() const noexcept { return code_; }
  const std::string& detail() const noexcept { return detail_; }

 private:
  ErrorCode code_;
  std::string detail_;
};

}  // namespace embedding
