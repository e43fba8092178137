// Element-wise vector arithmetic and aggregate state (see arith.h).
#include "core/vector/arith.h"

#include <cmath>

#include "core/common/error.h"
#include "core/vector/half.h"

namespace embedding::vec {
namespace {

[[noreturn]] void overflow() {
  throw Error(ErrorCode::kOutOfRange, "value out of range: overflow");
}

}  // namespace

void elementwise(ElementOp op, const float* a, const float* b, float* out, std::size_t n) {
  switch (op) {
    case ElementOp::kAdd:
      for (std::size_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
      break;
    case ElementOp::kSub:
      for (std::size_t i = 0; i < n; ++i) out[i] = a[i] - b[i];
      break;
    case ElementOp::kMul:
      for (std::size_t i = 0; i < n; ++i) out[i] = a[i] * b[i];
      break;
  }
  // Checked in a second pass so the loops above stay vectorisable.
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isinf(out[i])) overflow();
    if (op == ElementOp::kMul && out[i] == 0 && a[i] != 0 && b[i] != 0)
      throw Error(ErrorCode::kOutOfRange, "value out of range: underflow");
  }
}

int compare(const float* a, int na, const float* b, int nb) {
  int n = na < nb ? na : nb;
  for (int i = 0; i < n; ++i) {
    if (a[i] < b[i]) return -1;
    if (a[i] > b[i]) return 1;
  }
  return na < nb ? -1 : (na > nb ? 1 : 0);
}

void accumulate(double* state, std::size_t n, const float* x) {
  state[0] += 1.0;
  for (std::size_t i = 0; i < n; ++i) state[i + 1] += x[i];
  for (std::size_t i = 0; i < n; ++i)
    if (std::isinf(state[i + 1])) overflow();
}

void combine(double* state_a, const double* state_b, std::size_t n) {
  for (std::size_t i = 0; i <= n; ++i) state_a[i] += state_b[i];
  for (std::size_t i = 1; i <= n; ++i)
    if (std::isinf(state_a[i])) overflow();
}

void average(const double* state, std::size_t n, float* out, Element element) {
  for (std::size_t i = 0; i < n; ++i) {
    float mean = static_cast<float>(state[i + 1] / state[0]);
    if (element == Element::kFloat16) mean = half_to_float(to_half(mean));
    check_element(mean, element);
    out[i] = mean;
  }
}

namespace {
// A half is > 0 when its sign bit is clear and it is not a zero (halfvec holds no NaN; a NaN's
// pattern would count as positive here, as it cannot occur).
inline bool positive(Half h) { return (h & 0x8000u) == 0 && h != 0; }
inline bool positive(float f) { return f > 0.0f; }

template <class T>
void sign_bits_of(const T* x, std::size_t n, std::uint8_t* out) {
  const std::size_t full = n / 8;
  for (std::size_t byte = 0; byte < full; ++byte) {
    const T* p = x + 8 * byte;
    unsigned bits = 0;
    for (int k = 0; k < 8; ++k) bits |= static_cast<unsigned>(positive(p[k])) << (7 - k);
    out[byte] = static_cast<std::uint8_t>(bits);
  }
  if (n % 8 != 0) {
    unsigned bits = 0;
    for (std::size_t i = 8 * full; i < n; ++i)
      bits |= static_cast<unsigned>(positive(x[i])) << (7 - i % 8);
    out[full] = static_cast<std::uint8_t>(bits);
  }
}
}  // namespace

void sign_bits(const float* x, std::size_t n, std::uint8_t* out) { sign_bits_of(x, n, out); }
void sign_bits(const Half* x, std::size_t n, std::uint8_t* out) { sign_bits_of(x, n, out); }

Slice subvector_slice(int dims, std::int32_t start, std::int32_t count, Element element) {
  if (count < 1) check_dim(0, element);
  // end = start + count, computed without overflow (dims and count are positive).
  const std::int32_t end = start > dims - count ? dims + 1 : start + count;
  if (start < 1) start = 1;
  if (start > dims) check_dim(0, element);
  check_dim(end - start, element);
  return {static_cast<std::size_t>(start - 1), end - start};
}

double angular_distance(double dot) {
  if (dot > 1) dot = 1;
  if (dot < -1) dot = -1;
  return std::acos(dot) / M_PI;
}

}  // namespace embedding::vec
