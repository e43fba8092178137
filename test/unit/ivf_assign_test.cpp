// ivfflat list assignment and the kernel under it: nearest_block (GEMM + argmin) in every table,
// against double-precision brute force; ties, NaN and the starting best; tiles past one tile;
// threads; half rows; and an exception on a worker thread reaching the caller.
#include "core/ivf/assign.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/common/parallel.h"
#include "core/vector/half.h"
#include "core/vector/kernels.h"
#include "random_vectors.h"

namespace embedding::ivf {
namespace {

using kernels::KernelTable;

using test::normal_floats;

double dot(const float* a, const float* b, std::size_t dims) { return test::exact_dot(a, b, dims); }

double l2(const float* a, const float* b, std::size_t dims) {
  double sum = 0;
  for (std::size_t i = 0; i < dims; ++i) sum += (static_cast<double>(a[i]) - b[i]) * (a[i] - b[i]);
  return sum;
}

// Each label's distance is the smallest (in double) up to float rounding: a near-tie may go
// either way, a wrong center may not.
void expect_nearest(const std::vector<float>& rows, const std::vector<float>& centers,
                    std::size_t dims, bool spherical, const std::vector<std::uint32_t>& labels) {
  const std::size_t n = rows.size() / dims, k = centers.size() / dims;
  for (std::size_t i = 0; i < n; ++i) {
    const float* x = rows.data() + i * dims;
    const auto score = [&](std::size_t c) {
      return spherical ? -dot(x, centers.data() + c * dims, dims)
                       : l2(x, centers.data() + c * dims, dims);
    };
    double best = score(0);
    for (std::size_t c = 1; c < k; ++c) best = std::min(best, score(c));
    ASSERT_LT(labels[i], k);
    EXPECT_NEAR(score(labels[i]), best, 1e-4 * (1.0 + std::fabs(best))) << "row " << i;
  }
}

class NearestBlockTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    table_ = GetParam() == "scalar" ? &kernels::scalar_table() : kernels::avx2_table();
    if (table_ == nullptr) GTEST_SKIP() << "this CPU (or build) has no AVX2+FMA";
  }
  const KernelTable* table_ = nullptr;
};

TEST_P(NearestBlockTest, ArgminOfBiasedScoresMatchesBruteForce) {
  for (const std::size_t k : {1u, 5u, 8u, 37u, 100u}) {
    constexpr std::size_t kRows = 23, kDims = 19;
    const auto rows = normal_floats(kRows * kDims, k), cols = normal_floats(k * kDims, k + 1),
               bias = normal_floats(k, k + 2);
    std::vector<float> best(kRows, std::numeric_limits<float>::infinity()), scratch(kRows * k);
    std::vector<std::uint32_t> index(kRows, 77);
    table_->nearest_block(rows.data(), kRows, cols.data(), k, kDims, bias.data(), -2.0f,
                          best.data(), index.data(), 1000, scratch.data());
    for (std::size_t i = 0; i < kRows; ++i) {
      double want = INFINITY;
      for (std::size_t j = 0; j < k; ++j)
        want = std::min(
            want, bias[j] - 2.0 * dot(rows.data() + i * kDims, cols.data() + j * kDims, kDims));
      ASSERT_GE(index[i], 1000u);
      ASSERT_LT(index[i], 1000u + k);
      const std::size_t j = index[i] - 1000;
      const double got =
          bias[j] - 2.0 * dot(rows.data() + i * kDims, cols.data() + j * kDims, kDims);
      EXPECT_NEAR(got, want, 1e-4) << "k " << k << " row " << i;
      EXPECT_NEAR(best[i], want, 1e-4);
    }
  }
}

TEST_P(NearestBlockTest, TiesGoLowNanNeverWinsAndABetterStartStays) {
  constexpr std::size_t kDims = 4, kCols = 21;
  const std::vector<float> row{1, 0, 0, 0};
  std::vector<float> cols(kCols * kDims, 0.0f), scratch(kCols);
  // Columns 3, 12 and 19 are the same best column (lanes 3 and 4, and the tail); column 0's
  // bias is NaN.
  for (const std::size_t j : {3u, 12u, 19u}) cols[j * kDims] = 1.0f;
  std::vector<float> bias(kCols, 0.0f);
  bias[0] = std::numeric_limits<float>::quiet_NaN();
  float best = std::numeric_limits<float>::infinity();
  std::uint32_t index = 99;
  table_->nearest_block(row.data(), 1, cols.data(), kCols, kDims, bias.data(), -1.0f, &best, &index,
                        0, scratch.data());
  EXPECT_EQ(index, 3u);
  EXPECT_EQ(best, -1.0f);
  // An equal score in a later block keeps the earlier block's index; a better start stays.
  table_->nearest_block(row.data(), 1, cols.data(), kCols, kDims, bias.data(), -1.0f, &best, &index,
                        500, scratch.data());
  EXPECT_EQ(index, 3u);
  best = -5.0f;
  table_->nearest_block(row.data(), 1, cols.data(), kCols, kDims, nullptr, -1.0f, &best, &index,
                        500, scratch.data());
  EXPECT_EQ(index, 3u);
  EXPECT_EQ(best, -5.0f);
}

