// repair() (core/hnsw/repair.h) after deleting most nodes of a graph built in memory: searches
// find what a fresh build finds, no live list leads to a deleted node, every live node is reached.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <unordered_set>
#include <vector>

#include "core/hnsw/memory_graph.h"
#include "core/hnsw/reachability.h"
#include "core/hnsw/repair.h"
#include "core/hnsw/search.h"
#include "core/hnsw/visited.h"
#include "core/vector/stored_distance.h"
#include "list_storage.h"

namespace embedding::hnsw {
namespace {

constexpr std::size_t kDims = 16;
constexpr std::size_t kRows = 3000;
constexpr std::size_t kQueries = 100;
constexpr std::size_t kK = 10;
constexpr std::size_t kEfSearch = 64;
const Params kParams{8, 40};

// List storage over dense ids with the vectors of a MemoryGraph, as the page storage serves
// the algorithms: distance() and a query distance.
class VectorStorage : public ListStorage {
 public:
  VectorStorage(const std::vector<float>& vectors)
      : ListStorage(2 * kParams.m, kParams.m),
        vectors_(vectors),
        distance_(Metric::kL2, kDims, Format::kFloat32) {}
  float distance(NodeId a, NodeId b) const { return distance_(row(a), row(b)); }
  const float* row(NodeId node) const { return vectors_.data() + node * kDims; }
  const VectorDistance& vector_distance() const { return distance_; }

