// Unit tests of the one L2 normalisation (core/vector/normalize.h): unit results, and each
// policy for vectors without a direction (zero, NaN, inf), denormal and huge inputs.
#include "core/vector/normalize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace embedding::vec {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kDenormal = std::numeric_limits<float>::denorm_min();
constexpr float kMax = std::numeric_limits<float>::max();

double squared_length(const std::vector<float>& x) {
  double sum = 0.0;
  for (float v : x) sum += static_cast<double>(v) * v;
  return sum;
}

TEST(Normalize, ScalesToUnitLengthAndReportsTheNorm) {
  std::vector<float> in = {3.0f, 0.0f, 4.0f}, out(3);
  double norm = 0.0;
  ASSERT_TRUE(normalize(in.data(), out.data(), 3, NoDirection::kKeep, &norm));
  EXPECT_EQ(norm, 5.0);
  EXPECT_EQ(out, (std::vector<float>{0.6f, 0.0f, 0.8f}));
  EXPECT_EQ(in, (std::vector<float>{3.0f, 0.0f, 4.0f}));  // out of place leaves the input
}

TEST(Normalize, InPlaceMatchesOutOfPlace) {
  std::vector<float> in = {1.5f, -2.25f, 7.0f, 1e-3f, -0.5f}, out(in.size());
  normalize(in.data(), out.data(), in.size(), NoDirection::kKeep);
  ASSERT_TRUE(normalize(in.data(), in.size(), NoDirection::kKeep));
  EXPECT_EQ(in, out);
  EXPECT_NEAR(squared_length(out), 1.0, 1e-6);
}

TEST(Normalize, DividesInDoubleThenRounds) {
  // Each element is x / norm computed in double, rounded once to float.
  std::vector<float> in = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f}, out(7);
  normalize(in.data(), out.data(), in.size(), NoDirection::kKeep);
  double sum = 0.0;
  for (float v : in) sum += static_cast<double>(v) * v;
  for (std::size_t i = 0; i < in.size(); ++i)
    EXPECT_EQ(out[i], static_cast<float>(static_cast<double>(in[i]) / std::sqrt(sum)));
}

TEST(Normalize, ZeroVectorFollowsThePolicy) {
  const std::vector<float> zero = {0.0f, -0.0f, 0.0f};
  std::vector<float> out = {9.0f, 9.0f, 9.0f};
  double norm = -1.0;
  EXPECT_FALSE(normalize(zero.data(), out.data(), 3, NoDirection::kKeep, &norm));
  EXPECT_EQ(norm, 0.0);
  EXPECT_EQ(out, (std::vector<float>{9.0f, 9.0f, 9.0f}));
  EXPECT_FALSE(normalize(zero.data(), out.data(), 3, NoDirection::kZeros));
  EXPECT_EQ(out, (std::vector<float>{0.0f, 0.0f, 0.0f}));
  EXPECT_FALSE(normalize(zero.data(), out.data(), 3, NoDirection::kNaN));
  for (float v : out) EXPECT_TRUE(std::isnan(v));
}

TEST(Normalize, NaNOrInfHasNoDirection) {
  for (const float bad : {kNaN, kInf, -kInf}) {
    std::vector<float> v = {1.0f, bad, 2.0f};
    double norm = 0.0;
    EXPECT_FALSE(normalize(v.data(), v.data(), 3, NoDirection::kKeep, &norm)) << bad;
    EXPECT_FALSE(std::isfinite(norm));
    EXPECT_EQ(v[0], 1.0f);  // kKeep: untouched
    EXPECT_EQ(v[2], 2.0f);
    EXPECT_FALSE(normalize(v.data(), 3, NoDirection::kZeros));
    EXPECT_EQ(v, (std::vector<float>{0.0f, 0.0f, 0.0f}));
  }
}

