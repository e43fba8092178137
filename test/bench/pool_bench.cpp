// The work the core's worker pool carries: an in-memory hnsw build (nodes claimed one at a time by
// every thread) and ivfflat's k-means (one assignment pass a Lloyd iteration, cut into slices).
// Data: Gaussian clusters (100 dims), 20,000 rows for the build (m 16, ef_construction 64, cosine),
// 50,000 rows and 100 lists for k-means; argument: threads, the caller's included.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/hnsw/memory_graph.h"
#include "core/ivf/kmeans.h"

namespace {

constexpr std::size_t kDims = 100, kClusters = 64;

std::vector<float> clustered_rows(std::size_t n) {
  std::mt19937_64 rng(7);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::vector<float> centers(kClusters * kDims), rows(n * kDims);
  for (float& x : centers) x = gauss(rng);
  for (std::size_t i = 0; i < n; ++i) {
    const float* c = &centers[(rng() % kClusters) * kDims];
    double norm = 0;
    for (std::size_t d = 0; d < kDims; ++d) {
      rows[i * kDims + d] = c[d] + 0.6f * gauss(rng);
      norm += double(rows[i * kDims + d]) * rows[i * kDims + d];
    }
    for (std::size_t d = 0; d < kDims; ++d)
      rows[i * kDims + d] /= static_cast<float>(std::sqrt(norm));
  }
  return rows;
}

void BM_MemoryGraphBuild(benchmark::State& state) {
  using namespace embedding::hnsw;
  constexpr std::size_t kRows = 20000;
  static const std::vector<float> rows = clustered_rows(kRows);
  for (auto _ : state) {
    MemoryGraph graph(kDims, Metric::kCosine, Params{16, 64}, 1, kRows);
    for (std::size_t i = 0; i < kRows; ++i) graph.add(&rows[i * kDims]);
    BuildOptions options;
    options.threads = static_cast<int>(state.range(0));
    graph.build(options);
    benchmark::DoNotOptimize(graph.size());
  }
}
BENCHMARK(BM_MemoryGraphBuild)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_KMeans(benchmark::State& state) {
  constexpr std::size_t kRows = 50000, kLists = 100;
  static const std::vector<float> rows = clustered_rows(kRows);
  for (auto _ : state) {
    embedding::ivf::KMeansOptions options;
    options.threads = static_cast<int>(state.range(0));
    options.spherical = true;
    options.max_iterations = 10;
    benchmark::DoNotOptimize(embedding::ivf::kmeans(rows.data(), kRows, kDims, kLists, options));
  }
}
BENCHMARK(BM_KMeans)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
