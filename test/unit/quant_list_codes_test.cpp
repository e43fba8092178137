// List codes (core/quant/list_codes.h): the transposed layout keeps every slot, the block kernels
// (scalar and AVX2) add the right table entries, and a list's estimates agree with the slots'.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/quant/code_kernels.h"
#include "core/quant/list_codes.h"
#include "core/quant/slots.h"
#include "random_vectors.h"

namespace embedding::quant {
namespace {

TEST(ListCodes, BlockSumsAddEachNeighboursEntries) {
  std::mt19937_64 rng(5);
  std::vector<const CodeKernels*> tables{&scalar_code_kernels()};
  if (avx2_code_kernels() != nullptr) tables.push_back(avx2_code_kernels());
  // 1,040 groups: past the AVX2 kernel's 512-group flush, with the largest table values.
  for (std::size_t groups : {16u, 32u, 384u, 1040u}) {
    std::vector<std::uint8_t> block(16 * groups), luts(16 * groups);
    for (auto& b : block) b = static_cast<std::uint8_t>(rng());
    for (auto& t : luts) t = static_cast<std::uint8_t>(rng() % 2 == 0 ? 255 : rng());
    std::uint32_t expected[kBlockRows] = {};
    for (std::size_t j = 0; j < kBlockRows; ++j)
      for (std::size_t g = 0; g < groups; ++g) {
        const unsigned cell = block[16 * g + j % 16];
        expected[j] += luts[16 * g + (j < 16 ? cell & 0xFu : cell >> 4)];
      }
    for (const CodeKernels* k : tables) {
      std::uint32_t sums[kBlockRows];
      k->block_sums(block.data(), luts.data(), groups, sums);
      for (std::size_t j = 0; j < kBlockRows; ++j)
        EXPECT_EQ(sums[j], expected[j]) << k->name << " groups " << groups << " row " << j;
    }
  }
}

// Rows, their codec (centred on their mean) and their slots.
struct Coded {
  std::vector<float> rows;
  SlotCodec codec;
  std::vector<std::uint8_t> slots;
};

Coded coded_rows(Metric metric, std::size_t dims, std::size_t count, std::uint64_t seed,
                 int bits = 1) {
  std::vector<float> rows = test::normal_floats(count * dims, seed);
  for (float& v : rows) v += 0.3f;  // off-centre, so that the centre matters
  if (metric == Metric::kCosine)
    for (std::size_t r = 0; r < count; ++r) {
      const double n = std::sqrt(test::exact_dot(&rows[r * dims], &rows[r * dims], dims));
      for (std::size_t d = 0; d < dims; ++d) rows[r * dims + d] /= static_cast<float>(n);
    }
  std::vector<float> center(dims, 0.0f);
  for (std::size_t r = 0; r < count; ++r)
    for (std::size_t d = 0; d < dims; ++d) center[d] += rows[r * dims + d] / count;
  Coded c{rows, SlotCodec(metric, dims, bits, 11, center.data()), {}};
  c.slots.resize(count * c.codec.stride());
  std::vector<float> scratch(c.codec.scratch_floats());
  for (std::size_t r = 0; r < count; ++r)
    c.codec.encode(&rows[r * dims], &c.slots[r * c.codec.stride()], scratch.data());
  return c;
}

TEST(ListCodes, PutAndGetKeepCodesAndFactors) {
  for (int bits : {1, 2, 4, 8})
    for (std::size_t dims : {100u, 1536u}) {
      const Coded c = coded_rows(Metric::kL2, dims, 70, 3, bits);
      const std::size_t stride = c.codec.stride(), code = c.codec.code_bytes();
      // three blocks, the last partial
      const ListCodes layout(c.codec.quantizer().padded(), 70, bits);
      std::vector<std::uint8_t> area(layout.bytes(), 0xA5);  // put() overwrites what it owns
      for (std::size_t i = 0; i < 70; ++i) layout.put(area.data(), 69 - i, &c.slots[i * stride]);
      std::vector<std::uint8_t> back(stride);
      for (std::size_t i = 0; i < 70; ++i) {
        layout.get(area.data(), 69 - i, back.data());
        const std::uint8_t* slot = &c.slots[i * stride];
        EXPECT_EQ(std::memcmp(back.data(), slot, code), 0)
            << bits << " bits " << dims << " row " << i;
        CodeFactors f, g;
        std::memcpy(&f, slot + code, sizeof f);
        std::memcpy(&g, back.data() + code, sizeof g);
        EXPECT_EQ(g.norm, f.norm);
        EXPECT_NEAR(g.scale, f.scale, 1e-3f * f.scale);
        EXPECT_NEAR(g.error, f.error, 2e-3f * f.error + 1e-6f);
      }
    }
}

class ListMetrics : public ::testing::TestWithParam<Metric> {};

TEST_P(ListMetrics, ListEstimatesAgreeWithSlotEstimates) {
  const Metric metric = GetParam();
  for (int bits : {1, 2, 4})
    for (std::size_t dims : {100u, 768u}) {
      constexpr std::size_t kCount = 45;
      const Coded c = coded_rows(metric, dims, kCount, 8, bits);
      const ListCodes layout(c.codec.quantizer().padded(), 64, bits);
      std::vector<std::uint8_t> area(layout.bytes(), 0);
      for (std::size_t i = 0; i < kCount; ++i)
        layout.put(area.data(), i, &c.slots[i * c.codec.stride()]);
      std::vector<float> query = test::normal_floats(dims, 9);
      if (metric == Metric::kCosine) {
        const double n = std::sqrt(test::exact_dot(query.data(), query.data(), dims));
        for (float& v : query) v /= static_cast<float>(n);
      }
      // The list path rounds the query to 6-bit levels (step = max |y| / 31): one standard
      // deviation of what that adds to <x, y> is scale * step * sqrt(P / 24 * sum_b 4^b) * 2 / 2^B
      // (twice that on the squared L2 scale); the tolerance is five of them, plus what it adds
      // to the bound.
      PreparedQuery prepared;
      c.codec.quantizer().prepare(query.data(), metric == Metric::kL2, prepared);
      float top = 0.0f;
      for (float v : prepared.y) top = std::max(top, std::fabs(v));
      const double padded = static_cast<double>(prepared.y.size());
      double weights = 0.0;
      for (int b = 0; b < bits; ++b) weights += std::ldexp(1.0, 2 * b);
      const double unit = top / 31.0 * std::sqrt(padded / 24.0 * weights) * 2.0 /
                          std::ldexp(1.0, bits) * (metric == Metric::kL2 ? 2.0 : 1.0);
      for (float epsilon : {0.0f, 1.5f}) {
        SlotEstimator estimator;
        estimator.prepare(c.codec, query.data(), epsilon);
        std::vector<float> listed(64, NAN);
        estimator.estimate_list(layout, area.data(), kCount, listed.data());
        for (std::size_t i = 0; i < kCount; ++i) {
          const std::uint8_t* slot = &c.slots[i * c.codec.stride()];
          CodeFactors f;
          std::memcpy(&f, slot + c.codec.code_bytes(), sizeof f);
          const double sigma = f.scale * unit;
          const float single = estimator(slot);
          EXPECT_NEAR(listed[i], single, (5.0 + epsilon) * sigma + 1e-3 * (1.0 + std::fabs(single)))
              << bits << " bits " << dims << " eps " << epsilon << " row " << i;
        }
        EXPECT_TRUE(std::isnan(listed[kCount])) << "wrote past count";
      }
    }
}

INSTANTIATE_TEST_SUITE_P(Metrics, ListMetrics,
                         ::testing::Values(Metric::kL2, Metric::kCosine, Metric::kInnerProduct));

}  // namespace
}  // namespace embedding::quant