TEST(Normalize, DenormalInputsReachUnitLength) {
  // Squares of float denormals are exact in double, so the smallest vectors have a direction.
  std::vector<float> v = {kDenormal, 0.0f}, w = {3 * kDenormal, 4 * kDenormal};
  ASSERT_TRUE(normalize(v.data(), 2, NoDirection::kKeep));
  EXPECT_EQ(v, (std::vector<float>{1.0f, 0.0f}));
  ASSERT_TRUE(normalize(w.data(), 2, NoDirection::kKeep));
  EXPECT_FLOAT_EQ(w[0], 0.6f);
  EXPECT_FLOAT_EQ(w[1], 0.8f);
  std::vector<float> tiny = {3e-30f, 4e-30f};
  ASSERT_TRUE(normalize(tiny.data(), 2, NoDirection::kZeros));
  EXPECT_FLOAT_EQ(tiny[0], 0.6f);
  EXPECT_FLOAT_EQ(tiny[1], 0.8f);
}

TEST(Normalize, HugeInputsDoNotOverflow) {
  // The squares overflow float32 but not double.
  std::vector<float> v = {kMax, kMax, -kMax, kMax};
  ASSERT_TRUE(normalize(v.data(), 4, NoDirection::kKeep));
  EXPECT_EQ(v, (std::vector<float>{0.5f, 0.5f, -0.5f, 0.5f}));
  std::vector<float> mixed = {kMax, kDenormal};
  ASSERT_TRUE(normalize(mixed.data(), 2, NoDirection::kKeep));
  EXPECT_EQ(mixed, (std::vector<float>{1.0f, 0.0f}));  // the denormal underflows, as it must
}

TEST(Normalize, DoubleInput) {
  const std::vector<double> in = {3.0, 4.0};
  std::vector<float> out(2);
  double norm = 0.0;
  ASSERT_TRUE(normalize(in.data(), out.data(), 2, NoDirection::kKeep, &norm));
  EXPECT_EQ(norm, 5.0);
  EXPECT_EQ(out, (std::vector<float>{0.6f, 0.8f}));
  const std::vector<double> zero = {0.0, 0.0};
  EXPECT_FALSE(normalize(zero.data(), out.data(), 2, NoDirection::kNaN, &norm));
  EXPECT_EQ(norm, 0.0);
  EXPECT_TRUE(std::isnan(out[0]) && std::isnan(out[1]));
  // Beyond float32's range, still a direction: the sum is in double.
  const std::vector<double> huge = {3e100, 4e100};
  ASSERT_TRUE(normalize(huge.data(), out.data(), 2, NoDirection::kKeep));
  EXPECT_EQ(out, (std::vector<float>{0.6f, 0.8f}));
}

TEST(NormalizeClamped, DividesByTheLargerOfNormAndMinimum) {
  std::vector<float> v = {3.0f, 4.0f};
  normalize_clamped(v.data(), 2, 1e-12);
  EXPECT_EQ(v, (std::vector<float>{0.6f, 0.8f}));
  std::vector<float> zero = {0.0f, 0.0f};
  normalize_clamped(zero.data(), 2, 1e-12);
  EXPECT_EQ(zero, (std::vector<float>{0.0f, 0.0f}));
  // Shorter than the minimum: scaled by 1 / min_norm, not to unit length.
  std::vector<float> short_vector = {3e-14f, 4e-14f};
  normalize_clamped(short_vector.data(), 2, 1e-12);
  EXPECT_FLOAT_EQ(short_vector[0], 0.03f);
  EXPECT_FLOAT_EQ(short_vector[1], 0.04f);
}

TEST(NormalizeClamped, NaNAndInfGiveNonFinite) {
  std::vector<float> nan = {1.0f, kNaN};
  normalize_clamped(nan.data(), 2, 1e-12);
  EXPECT_TRUE(std::isnan(nan[0]) && std::isnan(nan[1]));
  std::vector<float> inf = {1.0f, kInf};
  normalize_clamped(inf.data(), 2, 1e-12);
  EXPECT_EQ(inf[0], 0.0f);
  EXPECT_TRUE(std::isnan(inf[1]));
}

}  // namespace
}  // namespace embedding::vec
