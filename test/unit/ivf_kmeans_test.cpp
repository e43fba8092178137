// k-means for ivfflat: finds planted clusters, spherical centers are unit vectors, fewer rows
// than centers, threads give the same answer as one. (Assignment: ivf_assign_test.cpp.)
#include "core/ivf/kmeans.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <set>
#include <vector>

namespace embedding::ivf {
namespace {

constexpr std::size_t kDims = 16;

// `clusters` tight Gaussian blobs (sigma 0.01) around centres spread in [-1, 1]^d.
std::vector<float> blobs(std::size_t clusters, std::size_t per_cluster, std::uint64_t seed,
                         std::vector<float>* centres) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::normal_distribution<float> noise(0.0f, 0.01f);
  centres->resize(clusters * kDims);
  for (float& c : *centres) c = uniform(rng);
  std::vector<float> rows;
  for (std::size_t c = 0; c < clusters; ++c)
    for (std::size_t i = 0; i < per_cluster; ++i)
      for (std::size_t j = 0; j < kDims; ++j)
        rows.push_back((*centres)[c * kDims + j] + noise(rng));
  return rows;
}

TEST(KMeans, RecoversPlantedClusters) {
  std::vector<float> centres;
  const auto rows = blobs(10, 200, 1, &centres);
  KMeansOptions options;
  const KMeansResult result = kmeans(rows.data(), rows.size() / kDims, kDims, 10, options);
  // Every planted centre has a found center within the noise radius.
  for (std::size_t c = 0; c < 10; ++c) {
    const std::size_t nearest =
        nearest_center(result.centers.data(), 10, kDims, centres.data() + c * kDims, false);
    double d = 0;
    for (std::size_t j = 0; j < kDims; ++j) {
      const double diff = result.centers[nearest * kDims + j] - centres[c * kDims + j];
      d += diff * diff;
    }
    EXPECT_LT(std::sqrt(d), 0.05) << "planted cluster " << c;
  }
  // And the rows of one blob all go to one center, a different one for each blob.
  std::set<std::size_t> used;
  for (std::size_t c = 0; c < 10; ++c) {
    std::set<std::size_t> labels;
    for (std::size_t i = 0; i < 200; ++i)
      labels.insert(nearest_center(result.centers.data(), 10, kDims,
                                   rows.data() + (c * 200 + i) * kDims, false));
    EXPECT_EQ(labels.size(), 1u);
    used.insert(*labels.begin());
  }
  EXPECT_EQ(used.size(), 10u);
  EXPECT_GE(result.iterations, 1);
}

TEST(KMeans, SphericalCentersAreUnitVectors) {
  std::vector<float> centres;
  auto rows = blobs(8, 100, 2, &centres);
  for (std::size_t i = 0; i < rows.size() / kDims; ++i) {
    double n = 0;
    for (std::size_t j = 0; j < kDims; ++j) n += rows[i * kDims + j] * rows[i * kDims + j];
    for (std::size_t j = 0; j < kDims; ++j) rows[i * kDims + j] /= static_cast<float>(std::sqrt(n));
  }
  KMeansOptions options;
  options.spherical = true;
  const KMeansResult result = kmeans(rows.data(), rows.size() / kDims, kDims, 8, options);
  for (std::size_t c = 0; c < 8; ++c) {
    double n = 0;
    for (std::size_t j = 0; j < kDims; ++j)
      n += result.centers[c * kDims + j] * result.centers[c * kDims + j];
    EXPECT_NEAR(n, 1.0, 1e-5);
  }
}

TEST(KMeans, FewerRowsThanCenters) {
  const std::vector<float> rows(3 * kDims, 0.5f);
  KMeansOptions options;
  const KMeansResult result = kmeans(rows.data(), 3, kDims, 10, options);
  ASSERT_EQ(result.centers.size(), 10 * kDims);
  EXPECT_EQ(result.centers[0], 0.5f);
  for (float x : result.centers) EXPECT_TRUE(std::isfinite(x));
  const KMeansResult none = kmeans(nullptr, 0, kDims, 4, options);
  EXPECT_EQ(none.centers.size(), 4 * kDims);
}

TEST(KMeans, ThreadsGiveTheSameCenters) {
  std::vector<float> centres;
  const auto rows = blobs(20, 300, 3, &centres);
  KMeansOptions one, four;
  four.threads = 4;
  const auto a = kmeans(rows.data(), rows.size() / kDims, kDims, 20, one);
  const auto b = kmeans(rows.data(), rows.size() / kDims, kDims, 20, four);
  EXPECT_EQ(a.centers, b.centers);
}

TEST(KMeans, NearestCenterIsTheClosest) {
  std::mt19937_64 rng(4);
  std::normal_distribution<float> normal;
  std::vector<float> centers(50 * kDims), x(kDims);
  for (float& c : centers) c = normal(rng);
  for (int trial = 0; trial < 100; ++trial) {
    for (float& v : x) v = normal(rng);
    const std::size_t got = nearest_center(centers.data(), 50, kDims, x.data(), false);
    double best = 1e300;
    std::size_t want = 0;
    for (std::size_t c = 0; c < 50; ++c) {
      double d = 0;
      for (std::size_t j = 0; j < kDims; ++j)
        d += (x[j] - centers[c * kDims + j]) * (x[j] - centers[c * kDims + j]);
      if (d < best) best = d, want = c;
    }
    EXPECT_EQ(got, want);
  }
}

}  // namespace
}  // namespace embedding::ivf