INSTANTIATE_TEST_SUITE_P(Tables, NearestBlockTest, ::testing::Values("scalar", "avx2"),
                         [](const auto& info) { return info.param; });

// Past one tile of rows (512) and of centers (512), with remainders; L2 and spherical; one thread
// and four give the same labels.
TEST(AssignFloats, NearestCenterOnAnyThreadCount) {
  constexpr std::size_t kRows = 1300, kCenters = 1100, kDims = 24;
  const auto rows = normal_floats(kRows * kDims, 1), centers = normal_floats(kCenters * kDims, 2);
  for (const bool spherical : {false, true}) {
    std::vector<std::uint32_t> one(kRows, UINT32_MAX), four(kRows, UINT32_MAX);
    EXPECT_EQ(assign_floats(centers.data(), kCenters, kDims, rows.data(), kRows, spherical,
                            one.data(), 1),
              kRows);
    assign_floats(centers.data(), kCenters, kDims, rows.data(), kRows, spherical, four.data(), 4);
    EXPECT_EQ(one, four);
    expect_nearest(rows, centers, kDims, spherical, one);
    // A second pass changes nothing.
    EXPECT_EQ(assign_floats(centers.data(), kCenters, kDims, rows.data(), kRows, spherical,
                            one.data(), 2),
              0u);
  }
}

// Stored rows: float32 with a row stride past the vector, float16, and bit strings.
TEST(AssignNearest, StoredFormats) {
  constexpr std::size_t kRows = 700, kCenters = 40, kDims = 12;
  auto rows = normal_floats(kRows * kDims, 3), centers = normal_floats(kCenters * kDims, 4);
  // float32, each row followed by 4 unused floats.
  std::vector<float> strided(kRows * (kDims + 4), 1e6f);
  for (std::size_t i = 0; i < kRows; ++i)
    std::copy(rows.begin() + i * kDims, rows.begin() + (i + 1) * kDims,
              strided.begin() + i * (kDims + 4));
  const VectorDistance l2_rank(Metric::kL2, kDims);
  std::vector<std::uint32_t> labels(kRows);
  assign_nearest(l2_rank, centers.data(), kCenters, kDims * 4, strided.data(), kRows,
                 (kDims + 4) * 4, labels.data(), 2);
  expect_nearest(rows, centers, kDims, false, labels);
  // float16: the nearest among the centers as half, for the rows as half.
  std::vector<vec::Half> half_rows(rows.size()), half_centers(centers.size());
  kernels::active().float_to_half(rows.data(), half_rows.data(), rows.size());
  kernels::active().float_to_half(centers.data(), half_centers.data(), centers.size());
  kernels::active().half_to_float(half_rows.data(), rows.data(), rows.size());
  kernels::active().half_to_float(half_centers.data(), centers.data(), centers.size());
  const VectorDistance ip_rank(Metric::kInnerProduct, kDims, Format::kFloat16);
  assign_nearest(ip_rank, half_centers.data(), kCenters, kDims * 2, half_rows.data(), kRows,
                 kDims * 2, labels.data(), 2);
  expect_nearest(rows, centers, kDims, true, labels);
  // Bit strings (hamming): a row equal to center 5 goes to center 5.
  constexpr std::size_t kBytes = 8;
  std::vector<std::uint8_t> bit_centers(kCenters * kBytes), bit_rows(3 * kBytes);
  std::mt19937_64 rng(5);
  for (auto& b : bit_centers) b = static_cast<std::uint8_t>(rng());
  for (std::size_t i = 0; i < 3; ++i)
    std::copy(bit_centers.begin() + (5 + i) * kBytes, bit_centers.begin() + (6 + i) * kBytes,
              bit_rows.begin() + i * kBytes);
  const VectorDistance hamming(Metric::kHamming, kBytes * 8, Format::kBit);
  std::vector<std::uint32_t> bit_labels(3);
  assign_nearest(hamming, bit_centers.data(), kCenters, kBytes, bit_rows.data(), 3, kBytes,
                 bit_labels.data(), 2);
  EXPECT_EQ(bit_labels, (std::vector<std::uint32_t>{5, 6, 7}));
}

// An exception on a worker's slice stops the others and reaches the caller after the join.
TEST(ParallelSlices, WorkerExceptionReachesCaller) {
  std::atomic<int> finished{0};
  EXPECT_THROW(
      parallel_slices(100000, 4,
                      [&](std::size_t begin, std::size_t, const std::atomic<bool>&, bool poll) {
                        if (!poll && begin > 50000) throw std::runtime_error("worker failed");
                        ++finished;
                        return std::size_t{1};
                      }),
      std::runtime_error);
  EXPECT_GE(finished.load(), 1);
  EXPECT_EQ(parallel_slices(
                100000, 4,
                [](std::size_t b, std::size_t e, const std::atomic<bool>&, bool) { return e - b; }),
            100000u);
}

}  // namespace
}  // namespace embedding::ivf
