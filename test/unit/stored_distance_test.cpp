// Unit tests of the stored-vector vocabulary (core/vector/format.h) and VectorDistance
// (core/vector/stored_distance.h): sizes, metric/format pairing, each metric's distance.
#include "core/vector/stored_distance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "core/common/error.h"
#include "core/vector/half.h"

namespace embedding {
namespace {

TEST(StoredFormat, ElementBytesRoundUpToFloatAlignment) {
  EXPECT_EQ(element_bytes(Format::kFloat32, 3), 12u);
  EXPECT_EQ(element_bytes(Format::kFloat16, 3), 8u);  // 6 bytes, padded
  EXPECT_EQ(element_bytes(Format::kBit, 9), 4u);      // 2 bytes, padded
  EXPECT_EQ(element_bytes(Format::kBit, 33), 8u);
  EXPECT_EQ(element_bytes(Format::kSparse, 1000), 4u);  // the nnz word alone
  static_assert(element_bytes(Format::kFloat32, 2000) == 8000);
}

TEST(StoredFormat, VectorSizeReadsTheSparseCount) {
  const std::int32_t sparse[1 + 2 * 3] = {3, 0, 4, 9, 0, 0, 0};
  EXPECT_EQ(vector_size(Format::kSparse, 100, sparse), 4u + 8u * 3);
  EXPECT_EQ(vector_size(Format::kFloat16, 5, sparse), element_bytes(Format::kFloat16, 5));
}

TEST(StoredFormat, MetricsPairOnlyWithTheirFormats) {
  for (Format format : {Format::kFloat32, Format::kFloat16, Format::kSparse}) {
    EXPECT_TRUE(supports(format, Metric::kL2));
    EXPECT_TRUE(supports(format, Metric::kCosine));
    EXPECT_FALSE(supports(format, Metric::kHamming));
    EXPECT_FALSE(supports(format, Metric::kJaccard));
  }
  EXPECT_TRUE(supports(Format::kBit, Metric::kHamming));
  EXPECT_FALSE(supports(Format::kBit, Metric::kInnerProduct));
}

TEST(StoredDistance, MetricsOrderLikeTheirDefinitions) {
  const float a[3] = {1.0f, 0.0f, 0.0f}, b[3] = {0.0f, 2.0f, 0.0f};
  EXPECT_FLOAT_EQ(VectorDistance(Metric::kL2, 3)(a, b), 5.0f);
  EXPECT_FLOAT_EQ(VectorDistance(Metric::kL1, 3)(a, b), 3.0f);
  EXPECT_FLOAT_EQ(VectorDistance(Metric::kInnerProduct, 3)(a, a), -1.0f);
  EXPECT_FLOAT_EQ(VectorDistance(Metric::kCosine, 3)(a, a), 0.0f);
  const float c[3] = {0.0f, 0.0f, 3.0f};  // orthogonal to a (a + 1 once read past a's end)
  EXPECT_FLOAT_EQ(VectorDistance(Metric::kCosine, 3)(a, c), 1.0f);
}

TEST(StoredDistance, HalfAndBitFormats) {
  const vec::Half a[2] = {vec::float_to_half(1.0f), vec::float_to_half(2.0f)};
  const vec::Half b[2] = {vec::float_to_half(3.0f), vec::float_to_half(0.0f)};
  EXPECT_FLOAT_EQ(VectorDistance(Metric::kL2, 2, Format::kFloat16)(a, b), 8.0f);
  const std::uint8_t x[4] = {0xf0, 0, 0, 0}, y[4] = {0x30, 0, 0, 0};
  EXPECT_FLOAT_EQ(VectorDistance(Metric::kHamming, 8, Format::kBit)(x, y), 2.0f);
  EXPECT_FLOAT_EQ(VectorDistance(Metric::kJaccard, 8, Format::kBit)(x, y), 0.5f);
}

TEST(StoredDistance, WrongPairingNamesNoIndex) {
  try {
    VectorDistance(Metric::kHamming, 8, Format::kFloat32);
    FAIL() << "no error";
  } catch (const Error& e) {
    // ivfflat and hnsw both use it: the message must not name one of them.
    EXPECT_EQ(std::string(e.what()).find("HNSW"), std::string::npos) << e.what();
  }
}

TEST(StoredDistance, OrderableMakesNaNTheFarthest) {
  EXPECT_EQ(orderable(std::numeric_limits<float>::quiet_NaN()),
            std::numeric_limits<float>::infinity());
  EXPECT_EQ(orderable(1.5f), 1.5f);
}

}  // namespace
}  // namespace embedding
