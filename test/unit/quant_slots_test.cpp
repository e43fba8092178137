// Index slots (core/quant/slots.h): the estimator's 1-bit table path agrees with the quantiser's
// estimates, epsilon lowers an estimate by its bound, and the metrics map to the exact scale.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/quant/slots.h"
#include "core/vector/stored_distance.h"
#include "random_vectors.h"

namespace embedding::quant {
namespace {

class SlotMetrics : public ::testing::TestWithParam<Metric> {};

TEST_P(SlotMetrics, EstimatesMatchTheQuantizerAndTrackExactDistances) {
  const Metric metric = GetParam();
  constexpr std::size_t kDims = 100, kRows = 300;
  std::vector<float> rows = test::normal_floats(kRows * kDims, 3),
                     query = test::normal_floats(kDims, 4);
  if (metric == Metric::kCosine) {
    auto unit = [](float* v) {
      const double n = std::sqrt(test::exact_dot(v, v, kDims));
      for (std::size_t d = 0; d < kDims; ++d) v[d] = static_cast<float>(v[d] / n);
    };
    for (std::size_t r = 0; r < kRows; ++r) unit(&rows[r * kDims]);
    unit(query.data());
  }
  std::vector<float> center(kDims, 0.0f);  // the rows' mean
  for (std::size_t r = 0; r < kRows; ++r)
    for (std::size_t d = 0; d < kDims; ++d) center[d] += rows[r * kDims + d] / kRows;
  const SlotCodec codec(metric, kDims, 1, 17, center.data());
  std::vector<std::uint8_t> slots(kRows * codec.stride());
  std::vector<float> scratch(codec.scratch_floats());
  for (std::size_t r = 0; r < kRows; ++r)
    codec.encode(&rows[r * kDims], &slots[r * codec.stride()], scratch.data());
  SlotEstimator plain, bounded;
  plain.prepare(codec, query.data());
  bounded.prepare(codec, query.data(), 2.0f);
  PreparedQuery reference;
  codec.quantizer().prepare(query.data(), metric == Metric::kL2, reference);
  reference.planes.clear();  // the quantiser's float path (the slots' tables use the float query)
  const VectorDistance exact(metric, kDims);
  double error = 0.0, spread = 0.0, mean = 0.0;
  for (std::size_t r = 0; r < kRows; ++r) mean += exact(query.data(), &rows[r * kDims]) / kRows;
  for (std::size_t r = 0; r < kRows; ++r) {
    const std::uint8_t* slot = &slots[r * codec.stride()];
    CodeFactors f;
    std::memcpy(&f, slot + codec.code_bytes(), sizeof f);
    const Quantizer& q = codec.quantizer();
    const Estimate e = metric == Metric::kL2 ? q.l2_squared(reference, slot, f, 2.0f)
                                             : q.negative_dot(reference, slot, f, 2.0f);
    const float offset = metric == Metric::kCosine ? 1.0f : 0.0f;
    EXPECT_NEAR(plain(slot), offset + e.distance, 1e-3f * (1.0f + std::fabs(e.distance)));
    EXPECT_NEAR(bounded(slot), offset + e.distance - e.bound,
                1e-3f * (1.0f + std::fabs(e.distance)));
    EXPECT_LT(bounded(slot), plain(slot));
    const double d = exact(query.data(), &rows[r * kDims]);
    error += (plain(slot) - d) * (plain(slot) - d);
    spread += (d - mean) * (d - mean);
  }
  // The estimates explain most of the exact distances' spread (they would not for wrong codes).
  EXPECT_LT(error, 0.5 * spread);
}

INSTANTIATE_TEST_SUITE_P(Metrics, SlotMetrics,
                         ::testing::Values(Metric::kL2, Metric::kCosine, Metric::kInnerProduct));

TEST(Slots, RejectMetricsWithoutAnEstimator) {
  EXPECT_THROW(SlotCodec(Metric::kL1, 8, 1, 1, nullptr), std::exception);
  EXPECT_THROW(SlotCodec(Metric::kHamming, 8, 1, 1, nullptr), std::exception);
}

}  // namespace
}  // namespace embedding::quant
