// The code kernels (AVX2 against the scalar reference, and both against unpacked levels) and the
// scale search (better on average than the former 24-candidate search it replaced).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "core/quant/code_kernels.h"
#include "core/quant/rabitq.h"
#include "core/quant/scale_search.h"
#include "random_vectors.h"

namespace embedding::quant {
namespace {

// A random code of n levels of `bits` bits, and the levels themselves.
std::vector<std::uint8_t> random_code(std::size_t n, int bits, std::mt19937_64& rng,
                                      std::vector<unsigned>& levels) {
  std::vector<std::uint8_t> code((n * bits + 7) / 8 + 8, 0);  // + 8: room for word loads
  levels.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    levels[i] = static_cast<unsigned>(rng() % (1u << bits));
    const std::size_t bit = i * bits;
    code[bit / 8] |= static_cast<std::uint8_t>(levels[i] << (bit % 8));
  }
  return code;
}

TEST(CodeKernels, Avx2LevelDotEqualsScalar) {
  const CodeKernels* avx2 = avx2_code_kernels();
  if (avx2 == nullptr) GTEST_SKIP() << "this CPU has no AVX2";
  const CodeKernels& scalar = scalar_code_kernels();
  std::mt19937_64 rng(21);
  for (std::size_t n : {8u, 33u, 64u, 100u, 128u, 1000u, 1536u}) {
    const auto y = test::normal_floats(n, rng);
    for (int bits : {1, 2, 4, 8}) {
      if (n * bits % 8 != 0) continue;
      std::vector<unsigned> levels;
      const auto code = random_code(n, bits, rng, levels);
      double exact = 0.0;
      for (std::size_t i = 0; i < n; ++i) exact += levels[i] * static_cast<double>(y[i]);
      const int w = bit_width_index(bits);
      const double tolerance = 1e-5 * (1u << bits) * n;
      EXPECT_NEAR(scalar.level_dot[w](code.data(), y.data(), n), exact, tolerance)
          << n << " " << bits;
      EXPECT_NEAR(avx2->level_dot[w](code.data(), y.data(), n), exact, tolerance)
          << n << " " << bits;
    }
  }
}

TEST(CodeKernels, PlaneDotCountsLevelsOfSetBits) {
  std::mt19937_64 rng(22);
  for (std::size_t words : {1u, 2u, 24u}) {
    const std::size_t n = 64 * words;
    std::vector<unsigned> bits, query;
    const auto code = random_code(n, 1, rng, bits);
    const auto levels = random_code(n, kQueryPlanes, rng, query);
    std::vector<std::uint64_t> planes(kQueryPlanes * words, 0);
    std::uint32_t weighted = 0, ones = 0;
    for (std::size_t i = 0; i < n; ++i) {
      for (int j = 0; j < kQueryPlanes; ++j)
        planes[j * words + i / 64] |= std::uint64_t{(query[i] >> j) & 1u} << (i % 64);
      weighted += bits[i] * query[i];
      ones += bits[i];
    }
    std::vector<const CodeKernels*> tables{&scalar_code_kernels()};
    if (avx2_code_kernels() != nullptr) tables.push_back(avx2_code_kernels());
    for (const CodeKernels* table : tables) {
      std::uint32_t w = 0, o = 0;
      table->plane_dot(code.data(), planes.data(), words, &w, &o);
      EXPECT_EQ(w, weighted) << table->name << " " << words;
      EXPECT_EQ(o, ones) << table->name << " " << words;
    }
  }
}

TEST(CodeKernels, Avx2RotationStepsEqualScalar) {
  const CodeKernels* avx2 = avx2_code_kernels();
  if (avx2 == nullptr) GTEST_SKIP() << "this CPU has no AVX2";
  std::mt19937_64 rng(25);
  for (std::size_t n : {1u, 4u, 8u, 16u, 64u, 1024u}) {
    const auto x = test::normal_floats(n, rng), signs = test::normal_floats(n, rng);
    auto a = x, b = x;
    scalar_code_kernels().walsh_hadamard(a.data(), n);
    avx2->walsh_hadamard(b.data(), n);
    for (std::size_t i = 0; i < n; ++i) ASSERT_NEAR(a[i], b[i], 1e-5) << n << " " << i;
    scalar_code_kernels().flip_signs(a.data(), signs.data(), n);
    avx2->flip_signs(b.data(), signs.data(), n);
    for (std::size_t i = 0; i < n; ++i) ASSERT_NEAR(a[i], b[i], 1e-5) << n << " " << i;
  }
}

TEST(CodeKernels, Avx2EncodeLevelsEqualsScalar) {
  const CodeKernels* avx2 = avx2_code_kernels();
  if (avx2 == nullptr) GTEST_SKIP() << "this CPU has no AVX2";
  std::mt19937_64 rng(26);
  for (std::size_t n : {64u, 128u, 1536u}) {
    auto u = test::normal_floats(n, rng);
    for (float& v : u) v *= 0.1f;
    for (int bits : {1, 2, 4, 8}) {
      for (float t : {0.5f, 3.0f, 30.0f}) {
        const std::size_t bytes = n * bits / 8;
        std::vector<std::uint8_t> a(bytes, 0xff), b(bytes, 0xff);
        float dot_a, dot_b;
        std::int64_t sq_a, sq_b;
        scalar_code_kernels().encode_levels(u.data(), n, t, bits, a.data(), &dot_a, &sq_a);
        avx2->encode_levels(u.data(), n, t, bits, b.data(), &dot_b, &sq_b);
        EXPECT_EQ(a, b) << n << " " << bits << " " << t;
        EXPECT_EQ(sq_a, sq_b) << n << " " << bits << " " << t;
        EXPECT_NEAR(dot_a, dot_b, 1e-4 * std::fabs(dot_a) + 1e-4) << n << " " << bits << " " << t;
        // The levels are level_of's.
        for (std::size_t i = 0; i < n; ++i) {
          const unsigned level = (a[i * bits / 8] >> (i * bits % 8)) & ((1u << bits) - 1);
          ASSERT_EQ(level, level_of(u[i] * t, bits)) << n << " " << bits << " " << i;
        }
      }
    }
  }
}

// A unit vector of n coordinates (rotated data looks like this) and its largest absolute value.
std::vector<float> unit_vector(std::size_t n, std::mt19937_64& rng, float& max_abs) {
  auto u = test::normal_floats(n, rng);
  const double norm = std::sqrt(test::exact_dot(u.data(), u.data(), n));
  max_abs = 0.0f;
  for (float& v : u) v = static_cast<float>(v / norm), max_abs = std::max(max_abs, std::fabs(v));
  return u;
}

// The coarse-to-fine search may miss a narrow peak the former grid hit, but finds better scales on
// average (and far better ones for 2-bit codes, whose best scale lay past the former range).
TEST(ScaleSearch, BetterThanTheFormer24CandidatesOnAverage) {
  std::mt19937_64 rng(23);
  for (std::size_t n : {128u, 1536u}) {
    for (int bits : {2, 4, 8}) {
      double sum_new = 0.0, sum_old = 0.0;
      for (int r = 0; r < 50; ++r) {
        float max_abs;
        const auto u = unit_vector(n, rng, max_abs);
        const double c_new = cosine_at(u.data(), n, bits, best_scale(u.data(), n, bits, max_abs));
        const double c_old =
            cosine_at(u.data(), n, bits, best_of_24_scales(u.data(), n, bits, max_abs));
        EXPECT_GE(c_new, c_old - 1e-3) << n << "-d, " << bits << " bits";
        sum_new += c_new, sum_old += c_old;
      }
      EXPECT_GT(sum_new, sum_old) << n << "-d, " << bits << " bits";
    }
  }
}

TEST(ScaleSearch, OneBitAndTheZeroVector) {
  std::vector<float> u(64, 0.0f);
  EXPECT_EQ(best_scale(u.data(), u.size(), 4, 0.0f), 1.0f);
  u[3] = 1.0f;
  EXPECT_EQ(best_scale(u.data(), u.size(), 1, 1.0f), 1.0f);
}

// 1-bit estimates from the query's bit planes stay close to those from its float coordinates: the
// rounding of y to kQueryPlanes-bit levels moves them by a small share of the bound.
TEST(Quantizer, BitPlanesMatchTheFloatPath) {
  std::mt19937_64 rng(24);
  for (std::size_t dims : {100u, 1536u}) {
    Quantizer q(dims, 1, 3, nullptr);
    std::vector<std::uint8_t> code(q.code_bytes());
    std::vector<float> scratch(q.scratch_floats());
    const auto row = test::normal_floats(dims, rng), query = test::normal_floats(dims, rng);
    const CodeFactors f = q.encode(row.data(), code.data(), scratch.data());
    PreparedQuery prepared;
    q.prepare(query.data(), true, prepared);
    ASSERT_FALSE(prepared.planes.empty());
    const Estimate fast = q.l2_squared(prepared, code.data(), f);
    prepared.planes.clear();
    const Estimate exact = q.l2_squared(prepared, code.data(), f);
    EXPECT_NE(fast.distance, exact.distance) << "the planes were used";
    EXPECT_NEAR(fast.distance, exact.distance, 0.25 * exact.bound) << dims;
  }
}

}  // namespace
}  // namespace embedding::quant
