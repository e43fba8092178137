// The search steered by neighbour codes (guided_search.h) over the in-memory graph: it finds the
// neighbours the plain search finds, returns exact distances in order, and its resumable scan
// returns every node once.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <vector>

#include "core/common/id_set.h"
#include "core/hnsw/coded_memory.h"
#include "core/hnsw/search.h"
#include "random_vectors.h"

namespace embedding::hnsw {
namespace {

constexpr std::size_t kDims = 48;

// Rows around 20 centres, shifted away from the origin (so that the codes' centre matters).
std::vector<float> clustered_rows(std::size_t rows, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const std::vector<float> centres = test::normal_floats(20 * kDims, rng, 0.5f);
  std::vector<float> out(rows * kDims);
  std::normal_distribution<float> noise(0.0f, 0.6f);
  for (std::size_t r = 0; r < rows; ++r) {
    const float* c = &centres[(r % 20) * kDims];
    for (std::size_t d = 0; d < kDims; ++d) out[r * kDims + d] = c[d] + noise(rng);
  }
  return out;
}

void normalise(float* v) {
  const double n = std::sqrt(test::exact_dot(v, v, kDims));
  for (std::size_t d = 0; d < kDims; ++d) v[d] = static_cast<float>(v[d] / n);
}

struct Fixture {
  std::vector<float> rows;
  MemoryGraph graph;
  quant::SlotCodec codec;
  std::vector<std::uint8_t> slots;
  Fixture(Metric metric, std::size_t n, const float* center_override = nullptr, bool garble = false)
      : rows(clustered_rows(n, 7)),
        graph(kDims, metric, Params{12, 48}, 3),
        codec(metric, kDims, 1, 99, center_override) {
    if (metric == Metric::kCosine)
      for (std::size_t r = 0; r < n; ++r) normalise(&rows[r * kDims]);
    for (std::size_t r = 0; r < n; ++r) graph.add(&rows[r * kDims]);
    graph.build();
    slots = encode_nodes(graph, codec, 2);
    if (garble) {  // codes of other rows: the estimates no longer fit the vectors
      std::mt19937_64 rng(5);
      const std::size_t stride = codec.stride();
      for (std::size_t i = n; i-- > 1;) {
        const std::size_t j = rng() % (i + 1);
        std::swap_ranges(slots.begin() + i * stride, slots.begin() + (i + 1) * stride,
                         slots.begin() + j * stride);
      }
    }
  }
};

// Recall@10 over 40 queries of the guided search, or with `plain` of the ordinary one.
double recall_at_10(Fixture& f, Metric metric, std::size_t ef, std::size_t* expanded,
                    bool plain = false) {
  std::mt19937_64 rng(11);
  const std::vector<float> queries_raw = clustered_rows(40, 1234);
  GuidedScratch scratch;
  IdSet visited;
  std::size_t hits = 0, total = 0;
  *expanded = 0;
  const VectorDistance exact(metric, kDims);
  for (std::size_t q = 0; q < 40; ++q) {
    std::vector<float> query(&queries_raw[q * kDims], &queries_raw[(q + 1) * kDims]);
    if (metric == Metric::kCosine) normalise(query.data());
    std::vector<std::pair<float, NodeId>> truth;
    for (NodeId i = 0; i < f.graph.size(); ++i)
      truth.emplace_back(exact(query.data(), &f.rows[i * kDims]), i);
    std::partial_sort(truth.begin(), truth.begin() + 10, truth.end());
    MemoryExpander e(f.graph, f.codec, f.slots, query.data());
    std::vector<Candidate> out;
    guided_knn(e, visited, 10, ef, scratch, out);
    if (plain) {
      MemorySearchContext context;
      f.graph.search(query.data(), 10, ef, context, out);
    }
    *expanded += e.expanded();
    EXPECT_EQ(out.size(), 10u);
    for (std::size_t i = 0; i < out.size(); ++i) {
      // Exact distances, in order.
      EXPECT_FLOAT_EQ(out[i].distance, exact(query.data(), &f.rows[out[i].node * kDims]));
      if (i > 0) EXPECT_LE(out[i - 1].distance, out[i].distance);
    }
    for (std::size_t i = 0; i < 10; ++i)
      for (const Candidate& c : out) hits += c.node == truth[i].second;
    total += 10;
  }
  return static_cast<double>(hits) / total;
}

class GuidedMetrics : public ::testing::TestWithParam<Metric> {};

TEST_P(GuidedMetrics, FindsWhatThePlainSearchFindsWithExactDistances) {
  const Metric metric = GetParam();
  Fixture plain(metric, 4000);
  const std::vector<float> center = mean_vector(plain.graph);
  Fixture centred(metric, 4000, center.data());
  std::size_t expanded = 0, unused = 0;
  const double reference = recall_at_10(plain, metric, 64, &unused, /*plain=*/true);
  EXPECT_GE(reference, 0.7);  // the data is not trivial, nor hopeless
  EXPECT_GE(recall_at_10(plain, metric, 64, &expanded), reference - 0.04);
  EXPECT_GE(recall_at_10(centred, metric, 64, &expanded), reference - 0.04);
}

INSTANTIATE_TEST_SUITE_P(Metrics, GuidedMetrics,
                         ::testing::Values(Metric::kL2, Metric::kCosine, Metric::kInnerProduct));

TEST(Guided, CodesOfOtherRowsLoseTheNeighbours) {
  // The recall above comes from the codes: with each node given another row's code it collapses.
  Fixture f(Metric::kL2, 4000, nullptr, /*garble=*/true);
  std::size_t expanded = 0;
  const double reference = recall_at_10(f, Metric::kL2, 64, &expanded, /*plain=*/true);
  EXPECT_LT(recall_at_10(f, Metric::kL2, 64, &expanded), reference - 0.2);
}

TEST(Guided, ScanReturnsEveryNodeOnceInSortedBatches) {
  Fixture f(Metric::kL2, 1500);
  const std::vector<float> query = clustered_rows(1, 77);
  MemoryExpander e(f.graph, f.codec, f.slots, query.data());
  GuidedScratch scratch;
  IdSet visited;
  GuidedScan scan(e, visited, scratch);
  std::vector<Candidate> returned;
  std::size_t batches = 0;
  for (std::size_t before = 0; scan.next_batch(30, returned); before = returned.size()) {
    ++batches;
    EXPECT_LE(returned.size() - before, 30u);
    EXPECT_TRUE(std::is_sorted(
        returned.begin() + static_cast<std::ptrdiff_t>(before), returned.end(),
        [](const Candidate& a, const Candidate& b) { return a.distance < b.distance; }));
  }
  EXPECT_EQ(scan.pending(), 0u);
  std::set<NodeId> seen;
  for (const Candidate& c : returned) {
    EXPECT_TRUE(seen.insert(c.node).second) << "node " << c.node << " returned twice";
    EXPECT_FLOAT_EQ(c.distance, e.exact(c.node));
  }
  EXPECT_EQ(seen.size(), f.graph.size() - f.graph.duplicates().size());
  EXPECT_GE(batches, 1500u / 30);
}

}  // namespace
}  // namespace embedding::hnsw
