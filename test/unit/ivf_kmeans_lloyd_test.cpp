// k-means (kmeans.cpp) against a plain Lloyd written here: from the same seeds, overlapping
// clusters end as good (inertia), the labels returned are each row's nearest final center, and
// the progress callback sees the inertia fall.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/ivf/kmeans.h"

namespace embedding::ivf {
namespace {

double squared(const float* a, const float* b, std::size_t dims) {
  double sum = 0.0;
  for (std::size_t j = 0; j < dims; ++j) sum += (static_cast<double>(a[j]) - b[j]) * (a[j] - b[j]);
  return sum;
}

std::uint32_t nearest(const std::vector<float>& centers, std::size_t k, std::size_t dims,
                      const float* x) {
  std::uint32_t best = 0;
  double best_distance = std::numeric_limits<double>::infinity();
  for (std::size_t c = 0; c < k; ++c) {
    const double d = squared(x, centers.data() + c * dims, dims);
    if (d < best_distance) best_distance = d, best = static_cast<std::uint32_t>(c);
  }
  return best;
}

// Lloyd without bounds, the stopping rule of kmeans(): passes = iterations run.
std::vector<float> plain_lloyd(const std::vector<float>& rows, std::size_t dims, std::size_t k,
                               std::vector<float> centers, int passes) {
  const std::size_t n = rows.size() / dims;
  std::vector<std::uint32_t> labels(n, UINT32_MAX);
  for (int pass = 0; pass < passes; ++pass) {
    for (std::size_t i = 0; i < n; ++i) labels[i] = nearest(centers, k, dims, &rows[i * dims]);
    if (pass + 1 == passes) break;
    std::vector<double> sums(k * dims, 0.0);
    std::vector<std::size_t> counts(k, 0);
    for (std::size_t i = 0; i < n; ++i) {
      ++counts[labels[i]];
      for (std::size_t j = 0; j < dims; ++j) sums[labels[i] * dims + j] += rows[i * dims + j];
    }
    for (std::size_t c = 0; c < k; ++c)
      if (counts[c] > 0)
        for (std::size_t j = 0; j < dims; ++j)
          centers[c * dims + j] = static_cast<float>(sums[c * dims + j] / counts[c]);
  }
  return centers;
}

TEST(KMeansLloyd, PassesMatchPlainLloydFromTheSameSeeds) {
  constexpr std::size_t kDims = 24, kK = 40, kN = 6000;
  std::mt19937_64 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> rows(kN * kDims);
  for (std::size_t i = 0; i < kN; ++i) {
    const float shift = static_cast<float>(i % 7);  // seven loose, overlapping groups
    for (std::size_t j = 0; j < kDims; ++j) rows[i * kDims + j] = normal(rng) + (j < 3 ? shift : 0);
  }
  for (int threads : {1, 3}) {
    KMeansOptions options;
    options.max_iterations = 25;
    options.threads = threads;
    std::vector<double> inertias;
    options.progress = [&](int, std::size_t, double inertia) { inertias.push_back(inertia); };
    const KMeansResult result = kmeans(rows.data(), kN, kDims, kK, options);
    // Each pass that moved the centers was reported; Lloyd never raises the inertia.
    ASSERT_FALSE(inertias.empty());
    for (std::size_t p = 1; p < inertias.size(); ++p)
      EXPECT_LE(inertias[p], inertias[p - 1] * (1 + 1e-6)) << "pass " << p + 1;
    const std::vector<float> reference =
        plain_lloyd(rows, kDims, kK, result.seeds, static_cast<int>(inertias.size()) + 1);
    // The float matrix product may break a near-tie the other way than double arithmetic, and
    // Lloyd then drifts a little: the two fits end equally good rather than bit-equal.
    const auto inertia = [&](const std::vector<float>& centers) {
      double sum = 0.0;
      for (std::size_t i = 0; i < kN; ++i)
        sum += squared(&rows[i * kDims],
                       &centers[nearest(centers, kK, kDims, &rows[i * kDims]) * kDims], kDims);
      return sum;
    };
    const double ours = inertia(result.centers), plain = inertia(reference);
    EXPECT_NEAR(ours, plain, 1e-3 * plain) << threads << " threads";
    EXPECT_NEAR(inertias.back(), plain, 2e-2 * plain);  // the last reported pass, one update behind
    ASSERT_EQ(result.labels.size(), kN);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < kN; ++i)
      wrong += result.labels[i] != nearest(result.centers, kK, kDims, &rows[i * kDims]);
    EXPECT_EQ(wrong, 0u) << threads << " threads";
  }
}

}  // namespace
}  // namespace embedding::ivf
