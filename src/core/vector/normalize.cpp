// L2 normalisation (normalize.h): the norm in double, each element divided by it in double, and
// the caller's policy for vectors without a direction.
#include "core/vector/normalize.h"

#include <cmath>
#include <limits>

namespace embedding::vec {

namespace {

template <class T>
double l2_norm(const T* x, std::size_t n) {
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  return std::sqrt(sum);
}

template <class T>
bool normalize_by_norm(const T* in, float* out, std::size_t n, NoDirection policy, double* norm) {
  const double length = l2_norm(in, n);
  if (norm != nullptr) *norm = length;
  if (length > 0.0 && std::isfinite(length)) {
    for (std::size_t i = 0; i < n; ++i)
      out[i] = static_cast<float>(static_cast<double>(in[i]) / length);
    return true;
  }
  switch (policy) {
    case NoDirection::kKeep:
      break;
    case NoDirection::kZeros:
      for (std::size_t i = 0; i < n; ++i) out[i] = 0.0f;
      break;
    case NoDirection::kNaN:
      for (std::size_t i = 0; i < n; ++i) out[i] = std::numeric_limits<float>::quiet_NaN();
      break;
  }
  return false;
}

}  // namespace

bool normalize(const float* in, float* out, std::size_t n, NoDirection policy, double* norm) {
  return normalize_by_norm(in, out, n, policy, norm);
}

bool normalize(const double* in, float* out, std::size_t n, NoDirection policy, double* norm) {
  return normalize_by_norm(in, out, n, policy, norm);
}

void normalize_clamped(float* vector, std::size_t n, double min_norm) {
  const double length = l2_norm(vector, n);
  const double divisor = length < min_norm ? min_norm : length;  // NaN stays NaN
  for (std::size_t i = 0; i < n; ++i)
    vector[i] = static_cast<float>(static_cast<double>(vector[i]) / divisor);
}

}  // namespace embedding::vec
