// Random vectors and double-precision reference arithmetic shared by the unit tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace embedding::test {

// `count` floats drawn from N(mean, 1).
inline std::vector<float> normal_floats(std::size_t count, std::mt19937_64& rng,
                                        float mean = 0.0f) {
  std::normal_distribution<float> normal(mean, 1.0f);
  std::vector<float> out(count);
  for (float& x : out) x = normal(rng);
  return out;
}

inline std::vector<float> normal_floats(std::size_t count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  return normal_floats(count, rng);
}

// sum a[i] * b[i] in double.
inline double exact_dot(const float* a, const float* b, std::size_t n) {
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += static_cast<double>(a[i]) * b[i];
  return sum;
}

}  // namespace embedding::test
