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
#include "core/vector/half.h"
#include "core/vector/sparse.h"

namespace embedding::vec {
namespace {

// PostgreSQL's scanner_isspace set.
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

[[noreturn]] void invalid_syntax(Element element, const char* literal, std::string detail = {}) {
  throw Error(
      ErrorCode::kInvalidText,
      std::string("invalid input syntax for type ") + type_name(element) + ": \"" + literal + "\"",
      std::move(detail));
}

[[noreturn]] void out_of_range(Element element, const char* begin, const char* end) {
  throw Error(ErrorCode::kOutOfRange, "\"" + std::string(begin, end - begin) +
                                          "\" is out of range for type " + type_name(element));
}

std::uint32_t load_be32(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         std::uint32_t(p[3]);
}

}  // namespace

const char* type_name(Element element) {
  switch (element) {
    case Element::kFloat16:
      return "halfvec";
    case Element::kSparse:
      return "sparsevec";
    case Element::kFloat32:
      break;
  }
  return "vector";
}

void check_dim(long dim, Element element) {
  if (element == Element::kSparse) return check_sparse_dim(dim);
  if (dim < 1)
    throw Error(ErrorCode::kDataException,
                std::string(type_name(element)) + " must have at least 1 dimension");
  if (dim > kMaxDim)
    throw Error(ErrorCode::kProgramLimit, std::string(type_name(element)) +
                                              " cannot have more than " + std::to_string(kMaxDim) +
                                              " dimensions");
}

void check_expected_dim(int typmod, long dim) {
  if (typmod != -1 && typmod != dim)
    throw Error(ErrorCode::kDataException,
                "expected " + std::to_string(typmod) + " dimensions, not " + std::to_string(dim));
}

void check_element(float value, Element element) {
  if (std::isnan(value))
    throw Error(ErrorCode::kDataException, std::string("NaN not allowed in ") + type_name(element));
  if (std::isinf(value))
    throw Error(ErrorCode::kDataException,
                std::string("infinite value not allowed in ") + type_name(element));
}

std::uint16_t to_half(float value) {
  const Half half = float_to_half(value);
  if (half_is_inf(half) && !std::isinf(value)) {
    char text[kMaxElementChars + 1];
    const std::size_t len = format_float(value, text);
    out_of_range(Element::kFloat16, text, text + len);
  }
  return half;
}

int text_capacity(const char* literal) {
  long commas = 0;
  for (const char* p = literal; *p; ++p) commas += (*p == ',');
  return static_cast<int>(std::min<long>(commas + 1, kMaxDim + 1));
}

int parse_text(const char* literal, float* out, int capacity, Element element) {
  const char* p = literal;
  while (is_space(*p)) ++p;
  if (*p != '[') invalid_syntax(element, literal, "Vector contents must start with \"[\".");
  ++p;
  while (is_space(*p)) ++p;
  if (*p == ']') check_dim(0, element);

  int dim = 0;
  for (;;) {
    if (dim == kMaxDim) check_dim(kMaxDim + 1, element);
    while (is_space(*p)) ++p;
    if (*p == '\0') invalid_syntax(element, literal);
    // strtof in the C locale accepts exactly what pgvector accepts (exponents, hex, "nan", "inf").
    char* end = nullptr;
    errno = 0;
    float value = std::strtof(p, &end);
    if (end == p) invalid_syntax(element, literal);
    if (errno == ERANGE && std::isinf(value)) out_of_range(element, p, end);
    if (element == Element::kFloat16) {
      const Half half = float_to_half(value);
      if (half_is_inf(half) && !std::isinf(value)) out_of_range(element, p, end);
      value = half_to_float(half);
    }
    check_element(value, element);
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
      invalid_syntax(element, literal);
    }
  }
  while (is_space(*p)) ++p;
  if (*p != '\0') invalid_syntax(element, literal, "Junk after closing right brace.");
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

int decode_binary_header(const unsigned char* data, std::size_t len, int typmod, Element element) {
  if (len < 4) throw Error(ErrorCode::kProtocolViolation, "insufficient data left in message");
  int dim = static_cast<std::int16_t>((data[0] << 8) | data[1]);
  int unused = static_cast<std::int16_t>((data[2] << 8) | data[3]);
  check_dim(dim, element);
  check_expected_dim(typmod, dim);
  if (unused != 0)
    throw Error(ErrorCode::kDataException,
                "expected unused to be 0, not " + std::to_string(unused));
  if (len < binary_size(dim, element))
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

void decode_binary_halfs(const unsigned char* data, std::size_t len, std::uint16_t* out, int dim) {
  if (len < binary_size(dim, Element::kFloat16))
    throw Error(ErrorCode::kProtocolViolation, "insufficient data left in message");
  const unsigned char* p = data + 4;
  for (int i = 0; i < dim; ++i, p += 2) {
    const auto half = static_cast<Half>((p[0] << 8) | p[1]);
    check_element(half_to_float(half), Element::kFloat16);
    out[i] = half;
  }
}

void encode_binary_halfs(const std::uint16_t* x, int dim, unsigned char* out) {
  out[0] = static_cast<unsigned char>((dim >> 8) & 0xff);
  out[1] = static_cast<unsigned char>(dim & 0xff);
  out[2] = out[3] = 0;
  unsigned char* p = out + 4;
  for (int i = 0; i < dim; ++i, p += 2) {
    p[0] = static_cast<unsigned char>(x[i] >> 8);
    p[1] = static_cast<unsigned char>(x[i]);
  }
}

}  // namespace embedding::vec
