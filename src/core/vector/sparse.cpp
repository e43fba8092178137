// sparsevec's checks, codecs, distances and ordering (see sparse.h), with pgvector's messages.
#include "core/vector/sparse.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/common/error.h"
#include "core/vector/codec.h"

namespace embedding::vec {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

[[noreturn]] void invalid_syntax(const char* literal, std::string detail = {}) {
  throw Error(ErrorCode::kInvalidText,
              std::string("invalid input syntax for type sparsevec: \"") + literal + "\"",
              std::move(detail));
}

std::uint32_t load_be32(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         std::uint32_t(p[3]);
}

void store_be32(std::uint32_t v, unsigned char* p) {
  p[0] = static_cast<unsigned char>(v >> 24);
  p[1] = static_cast<unsigned char>(v >> 16);
  p[2] = static_cast<unsigned char>(v >> 8);
  p[3] = static_cast<unsigned char>(v);
}

// Walks the union of both index lists in ascending order: on(a_value, b_value) per position
// where either is non-zero (the other 0).
template <class On>
void merge(const SparseView& a, const SparseView& b, On on) {
  int i = 0, j = 0;
  while (i < a.nnz && j < b.nnz) {
    if (a.indices[i] == b.indices[j]) {
      on(a.values[i++], b.values[j++]);
    } else if (a.indices[i] < b.indices[j]) {
      on(a.values[i++], 0.0f);
    } else {
      on(0.0f, b.values[j++]);
    }
  }
  for (; i < a.nnz; ++i) on(a.values[i], 0.0f);
  for (; j < b.nnz; ++j) on(0.0f, b.values[j]);
}

}  // namespace

void check_sparse_dim(long dim) {
  if (dim < 1) throw Error(ErrorCode::kDataException, "sparsevec must have at least 1 dimension");
  if (dim > kMaxSparseDim)
    throw Error(ErrorCode::kProgramLimit,
                "sparsevec cannot have more than " + std::to_string(kMaxSparseDim) + " dimensions");
}

void check_sparse_nnz(long nnz, long dim) {
  if (nnz < 0)
    throw Error(ErrorCode::kDataException, "sparsevec cannot have negative number of elements");
  if (nnz > kMaxSparseNnz)
    throw Error(ErrorCode::kProgramLimit, "sparsevec cannot have more than " +
                                              std::to_string(kMaxSparseNnz) + " non-zero elements");
  if (nnz > dim)
    throw Error(ErrorCode::kProgramLimit, "sparsevec cannot have more elements than dimensions");
}

void check_sparse_index(const std::int32_t* indices, int i, long dim) {
  if (indices[i] < 0 || indices[i] >= dim)
    throw Error(ErrorCode::kDataException, "sparsevec index out of bounds");
  if (i > 0 && indices[i] < indices[i - 1])
    throw Error(ErrorCode::kDataException, "sparsevec indices must be in ascending order");
  if (i > 0 && indices[i] == indices[i - 1])
    throw Error(ErrorCode::kDataException, "sparsevec indices must not contain duplicates");
}

void check_sparse_element(float value) {
  if (std::isnan(value)) throw Error(ErrorCode::kDataException, "NaN not allowed in sparsevec");
  if (std::isinf(value))
    throw Error(ErrorCode::kDataException, "infinite value not allowed in sparsevec");
}

int sparse_text_capacity(const char* literal) {
  long commas = 0;
  for (const char* p = literal; *p; ++p) commas += (*p == ',');
  if (commas + 1 > kMaxSparseNnz) check_sparse_nnz(commas + 1, LONG_MAX);
  return static_cast<int>(commas + 1);
}