namespace embedding::ivf {
namespace {

// Bit strings: planted clusters of 64-bit codes with 2 flipped bits each are recovered, centers
// keep padding bits zero, and fewer rows than centers work.
TEST(KMeansBits, RecoversPlantedCodes) {
  constexpr std::size_t kBits = 60, kBytes = 8, kClusters = 6;
  std::mt19937_64 rng(5);
  std::vector<std::uint64_t> codes(kClusters);
  for (auto& c : codes) c = rng() & ~std::uint64_t{0xf};  // 60 bits used, low 4 are padding
  std::vector<std::uint8_t> rows;
  for (std::size_t c = 0; c < kClusters; ++c)
    for (int i = 0; i < 50; ++i) {
      std::uint64_t x = codes[c] ^ (std::uint64_t{1} << (4 + rng() % 60)) ^
                        (std::uint64_t{1} << (4 + rng() % 60));
      for (int b = 7; b >= 0; --b) rows.push_back(static_cast<std::uint8_t>(x >> (8 * b)));
    }
  const auto centers = kmeans_bits(rows.data(), rows.size() / kBytes, kBytes, kBits, kClusters, {});
  ASSERT_EQ(centers.size(), kClusters * kBytes);
  for (std::size_t c = 0; c < kClusters; ++c) {
    std::uint8_t code[kBytes];
    for (int b = 0; b < 8; ++b) code[b] = static_cast<std::uint8_t>(codes[c] >> (8 * (7 - b)));
    const std::size_t nearest = nearest_bit_center(centers.data(), kClusters, kBytes, code);
    EXPECT_EQ(0, std::memcmp(centers.data() + nearest * kBytes, code, kBytes)) << "cluster " << c;
  }
  for (std::size_t c = 0; c < kClusters; ++c) EXPECT_EQ(centers[c * kBytes + 7] & 0x0f, 0);
}

TEST(KMeansBits, FewerRowsThanCenters) {
  const std::vector<std::uint8_t> rows = {0xf0, 0x0f};
  const auto centers = kmeans_bits(rows.data(), 2, 1, 5, 4, {});
  ASSERT_EQ(centers.size(), 4u);
  EXPECT_EQ(centers[0], 0xf0);
  EXPECT_EQ(centers[1], 0x0f);
  for (std::size_t c = 2; c < 4; ++c) EXPECT_EQ(centers[c] & 0x07, 0);  // 5 bits: 3 padding
}

}  // namespace
}  // namespace embedding::ivf
