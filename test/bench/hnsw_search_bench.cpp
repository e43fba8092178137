// In-process cost of the two ways the core searches a built graph, on the same graph and queries:
//   knn_search:  the plain k-NN search (the build and the in-process comparisons use it);
//   layer_scan:  the first batch of LayerScan with an IdSet visited set, which is what an index
//                scan runs (pg/hnsw/scan.cpp) minus the page reads.
// The difference is the scan's own overhead: the hash-set visited set and the bookkeeping that
// lets an iterative scan resume. Data: a Gaussian mixture (64 clusters, 100 dims, cosine), 50,000
// rows, m 16, ef_construction 64, k 10, ef_search 40/160; times are per query.
#include <benchmark/benchmark.h>

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "core/common/id_set.h"
#include "core/hnsw/memory_graph.h"
#include "core/hnsw/search.h"

namespace {

using namespace embedding::hnsw;

constexpr std::size_t kRows = 50000, kDims = 100, kQueries = 256, kClusters = 64;

struct Fixture {
  std::unique_ptr<MemoryGraph> graph;
  std::vector<float> queries;
};

void normalise(float* v) {
  double norm = 0;
  for (std::size_t d = 0; d < kDims; ++d) norm += double(v[d]) * v[d];
  const float inv = static_cast<float>(1.0 / std::sqrt(norm));
  for (std::size_t d = 0; d < kDims; ++d) v[d] *= inv;
}

const Fixture& fixture() {
  static const Fixture* f = [] {
    auto* out = new Fixture;
    std::mt19937_64 rng(7);
    std::normal_distribution<float> gauss(0.0f, 1.0f);
    std::vector<float> centers(kClusters * kDims);
    for (float& x : centers) x = gauss(rng);
    auto row = [&](float* v) {
      const float* c = &centers[(rng() % kClusters) * kDims];
      for (std::size_t d = 0; d < kDims; ++d) v[d] = c[d] + 0.6f * gauss(rng);
      normalise(v);
    };
    out->graph = std::make_unique<MemoryGraph>(kDims, Metric::kCosine, Params{16, 64}, 1, kRows);
    std::vector<float> v(kDims);
    for (std::size_t i = 0; i < kRows; ++i) {
      row(v.data());
      out->graph->add(v.data());
    }
    BuildOptions options;
    options.threads = 2;
    out->graph->build(options);
    out->queries.resize(kQueries * kDims);
    for (std::size_t q = 0; q < kQueries; ++q) row(&out->queries[q * kDims]);
    return out;
  }();
  return *f;
}

void BM_KnnSearch(benchmark::State& state) {
  const Fixture& f = fixture();
  const auto ef = static_cast<std::size_t>(state.range(0));
  MemorySearchContext context;
  context.visited.resize(f.graph->size());
  std::vector<Candidate> out;
  std::size_t q = 0;
  for (auto _ : state) {
    const float* query = &f.queries[(q++ % kQueries) * kDims];
    MemoryGraph::QueryDistanceFn dist(*f.graph, query);
    knn_search(*f.graph, dist, context.visited, 10, ef, context.scratch, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_KnnSearch)->Arg(40)->Arg(160);

void BM_LayerScanFirstBatch(benchmark::State& state) {
  const Fixture& f = fixture();
  const auto ef = static_cast<std::size_t>(state.range(0));
  embedding::IdSet visited(24 * ef);
  SearchScratch scratch;
  std::vector<Candidate> out;
  std::size_t q = 0;
  for (auto _ : state) {
    const float* query = &f.queries[(q++ % kQueries) * kDims];
    MemoryGraph::QueryDistanceFn dist(*f.graph, query);
    LayerScan<const MemoryGraph, MemoryGraph::QueryDistanceFn, embedding::IdSet> scan(
        *f.graph, dist, visited, scratch);
    out.clear();
    scan.next_batch(ef, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_LayerScanFirstBatch)->Arg(40)->Arg(160);

}  // namespace

BENCHMARK_MAIN();