int parse_sparse_text(const char* literal, std::int32_t* indices, float* values, int capacity,
                      long* dim_out) {
  const char* p = literal;
  while (is_space(*p)) ++p;
  if (*p != '{') invalid_syntax(literal, "Vector contents must start with \"{\".");
  ++p;
  while (is_space(*p)) ++p;
  int nnz = 0;
  if (*p == '}') {
    ++p;
  } else {
    for (;;) {
      if (nnz == capacity)
        throw Error(ErrorCode::kInvalidText, std::string("ran out of buffer: \"") + literal + "\"");
      while (is_space(*p)) ++p;
      if (*p == '\0') invalid_syntax(literal);
      char* end = nullptr;
      long index = std::strtol(p, &end, 10);
      if (end == p) invalid_syntax(literal);
      // Clamped into int range (as pgvector) so that the bounds check reports it.
      if (index > INT_MAX) index = INT_MAX;
      if (index < INT_MIN + 1) index = INT_MIN + 1;
      p = end;
      while (is_space(*p)) ++p;
      if (*p != ':') invalid_syntax(literal);
      ++p;
      while (is_space(*p)) ++p;
      errno = 0;
      const float value = std::strtof(p, &end);
      if (end == p) invalid_syntax(literal);
      if (errno == ERANGE && (value == 0 || std::isinf(value)))
        throw Error(ErrorCode::kOutOfRange,
                    "\"" + std::string(p, end - p) + "\" is out of range for type sparsevec");
      check_sparse_element(value);
      if (value != 0) {
        indices[nnz] = static_cast<std::int32_t>(index - 1);
        values[nnz] = value;
        ++nnz;
      }
      p = end;
      while (is_space(*p)) ++p;
      if (*p == ',') {
        ++p;
      } else if (*p == '}') {
        ++p;
        break;
      } else {
        invalid_syntax(literal);
      }
    }
  }
  while (is_space(*p)) ++p;
  if (*p != '/') invalid_syntax(literal, "Unexpected end of input.");
  ++p;
  while (is_space(*p)) ++p;
  char* end = nullptr;
  long dim = std::strtol(p, &end, 10);
  if (end == p) invalid_syntax(literal);
  if (dim > INT_MAX) dim = INT_MAX;
  if (dim < INT_MIN) dim = INT_MIN;
  p = end;
  while (is_space(*p)) ++p;
  if (*p != '\0') invalid_syntax(literal, "Junk after closing.");
  check_sparse_dim(dim);
  // Indices may come in any order (as pgvector): sort the pairs by index, in place and without
  // allocating (a shell sort; literals are usually ascending already, and then it is skipped).
  // Equal indices end up adjacent and are refused as duplicates below.
  for (int i = 1; i < nnz; ++i) {
    if (indices[i] >= indices[i - 1]) continue;
    for (int gap = nnz / 2; gap > 0; gap /= 2)
      for (int k = gap; k < nnz; ++k)
        for (int m = k; m >= gap && indices[m - gap] > indices[m]; m -= gap) {
          std::swap(indices[m - gap], indices[m]);
          std::swap(values[m - gap], values[m]);
        }
    break;
  }
  for (int i = 0; i < nnz; ++i) check_sparse_index(indices, i, dim);
  *dim_out = dim;
  return nnz;
}

std::size_t sparse_text_bound(int nnz) {
  // Per element: 11 for the index, ':', kMaxElementChars for the value (with its ','); then
  // '{', '}', '/', 11 for dim.
  return static_cast<std::size_t>(nnz) * (12 + kMaxElementChars) + 16;
}

std::size_t format_sparse_text(const SparseView& v, char* out) {
  char* o = out;
  *o++ = '{';
  for (int i = 0; i < v.nnz; ++i) {
    if (i > 0) *o++ = ',';
    o += std::snprintf(o, 12, "%d", static_cast<int>(v.indices[i]) + 1);
    *o++ = ':';
    o += format_float(v.values[i], o);
  }
  *o++ = '}';
  *o++ = '/';
  o += std::snprintf(o, 12, "%d", static_cast<int>(v.dim));
  return static_cast<std::size_t>(o - out);
}

int decode_sparse_header(const unsigned char* data, std::size_t len, int typmod, long* dim) {
  if (len < 12) throw Error(ErrorCode::kProtocolViolation, "insufficient data left in message");
  const auto d = static_cast<std::int32_t>(load_be32(data));
  const auto nnz = static_cast<std::int32_t>(load_be32(data + 4));
  const auto unused = static_cast<std::int32_t>(load_be32(data + 8));
  check_sparse_dim(d);
  check_sparse_nnz(nnz, d);
  check_expected_dim(typmod, d);
  if (unused != 0)
    throw Error(ErrorCode::kDataException,
                "expected unused to be 0, not " + std::to_string(unused));
  if (len < sparse_binary_size(nnz))
    throw Error(ErrorCode::kProtocolViolation, "insufficient data left in message");
  *dim = d;
  return nnz;
}