 private:
  const std::vector<float>& vectors_;
  VectorDistance distance_;
};

struct QueryDistanceOf {
  const VectorStorage* storage;
  const float* query;
  float operator()(NodeId node) const {
    return storage->vector_distance()(query, storage->row(node));
  }
};

// The set of deleted nodes, as repair() asks it.
struct DeletedSet {
  const std::vector<bool>* deleted;
  bool contains(NodeId node) const { return (*deleted)[node]; }
};

std::vector<float> random_rows(std::size_t rows, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> values(rows * kDims);
  for (float& v : values) v = uniform(rng);
  return values;
}

// Copies a built graph's lists and entry point.
void copy_graph(const MemoryGraph& graph, VectorStorage& storage) {
  for (NodeId node = 0; node < graph.size(); ++node) {
    for (int level = 0; level <= graph.level(node); ++level) {
      const auto list = graph.neighbor_list(node, level);
      storage.update_neighbors(node, level, [&](NodeId* ids, std::size_t) {
        std::copy(list.begin(), list.end(), ids);
        return list.size();
      });
    }
  }
  storage.set_entry_point(graph.entry_point());
}

double l2(const float* a, const float* b) {
  double sum = 0;
  for (std::size_t i = 0; i < kDims; ++i) sum += (double{a[i]} - b[i]) * (double{a[i]} - b[i]);
  return sum;
}

// Fraction of the true k nearest live rows that search(query) returns (ids into `rows`).
template <class Search>
double recall(const std::vector<float>& rows, const std::vector<NodeId>& live,
              const std::vector<float>& queries, Search&& search) {
  std::size_t hits = 0;
  for (std::size_t q = 0; q < kQueries; ++q) {
    const float* query = queries.data() + q * kDims;
    std::vector<NodeId> truth = live;
    std::partial_sort(truth.begin(), truth.begin() + kK, truth.end(), [&](NodeId a, NodeId b) {
      return l2(query, rows.data() + a * kDims) < l2(query, rows.data() + b * kDims);
    });
    const std::unordered_set<NodeId> expected(truth.begin(), truth.begin() + kK);
    for (NodeId found : search(query)) hits += expected.count(found);
  }
  return static_cast<double>(hits) / (kQueries * kK);
}

class HnswRepair : public ::testing::TestWithParam<double> {};

TEST_P(HnswRepair, DeletedGraphStaysSearchableAndReachable) {
  const double deleted_share = GetParam();
  const std::vector<float> rows = random_rows(kRows, 7);
  const std::vector<float> queries = random_rows(kQueries, 8);
  MemoryGraph built(kDims, Metric::kL2, kParams, /*seed=*/1, kRows);
  for (std::size_t i = 0; i < kRows; ++i) built.add(rows.data() + i * kDims);
  built.build();
  VectorStorage storage(rows);
  copy_graph(built, storage);

  std::mt19937_64 rng(static_cast<std::uint64_t>(deleted_share * 100));
  std::vector<bool> deleted(kRows, false);
  std::vector<NodeId> live;
  for (NodeId node = 0; node < kRows; ++node) {
    deleted[node] = std::uniform_real_distribution<double>(0, 1)(rng) < deleted_share;
    if (!deleted[node]) live.push_back(node);
  }
  ASSERT_FALSE(live.empty());

  // Every live node is repaired while the deleted ones stay in the graph, as VACUUM does; then
  // the highest live node becomes the entry point if the old one was deleted.
  GenerationVisitedSet visited(kRows);
  RepairScratch scratch;
  const RepairGraphState state{static_cast<std::size_t>(kParams.ef_construction),
                               static_cast<double>(live.size()) / kRows};
  NodeId top = live.front();
  for (NodeId node : live) {
    if (built.level(node) > built.level(top)) top = node;
    const auto make_distance = [&] { return QueryDistanceOf{&storage, storage.row(node)}; };
    repair(storage, node, built.level(node), make_distance, DeletedSet{&deleted}, state, visited,
           scratch);
  }
  if (deleted[storage.entry_point()->node])
    storage.set_entry_point(EntryPoint{top, built.level(top)});

  // No live list leads to a deleted node, so a search never meets one.
  for (NodeId node : live)
    for (int level = 0; level <= built.level(node); ++level)
      for (NodeId target : storage.list(node, level))
        ASSERT_FALSE(deleted[target]) << node << " links to deleted " << target;

  // Every live node is reachable from the entry point over the live nodes' links.
  std::vector<std::uint32_t> position(kRows, 0), offsets{0}, targets;
  for (std::size_t i = 0; i < live.size(); ++i) position[live[i]] = static_cast<std::uint32_t>(i);
  for (NodeId node : live) {
    for (int level = 0; level <= built.level(node); ++level)
      for (NodeId target : storage.list(node, level)) targets.push_back(position[target]);
    offsets.push_back(static_cast<std::uint32_t>(targets.size()));
  }
  const std::vector<bool> reached = reachable(position[storage.entry_point()->node], offsets,
                                              targets, std::vector<bool>(live.size(), true));
  const auto unreached = std::count(reached.begin(), reached.end(), false);
  EXPECT_EQ(unreached, 0) << "of " << live.size() << " live nodes";

  // Recall close to that of a graph built afresh from the live rows.
  SearchScratch search;
  std::vector<Candidate> found;
  const double repaired = recall(rows, live, queries, [&](const float* query) {
    QueryDistanceOf dist{&storage, query};
    knn_search(storage, dist, visited, kK, kEfSearch, search, found);
    std::vector<NodeId> ids;
    for (const Candidate& c : found) ids.push_back(c.node);
    return ids;
  });
  MemoryGraph fresh(kDims, Metric::kL2, kParams, /*seed=*/1, live.size());
  for (NodeId node : live) fresh.add(rows.data() + node * kDims);
  fresh.build();
  MemorySearchContext context;
  const double rebuilt = recall(rows, live, queries, [&](const float* query) {
    fresh.search(query, kK, kEfSearch, context, found);
    std::vector<NodeId> ids;
    for (const Candidate& c : found) ids.push_back(live[c.node]);
    return ids;
  });
  EXPECT_GE(repaired, rebuilt - 0.03) << "repaired " << repaired << ", rebuilt " << rebuilt;
}

INSTANTIATE_TEST_SUITE_P(DeletedShares, HnswRepair, ::testing::Values(0.5, 0.75, 0.9));

}  // namespace
}  // namespace embedding::hnsw
