// Unit tests of element-wise arithmetic, ordering and avg() state (normalisation: normalize_test).
#include "core/vector/arith.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "core/common/error.h"

namespace embedding::vec {
namespace {

TEST(Arith, ElementwiseOps) {
  std::vector<float> a = {1, 2, 3}, b = {4, 5, 6}, out(3);
  elementwise(ElementOp::kAdd, a.data(), b.data(), out.data(), 3);
  EXPECT_EQ(out, (std::vector<float>{5, 7, 9}));
  elementwise(ElementOp::kSub, a.data(), b.data(), out.data(), 3);
  EXPECT_EQ(out, (std::vector<float>{-3, -3, -3}));
  elementwise(ElementOp::kMul, a.data(), b.data(), out.data(), 3);
  EXPECT_EQ(out, (std::vector<float>{4, 10, 18}));
}

TEST(Arith, OverflowAndUnderflowAreErrors) {
  float big = 3e38f, tiny = 1e-38f, out;
  EXPECT_THROW(elementwise(ElementOp::kAdd, &big, &big, &out, 1), Error);
  EXPECT_THROW(elementwise(ElementOp::kMul, &big, &big, &out, 1), Error);
  EXPECT_THROW(elementwise(ElementOp::kMul, &tiny, &tiny, &out, 1), Error);
  float zero = 0;
  EXPECT_NO_THROW(elementwise(ElementOp::kMul, &zero, &tiny, &out, 1));
}

TEST(Arith, CompareIsLexicographicThenByLength) {
  float a[] = {1, 2, 3}, b[] = {1, 2, 4};
  EXPECT_LT(compare(a, 3, b, 3), 0);
  EXPECT_GT(compare(b, 3, a, 3), 0);
  EXPECT_EQ(compare(a, 3, a, 3), 0);
  EXPECT_LT(compare(a, 2, a, 3), 0);
  EXPECT_LT(compare(b, 1, a, 3), 0);  // equal prefix: the shorter sorts first
}

TEST(Arith, AverageState) {
  std::vector<double> s(3, 0.0), t(3, 0.0);
  float x[] = {1, 2}, y[] = {3, 6};
  accumulate(s.data(), 2, x);
  accumulate(t.data(), 2, y);
  combine(s.data(), t.data(), 2);
  float out[2];
  average(s.data(), 2, out);
  EXPECT_EQ(s[0], 2.0);
  EXPECT_FLOAT_EQ(out[0], 2.0f);
  EXPECT_FLOAT_EQ(out[1], 4.0f);
}

// binary_quantize's bits against the plain definition, bit by bit: every length 0..40 (partial
// last bytes), zeros of both signs, subnormals, infinities, and half inputs.
TEST(Arith, SignBitsMatchTheDefinition) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> pick(0, 7);
  const float specials[] = {0.0f, -0.0f, 1e-40f, -1e-40f, INFINITY, -INFINITY, 0.5f, -0.5f};
  for (std::size_t n = 0; n <= 40; ++n) {
    std::vector<float> x(n);
    std::vector<Half> h(n);
    for (std::size_t i = 0; i < n; ++i) {
      x[i] = specials[pick(rng)];
      h[i] = float_to_half(x[i]);
    }
    std::vector<std::uint8_t> got((n + 7) / 8 + 1, 0xAB), got_half = got;
    sign_bits(x.data(), n, got.data());
    sign_bits(h.data(), n, got_half.data());
    for (std::size_t byte = 0; byte < (n + 7) / 8; ++byte) {
      std::uint8_t want = 0, want_half = 0;
      for (std::size_t i = 8 * byte; i < n && i < 8 * byte + 8; ++i) {
        if (x[i] > 0) want |= static_cast<std::uint8_t>(0x80 >> (i % 8));
        if (half_to_float(h[i]) > 0) want_half |= static_cast<std::uint8_t>(0x80 >> (i % 8));
      }
      EXPECT_EQ(got[byte], want) << "n " << n << " byte " << byte;
      EXPECT_EQ(got_half[byte], want_half) << "n " << n << " byte " << byte;
    }
    EXPECT_EQ(got[(n + 7) / 8], 0xAB) << "wrote past the bits, n " << n;
    EXPECT_EQ(got_half[(n + 7) / 8], 0xAB) << "wrote past the bits, n " << n;
  }
}

}  // namespace
}  // namespace embedding::vec

TEST(AngularDistance, IsTheAngleAsAShareOfPiWithTheDotClamped) {
  EXPECT_DOUBLE_EQ(embedding::vec::angular_distance(1.0), 0.0);
  EXPECT_DOUBLE_EQ(embedding::vec::angular_distance(-1.0), 1.0);
  EXPECT_DOUBLE_EQ(embedding::vec::angular_distance(0.0), 0.5);
  EXPECT_DOUBLE_EQ(embedding::vec::angular_distance(1.0000001), 0.0);  // rounding past 1
  EXPECT_DOUBLE_EQ(embedding::vec::angular_distance(-3.0), 1.0);
}

TEST(SubvectorSlice, ClampsTheStartAndRefusesAnEmptyResult) {
  using embedding::vec::subvector_slice;
  EXPECT_EQ(subvector_slice(5, 2, 3).first, 1u);
  EXPECT_EQ(subvector_slice(5, 2, 3).dims, 3);
  EXPECT_EQ(subvector_slice(5, 4, 100).dims, 2);   // runs past the end: cut there
  EXPECT_EQ(subvector_slice(5, -1, 4).first, 0u);  // starts before 1: [1, 3)
  EXPECT_EQ(subvector_slice(5, -1, 4).dims, 2);
  EXPECT_EQ(subvector_slice(5, 1, 2147483647).dims, 5);  // no overflow in start + count
  EXPECT_THROW(subvector_slice(5, 6, 1), std::exception);
  EXPECT_THROW(subvector_slice(5, 1, 0), std::exception);
  EXPECT_THROW(subvector_slice(5, -5, 3), std::exception);
}