void decode_sparse_elements(const unsigned char* data, std::size_t len, int nnz, long dim,
                            std::int32_t* indices, float* values) {
  if (len < sparse_binary_size(nnz))
    throw Error(ErrorCode::kProtocolViolation, "insufficient data left in message");
  const unsigned char* p = data + 12;
  for (int i = 0; i < nnz; ++i, p += 4) {
    indices[i] = static_cast<std::int32_t>(load_be32(p));
    check_sparse_index(indices, i, dim);
  }
  for (int i = 0; i < nnz; ++i, p += 4) {
    const std::uint32_t bits = load_be32(p);
    std::memcpy(&values[i], &bits, sizeof(float));
    check_sparse_element(values[i]);
    if (values[i] == 0)
      throw Error(ErrorCode::kDataException,
                  "binary representation of sparsevec cannot contain zero values");
  }
}

void encode_sparse_binary(const SparseView& v, unsigned char* out) {
  store_be32(static_cast<std::uint32_t>(v.dim), out);
  store_be32(static_cast<std::uint32_t>(v.nnz), out + 4);
  store_be32(0, out + 8);
  unsigned char* p = out + 12;
  for (int i = 0; i < v.nnz; ++i, p += 4) store_be32(static_cast<std::uint32_t>(v.indices[i]), p);
  for (int i = 0; i < v.nnz; ++i, p += 4) {
    std::uint32_t bits;
    std::memcpy(&bits, &v.values[i], sizeof bits);
    store_be32(bits, p);
  }
}

float sparse_l2_squared(const SparseView& a, const SparseView& b) {
  float sum = 0.0f;
  merge(a, b, [&](float x, float y) {
    const float diff = x - y;
    sum += diff * diff;
  });
  return sum;
}

float sparse_dot(const SparseView& a, const SparseView& b) {
  // Only shared indices contribute: advance the other list by galloping-free merging.
  float sum = 0.0f;
  int i = 0, j = 0;
  while (i < a.nnz && j < b.nnz) {
    if (a.indices[i] == b.indices[j]) {
      sum += a.values[i++] * b.values[j++];
    } else if (a.indices[i] < b.indices[j]) {
      ++i;
    } else {
      ++j;
    }
  }
  return sum;
}

float sparse_l1(const SparseView& a, const SparseView& b) {
  float sum = 0.0f;
  merge(a, b, [&](float x, float y) { sum += std::fabs(x - y); });
  return sum;
}

double sparse_cosine_distance(const SparseView& a, const SparseView& b) {
  float norm_a = 0.0f, norm_b = 0.0f;
  for (int i = 0; i < a.nnz; ++i) norm_a += a.values[i] * a.values[i];
  for (int i = 0; i < b.nnz; ++i) norm_b += b.values[i] * b.values[i];
  double similarity = static_cast<double>(sparse_dot(a, b)) /
                      std::sqrt(static_cast<double>(norm_a) * static_cast<double>(norm_b));
  if (std::isnan(similarity)) return similarity;
  if (similarity > 1.0) similarity = 1.0;
  if (similarity < -1.0) similarity = -1.0;
  return 1.0 - similarity;
}

double sparse_norm(const SparseView& a) {
  double sum = 0.0;
  for (int i = 0; i < a.nnz; ++i)
    sum += static_cast<double>(a.values[i]) * static_cast<double>(a.values[i]);
  return std::sqrt(sum);
}

int sparse_compare(const SparseView& a, const SparseView& b) {
  const std::int32_t common = std::min(a.dim, b.dim);
  int i = 0, j = 0;
  // The first position below `common` where the dense vectors differ decides.
  for (;;) {
    const std::int32_t ai = i < a.nnz ? a.indices[i] : INT32_MAX;
    const std::int32_t bj = j < b.nnz ? b.indices[j] : INT32_MAX;
    const std::int32_t at = std::min(ai, bj);
    if (at >= common) break;
    const float x = ai == at ? a.values[i++] : 0.0f;
    const float y = bj == at ? b.values[j++] : 0.0f;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return a.dim < b.dim ? -1 : a.dim > b.dim ? 1 : 0;
}

}  // namespace embedding::vec
