// Rotation and RaBitQ-style codes: the rotation is orthogonal and reproducible, and estimated
// distances fall within their bounds and get tighter with more bits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "core/quant/rabitq.h"
#include "core/quant/rotation.h"
#include "random_vectors.h"

namespace embedding::quant {
namespace {

std::vector<float> gaussian(std::size_t n, std::mt19937_64& rng, float mean = 0.0f) {
  return test::normal_floats(n, rng, mean);
}
using test::exact_dot;

TEST(Rotation, PadsToWholeWords) {
  EXPECT_EQ(padded_dims(1), 64u);
  EXPECT_EQ(padded_dims(64), 64u);
  EXPECT_EQ(padded_dims(100), 128u);
  EXPECT_EQ(padded_dims(1536), 1536u);
}

TEST(Rotation, WalshHadamardIsItsOwnInverse) {
  std::mt19937_64 rng(1);
  for (std::size_t n : {1u, 2u, 64u, 1024u}) {
    auto v = gaussian(n, rng);
    auto w = v;
    walsh_hadamard(w.data(), n);
    walsh_hadamard(w.data(), n);
    for (std::size_t i = 0; i < n; ++i) EXPECT_NEAR(w[i], v[i], 1e-4) << n << " " << i;
  }
}

TEST(Rotation, PreservesNormsAndDotProductsAndInverts) {
  std::mt19937_64 rng(2);
  for (std::size_t dims : {1u, 3u, 100u, 128u, 960u, 1536u, 3000u}) {
    Rotation r(dims, 7);
    const std::size_t p = r.padded();
    auto a = gaussian(dims, rng), b = gaussian(dims, rng);
    std::vector<float> ra(p), rb(p), back(dims), scratch(p);
    r.apply(a.data(), ra.data());
    r.apply(b.data(), rb.data());
    const double scale = exact_dot(a.data(), a.data(), dims);
    EXPECT_NEAR(exact_dot(ra.data(), ra.data(), p), scale, 1e-4 * scale) << dims;
    EXPECT_NEAR(exact_dot(ra.data(), rb.data(), p), exact_dot(a.data(), b.data(), dims),
                1e-4 * scale)
        << dims;
    r.invert(ra.data(), back.data(), scratch.data());
    for (std::size_t i = 0; i < dims; ++i) ASSERT_NEAR(back[i], a[i], 1e-4) << dims << " " << i;
  }
}

TEST(Rotation, SpreadsAOneHotVector) {
  // A vector on one axis ends up with every rotated coordinate small: the property the codes need.
  for (std::size_t dims : {100u, 1536u}) {
    Rotation r(dims, 3);
    std::vector<float> e(dims, 0.0f), out(r.padded());
    e[dims / 3] = 1.0f;
    r.apply(e.data(), out.data());
    float largest = 0.0f;
    for (float v : out) largest = std::max(largest, std::fabs(v));
    EXPECT_LT(largest, 6.0f / std::sqrt(static_cast<float>(r.padded()))) << dims;
  }
}

TEST(Rotation, SameSeedSameRotationOtherSeedOther) {
  std::mt19937_64 rng(4);
  auto a = gaussian(300, rng);
  Rotation r1(300, 11), r2(300, 11), r3(300, 12);
  std::vector<float> o1(r1.padded()), o2(r1.padded()), o3(r1.padded());
  r1.apply(a.data(), o1.data());
  r2.apply(a.data(), o2.data());
  r3.apply(a.data(), o3.data());
  EXPECT_EQ(o1, o2);
  EXPECT_NE(o1, o3);
}

TEST(LevelDot, MatchesUnpackedLevels) {
  std::mt19937_64 rng(5);
  const std::size_t n = 128;
  auto y = gaussian(n, rng);
  for (int bits : {1, 2, 4, 8}) {
    std::vector<std::uint8_t> code(n * bits / 8);
    std::vector<unsigned> levels(n);
    for (std::size_t i = 0; i < n; ++i) {
      levels[i] = static_cast<unsigned>(rng() % (1u << bits));
      const std::size_t bit = i * bits;
      code[bit / 8] |= static_cast<std::uint8_t>(levels[i] << (bit % 8));
    }
    double expected = 0.0;
    for (std::size_t i = 0; i < n; ++i) expected += levels[i] * static_cast<double>(y[i]);
    EXPECT_NEAR(level_dot(code.data(), bits, y.data(), n), expected, 1e-3) << bits;
  }
}

TEST(Quantizer, RejectsOtherBitWidths) {
  EXPECT_THROW(Quantizer(10, 3, 1, nullptr), std::exception);
  EXPECT_THROW(Quantizer(10, 0, 1, nullptr), std::exception);
}

// Estimates over random pairs: the share inside the bound, and the mean relative error.
struct Accuracy {
  double inside;
  double relative_error;
};

Accuracy measure(std::size_t dims, int bits, bool inner_product, float epsilon = 1.9f) {
  std::mt19937_64 rng(100 + dims + bits);
  constexpr int kRows = 300, kQueries = 20;
  std::vector<std::vector<float>> rows;
  std::vector<float> mean(dims, 0.0f);
  for (int i = 0; i < kRows; ++i) {
    rows.push_back(gaussian(dims, rng, 0.5f));  // off the origin, so the centre matters
    for (std::size_t d = 0; d < dims; ++d) mean[d] += rows.back()[d] / kRows;
  }
  Quantizer q(dims, bits, 9, mean.data());
  std::vector<std::uint8_t> codes(kRows * q.code_bytes());
  std::vector<CodeFactors> factors(kRows);
  std::vector<float> scratch(q.scratch_floats());
  for (int i = 0; i < kRows; ++i)
    factors[i] = q.encode(rows[i].data(), codes.data() + i * q.code_bytes(), scratch.data());
  int inside = 0, total = 0;
  double error = 0.0;
  PreparedQuery prepared;
  for (int j = 0; j < kQueries; ++j) {
    const auto query = gaussian(dims, rng, 0.5f);
    q.prepare(query.data(), !inner_product, prepared);
    for (int i = 0; i < kRows; ++i) {
      const std::uint8_t* code = codes.data() + i * q.code_bytes();
      double exact;
      Estimate e;
      if (inner_product) {
        exact = -exact_dot(rows[i].data(), query.data(), dims);
        e = q.negative_dot(prepared, code, factors[i], epsilon);
      } else {
        exact = 0.0;
        for (std::size_t d = 0; d < dims; ++d) exact += std::pow(rows[i][d] - query[d], 2.0);
        e = q.l2_squared(prepared, code, factors[i], epsilon);
      }
      inside += std::fabs(e.distance - exact) <= e.bound + 1e-3 * std::fabs(exact);
      error += std::fabs(e.distance - exact) / std::max(1.0, std::fabs(exact));
      ++total;
    }
  }
  return {static_cast<double>(inside) / total, error / total};
}

// The error behaves like a normal variable with the bound's scale as its standard deviation:
// epsilon 1.9 covers about 94% of estimates, 3.3 about 99.9%.
TEST(Quantizer, EstimatesFallWithinTheirBounds) {
  for (std::size_t dims : {100u, 1024u}) {
    for (int bits : {1, 2, 4, 8}) {
      for (bool ip : {false, true}) {
        const Accuracy a = measure(dims, bits, ip);
        EXPECT_GE(a.inside, 0.92) << dims << "-d, " << bits << " bits, ip " << ip;
        if (bits < 8) EXPECT_LE(a.inside, 0.995) << "so loose a bound would not steer a re-rank";
        EXPECT_GE(measure(dims, bits, ip, 3.3f).inside, 0.995) << dims << "-d, " << bits;
      }
    }
  }
}

TEST(Quantizer, MoreBitsGiveSmallerErrors) {
  for (std::size_t dims : {100u, 1024u}) {
    double previous = 1e9;
    for (int bits : {1, 2, 4, 8}) {
      const double error = measure(dims, bits, false).relative_error;
      EXPECT_LT(error, previous * 0.7) << dims << "-d, " << bits << " bits";
      previous = error;
    }
    EXPECT_LT(previous, 0.01) << dims;  // 8 bits: within about 1%
  }
}

TEST(Quantizer, TheCentreItselfIsExact) {
  std::mt19937_64 rng(6);
  const std::size_t dims = 50;
  auto center = gaussian(dims, rng), query = gaussian(dims, rng);
  Quantizer q(dims, 4, 1, center.data());
  std::vector<std::uint8_t> code(q.code_bytes());
  std::vector<float> scratch(q.scratch_floats());
  const CodeFactors f = q.encode(center.data(), code.data(), scratch.data());
  EXPECT_EQ(f.norm, 0.0f);
  PreparedQuery prepared;
  q.prepare(query.data(), true, prepared);
  double exact = 0.0;
  for (std::size_t d = 0; d < dims; ++d) exact += std::pow(center[d] - query[d], 2.0);
  const Estimate e = q.l2_squared(prepared, code.data(), f);
  EXPECT_NEAR(e.distance, exact, 1e-3 * exact);
  EXPECT_EQ(e.bound, 0.0f);
}

TEST(Quantizer, FourBitCodesFindTheNearestNeighbourAmongTheirTopTen) {
  std::mt19937_64 rng(8);
  const std::size_t dims = 128;
  constexpr int kRows = 2000, kQueries = 50;
  std::vector<std::vector<float>> rows;
  for (int i = 0; i < kRows; ++i) rows.push_back(gaussian(dims, rng));
  Quantizer q(dims, 4, 5, nullptr);
  std::vector<std::uint8_t> codes(kRows * q.code_bytes());
  std::vector<CodeFactors> factors(kRows);
  std::vector<float> scratch(q.scratch_floats());
  for (int i = 0; i < kRows; ++i)
    factors[i] = q.encode(rows[i].data(), codes.data() + i * q.code_bytes(), scratch.data());
  int found = 0;
  PreparedQuery prepared;
  for (int j = 0; j < kQueries; ++j) {
    const auto query = gaussian(dims, rng);
    q.prepare(query.data(), true, prepared);
    std::vector<std::pair<double, int>> exact, estimated;
    for (int i = 0; i < kRows; ++i) {
      double d = 0.0;
      for (std::size_t k = 0; k < dims; ++k) d += std::pow(rows[i][k] - query[k], 2.0);
      exact.push_back({d, i});
      estimated.push_back(
          {q.l2_squared(prepared, codes.data() + i * q.code_bytes(), factors[i]).distance, i});
    }
    const int nearest = std::min_element(exact.begin(), exact.end())->second;
    std::partial_sort(estimated.begin(), estimated.begin() + 10, estimated.end());
    found += std::any_of(estimated.begin(), estimated.begin() + 10,
                         [&](const auto& e) { return e.second == nearest; });
  }
  EXPECT_GE(found, kQueries * 95 / 100);
}

}  // namespace
}  // namespace embedding::quant
