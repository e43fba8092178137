// The resumable level-0 scan (LayerScan) behind iterative index scans: its first batch is the
// ordinary k-NN search, and further batches return every other node exactly once.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <optional>
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

// A complete graph on one layer: every node links every other, so the first search evaluates
// every node, and each later batch can only be the closest nodes left over. The batches must
// then be exactly the nodes ranked by distance, ef at a time, however many times the scan
// resumes (the leftovers are kept unordered until a resume orders them).
struct CompleteGraph {
  std::size_t n;
  std::optional<EntryPoint> entry_point() const { return EntryPoint{0, 0}; }
  std::size_t neighbor_capacity(int) const { return n; }
  std::size_t neighbors(NodeId node, int, NodeId* out) const {
    std::size_t count = 0;
    for (NodeId other = 0; other < n; ++other)
      if (other != node) out[count++] = other;
    return count;
  }
};

TEST(HnswScan, ResumedBatchesAreTheNextClosestLeftovers) {
  constexpr std::size_t kNodes = 300, kEf = 7;
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<float> uniform(-100.0f, 100.0f);
  std::vector<float> x(kNodes);
  for (float& v : x) v = uniform(rng);
  const float query = 3.25f;
  auto dist = [&](NodeId node) { return std::abs(x[node] - query); };
  std::vector<NodeId> ranked(kNodes);
  for (NodeId i = 0; i < kNodes; ++i) ranked[i] = i;
  std::sort(ranked.begin(), ranked.end(), [&](NodeId a, NodeId b) { return dist(a) < dist(b); });

  CompleteGraph graph{kNodes};
  GenerationVisitedSet visited(kNodes);
  SearchScratch scratch;
  LayerScan scan(graph, dist, visited, scratch);
  std::vector<Candidate> returned;
  std::size_t batches = 0;
  while (scan.next_batch(kEf, returned)) ++batches;
  EXPECT_EQ(batches, (kNodes + kEf - 1) / kEf);
  ASSERT_EQ(returned.size(), kNodes);
  for (std::size_t i = 0; i < kNodes; ++i) EXPECT_EQ(returned[i].node, ranked[i]) << "rank " << i;
}

// Points on a line linked as a path (each to the next and the previous): a resumed search finds
// only a few new nodes each time, so leftovers pile up across many resumes and each resume must
// merge the new ones into those already ordered. On a path the batches are still exactly the nodes
// by distance, ef at a time.
struct PathGraph {
  std::size_t n;
  std::optional<EntryPoint> entry_point() const { return EntryPoint{0, 0}; }
  std::size_t neighbor_capacity(int) const { return 2; }
  std::size_t neighbors(NodeId node, int, NodeId* out) const {
    std::size_t count = 0;
    if (node > 0) out[count++] = node - 1;
    if (node + 1 < n) out[count++] = node + 1;
    return count;
  }
};

TEST(HnswScan, ResumesMergeNewLeftoversIntoOrderedOnes) {
  constexpr std::size_t kNodes = 400;
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<float> step(0.5f, 1.5f);
  std::vector<float> x(kNodes);  // increasing along the path, unevenly spaced
  for (std::size_t i = 1; i < kNodes; ++i) x[i] = x[i - 1] + step(rng);
  const float query = x[kNodes / 3] + 0.25f;
  auto dist = [&](NodeId node) { return std::abs(x[node] - query); };
  std::vector<NodeId> ranked(kNodes);
  for (NodeId i = 0; i < kNodes; ++i) ranked[i] = i;
  std::sort(ranked.begin(), ranked.end(), [&](NodeId a, NodeId b) { return dist(a) < dist(b); });

  for (std::size_t ef : {1, 3, 8}) {
    PathGraph graph{kNodes};
    GenerationVisitedSet visited(kNodes);
    SearchScratch scratch;
    LayerScan scan(graph, dist, visited, scratch);
    std::vector<Candidate> returned;
    while (scan.next_batch(ef, returned)) {
    }
    ASSERT_EQ(returned.size(), kNodes) << "ef " << ef;
    for (std::size_t i = 0; i < kNodes; ++i)
      ASSERT_EQ(returned[i].node, ranked[i]) << "ef " << ef << ", rank " << i;
  }
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
