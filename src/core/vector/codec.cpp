// Text and binary codecs of the `vector` type (see codec.h). Messages match pgvector's exactly so
// that applications that match on them keep working.
#include "core/vector/codec.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/common/error.h"

namespace embedding::vec {
namespace {

// PostgreSQL's scanner_isspace set.
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

[[noreturn]] void invalid_syntax(const char* literal, std::string detail = {}) {
  throw Error(ErrorCode::kInvalidText,
              std::string("invalid input syntax for type vector: \"") + literal + "\"",
              std::move(detail));
}

std::uint32_t load_be32(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         std::uint32_t(p[3]);
}

}  // namespace

void check_dim(long dim) {
  if (dim < 1) throw Error(ErrorCode::kDataException, "vector must have at least 1 dimension");
  if (dim > kMaxDim)
    throw Error(ErrorCode::kProgramLimit,
                "vector cannot have more than " + std::to_string(kMaxDim) + " dimensions");
}

void check_expected_dim(int typmod, long dim) {
  if (typmod != -1 && typmod != dim)
    throw Error(ErrorCode::kDataException,
                "expected " + std::to_string(typmod) + " dimensions, not " + std::to_string(dim));
}

void check_element(float value) {
  if (std::isnan(value)) throw Error(ErrorCode::kDataException, "NaN not allowed in vector");
  if (std::isinf(value))
    throw Error(ErrorCode::kDataException, "infinite value not allowed in vector");
}

int text_capacity(const char* literal) {
  long commas = 0;
  for (const char* p = literal; *p; ++p) commas += (*p == ',');
  return static_cast<int>(std::min<long>(commas + 1, kMaxDim + 1));
}

int parse_text(const char* literal, float* out, int capacity) {
  const char* p = literal;
  while (is_space(*p)) ++p;
  if (*p != '[') invalid_syntax(literal, "Vector contents must start with \"[\".");
  ++p;
  while (is_space(*p)) ++p;
  if (*p == ']') throw Error(ErrorCode::kDataException, "vector must have at least 1 dimension");

  int dim = 0;
  for (;;) {
    if (dim == kMaxDim) check_dim(kMaxDim + 1);
    while (is_space(*p)) ++p;
    if (*p == '\0') invalid_syntax(literal);
    // strtof in the C locale accepts exactly what pgvector accepts (exponents, hex, "nan", "inf").
    char* end = nullptr;
    errno = 0;
    float value = std::strtof(p, &end);
    if (end == p) invalid_syntax(literal);
    if (errno == ERANGE && std::isinf(value))
      throw Error(ErrorCode::kOutOfRange,
                  "\"" + std::string(p, end - p) + "\" is out of range for type vector");
    check_element(value);
    if (dim >= capacity) throw Error(ErrorCode::kInternal, "vector parse buffer too small");
    out[dim++] = value;
    p = end;
    while (is_space(*p)) ++p;
    if (*p == ',') {
      ++p;
    } else if (*p == ']') {
      ++p;
      break;
    } else {
      invalid_syntax(literal);
    }
  }
  while (is_space(*p)) ++p;
  if (*p != '\0') invalid_syntax(literal, "Junk after closing right brace.");
  return dim;
}

std::size_t format_float(float value, char* out) {
  char sci[32];
  auto res = std::to_chars(sci, sci + sizeof sci, value, std::chars_format::scientific);
  std::size_t len = static_cast<std::size_t>(res.ptr - sci);
  // Shortest round-trip digits come back as [-]d[.ddd]e±XX; PostgreSQL prints exponents in [-4, 6)
  // in fixed notation, like printf's %g.
  const char* e = static_cast<const char*>(std::memchr(sci, 'e', len));
  if (!e) {  // inf/nan never reach here (rejected on input), but stay total
    std::memcpy(out, sci, len);
    return len;
  }
  int exponent = 0;
  const char* exp_begin = e + 1 + (e[1] == '+');  // from_chars takes '-' but not '+'
  std::from_chars(exp_begin, sci + len, exponent);
  if (exponent < -4 || exponent >= 6) {
    std::memcpy(out, sci, len);
    return len;
  }
  char digits[16];
  int ndigits = 0;
  const char* p = sci;
  char* o = out;
  if (*p == '-') *o++ = *p++;
  for (; p < e; ++p)
    if (*p != '.') digits[ndigits++] = *p;
  if (ndigits == 1 && digits[0] == '0') {
    *o++ = '0';
    return static_cast<std::size_t>(o - out);
  }
  if (exponent < 0) {
    *o++ = '0';
    *o++ = '.';
    for (int i = 0; i < -exponent - 1; ++i) *o++ = '0';
    for (int i = 0; i < ndigits; ++i) *o++ = digits[i];
  } else {
    for (int i = 0; i <= exponent; ++i) *o++ = i < ndigits ? digits[i] : '0';
    if (ndigits > exponent + 1) {
      *o++ = '.';
      for (int i = exponent + 1; i < ndigits; ++i) *o++ = digits[i];
    }
  }
  return static_cast<std::size_t>(o - out);
}

std::size_t format_text(const float* x, int n, char* out) {
  char* o = out;
  *o++ = '[';
  for (int i = 0; i < n; ++i) {
    if (i > 0) *o++ = ',';
    o += format_float(x[i], o);
  }
  *o++ = ']';
  return static_cast<std::size_t>(o - out);
}

int decode_binary_header(const unsigned char* data, std::size_t len, int typmod) {
  if (len < 4) throw Error(ErrorCode::kProtocolViolation, "insufficient data left in message");
  int dim = static_cast<std::int16_t>((data[0] << 8) | data[1]);
  int unused = static_cast<std::int16_t>((data[2] << 8) | data[3]);
  check_dim(dim);
  check_expected_dim(typmod, dim);
  if (unused != 0)
    throw Error(ErrorCode::kDataException,
                "expected unused to be 0, not " + std::to_string(unused));
  if (len < binary_size(dim))
    throw Error(ErrorCode::kProtocolViolation, "insufficient data left in message");
  return dim;
}

void decode_binary_elements(const unsigned char* data, std::size_t len, float* out, int dim) {
  if (len < binary_size(dim))
    throw Error(ErrorCode::kProtocolViolation, "insufficient data left in message");
  const unsigned char* p = data + 4;
  for (int i = 0; i < dim; ++i, p += 4) {
    std::uint32_t bits = load_be32(p);
    float value;
    std::memcpy(&value, &bits, sizeof value);
    check_element(value);
    out[i] = value;
  }
}

void encode_binary(const float* x, int dim, unsigned char* out) {
  out[0] = static_cast<unsigned char>((dim >> 8) & 0xff);
  out[1] = static_cast<unsigned char>(dim & 0xff);
  out[2] = out[3] = 0;
  unsigned char* p = out + 4;
  for (int i = 0; i < dim; ++i, p += 4) {
    std::uint32_t bits;
    std::memcpy(&bits, &x[i], sizeof bits);
    p[0] = static_cast<unsigned char>(bits >> 24);
    p[1] = static_cast<unsigned char>(bits >> 16);
    p[2] = static_cast<unsigned char>(bits >> 8);
    p[3] = static_cast<unsigned char>(bits);
  }
}

}  // namespace embedding::vec
