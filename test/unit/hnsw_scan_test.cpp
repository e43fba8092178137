// The resumable level-0 scan (LayerScan) behind iterative index scans: its first batch is the
// ordinary k-NN search, and further batches return every other node exactly once.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "core/hnsw/memory_graph.h"
#include "core/hnsw/search.h"

namespace embedding::hnsw {
namespace {

TEST(HnswScan, BatchesContinueTheSearchAndCoverEveryNodeOnce) {
  constexpr std::size_t kRows = 3000, kDims = 16;
  std::mt19937_64 rng(21);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  MemoryGraph graph(kDims, Metric::kL2, Params{8, 32}, 5);
  std::vector<float> v(kDims);
  for (std::size_t i = 0; i < kRows; ++i) {
    for (float& x : v) x = uniform(rng);
    graph.add(v.data());
  }
  graph.build();
  for (float& x : v) x = uniform(rng);

  MemorySearchContext context;
  std::vector<Candidate> expected;
  graph.search(v.data(), 40, 40, context, expected);

  MemorySearchContext scan_context;
  scan_context.visited.resize(graph.size());
  scan_context.scratch.prepare(max_neighbors(graph.params(), 0));
  MemoryGraph::QueryDistanceFn dist(graph, v.data());
  LayerScan scan(graph, dist, scan_context.visited, scan_context.scratch);
  std::vector<Candidate> returned;
  ASSERT_TRUE(scan.next_batch(40, returned));
  ASSERT_EQ(returned.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(returned[i].node, expected[i].node);
  EXPECT_GT(scan.pending(), 0u);

  std::size_t batches = 1;
  for (std::size_t before = returned.size(); scan.next_batch(40, returned);
       before = returned.size()) {
    ++batches;
    EXPECT_LE(returned.size() - before, 40u);
    EXPECT_TRUE(std::is_sorted(
        returned.begin() + static_cast<std::ptrdiff_t>(before), returned.end(),
        [](const Candidate& a, const Candidate& b) { return a.distance < b.distance; }));
  }
  EXPECT_EQ(scan.pending(), 0u);
  EXPECT_FALSE(scan.next_batch(40, returned));
  EXPECT_GE(batches, kRows / 40);

  std::vector<NodeId> ids;
  for (const Candidate& c : returned) ids.push_back(c.node);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << "a node came back twice";
  EXPECT_EQ(ids.size(), kRows);

  // Later batches are farther on the whole: the second 40 are beyond the first 40.
  double first = 0.0, second = 0.0;
  for (std::size_t i = 0; i < 40; ++i)
    first += returned[i].distance, second += returned[40 + i].distance;
  EXPECT_LT(first, second);
}

TEST(HnswScan, EmptyGraphHasNoBatch) {
  MemoryGraph graph(4, Metric::kL2, Params{}, 1);
  MemorySearchContext context;
  const float q[4] = {0, 0, 0, 0};
  MemoryGraph::QueryDistanceFn dist(graph, q);
  LayerScan scan(graph, dist, context.visited, context.scratch);
  std::vector<Candidate> out;
  EXPECT_FALSE(scan.next_batch(10, out));
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace embedding::hnsw
