// Clustering for SQL users: k-means (the ivfflat k-means: k-means++ seeding, Lloyd passes) with
// its inertia, labels and cluster sizes, and the silhouette coefficient of a labelling.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace embedding::analysis {

struct ClusterFit {
  std::vector<float> centers;         // k x dims (unit vectors when spherical)
  std::vector<float> seeds;           // k x dims: the k-means++ seeding
  std::vector<std::uint64_t> sizes;   // rows per cluster
  std::vector<std::uint32_t> labels;  // per row, 0-based
  double inertia = 0.0;               // sum of squared L2 distances to the assigned centers
  int iterations = 0;
  double seeding_seconds = 0.0;  // of the k-means++ seeding (benchmarks)
};

// After each Lloyd pass that moved the centers (on the caller's thread): the pass, rows that
// changed cluster, and the inertia of that pass's labels.
using KMeansProgress = std::function<void(int iteration, std::size_t changed, double inertia)>;

// k-means of n rows (1 <= k <= n). Spherical: the rows are normalised in place first (a row of
// zeros is an error) and centers are unit vectors (cosine). Throws Error(kInvalidParameter).
ClusterFit kmeans_fit(float* rows, std::size_t n, std::size_t dims, std::size_t k,
                      int max_iterations, std::uint64_t seed, bool spherical, int threads,
                      const KMeansProgress& progress = nullptr);

// The mean silhouette coefficient (Euclidean distance) of n rows labelled 0..clusters-1, as
// scikit-learn's silhouette_score: a row alone in its cluster scores 0. Needs
// 2 <= clusters <= n - 1. O(n^2 dims), on `threads` threads.
double silhouette(const float* rows, std::size_t n, std::size_t dims, const std::uint32_t* labels,
                  std::size_t clusters, int threads);

}  // namespace embedding::analysis
