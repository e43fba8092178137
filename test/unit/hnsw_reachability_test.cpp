// What keeps every row of an hnsw graph findable: the reachability walk hnsw_verify runs, and
// insert()'s relocate_duplicate hook, which lets copies of a vector that no node can take any more
// continue in a node that can (page storage; see core/hnsw/insert.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <stdexcept>
#include <unordered_set>
#include <vector>

#include "core/hnsw/insert.h"
#include "core/hnsw/reachability.h"
#include "list_storage.h"

namespace embedding::hnsw {
namespace {

TEST(HnswReachability, WalkFollowsLinksFromTheEntryPoint) {
  // 0 -> 1 -> 2, 3 -> 0 (3 has no in-link), 4 isolated.
  const std::vector<std::uint32_t> offsets{0, 1, 2, 2, 3, 3};
  const std::vector<std::uint32_t> targets{1, 2, 0};
  const std::vector<bool> reached = reachable(0, offsets, targets, std::vector<bool>(5, true));
  EXPECT_EQ(reached, (std::vector<bool>{true, true, true, false, false}));
  // From 3 everything but 4.
  EXPECT_EQ(reachable(3, offsets, targets, std::vector<bool>(5, true)),
            (std::vector<bool>{true, true, true, true, false}));
}

TEST(HnswReachability, WalkDoesNotPassThroughFreeNodes) {
  // 0 -> 1 -> 2: with 1 free (not passable), 1 counts as reached but 2 does not.
  const std::vector<std::uint32_t> offsets{0, 1, 2, 2};
  const std::vector<std::uint32_t> targets{1, 2};
  EXPECT_EQ(reachable(0, offsets, targets, {true, false, true}),
            (std::vector<bool>{true, true, false}));
}

TEST(HnswReachability, ExtendingTheWalkMarksOnlyWhatWasNotReached) {
  // 0 -> 1; 2 <-> 3 is a group nothing links to. Linking 0 -> 2 later: the walk from 2 adds both.
  const std::vector<std::uint32_t> offsets{0, 1, 1, 2, 3};
  const std::vector<std::uint32_t> targets{1, 3, 2};
  const std::vector<bool> passable(4, true);
  std::vector<bool> reached = reachable(0, offsets, targets, passable);
  EXPECT_EQ(reached, (std::vector<bool>{true, true, false, false}));
  std::vector<std::uint32_t> newly;
  extend_reach(2, offsets, targets, passable, reached, &newly);
  EXPECT_EQ(reached, (std::vector<bool>{true, true, true, true}));
  std::sort(newly.begin(), newly.end());
  EXPECT_EQ(newly, (std::vector<std::uint32_t>{2, 3}));
  newly.clear();
  extend_reach(0, offsets, targets, passable, reached, &newly);  // nothing new
  EXPECT_TRUE(newly.empty());
}

TEST(HnswReachability, CensusBuildsTheRowsOfTheLinks) {
  // 0 -> 2, 0 -> 1, 2 -> 0; 1 has none.
  const std::vector<std::pair<std::uint32_t, std::uint32_t>> links{{2, 0}, {0, 2}, {0, 1}};
  const auto each_link = [&](auto&& emit) {
    for (auto [from, to] : links) emit(from, to);
  };
  LinkRows rows;
  rows.count(3, each_link);
  EXPECT_EQ(rows.offsets, (std::vector<std::uint32_t>{0, 2, 2, 3}));
  EXPECT_EQ(rows.links(), 3u);
  rows.fill(each_link);
  EXPECT_EQ(rows.targets, (std::vector<std::uint32_t>{2, 1, 0}));
  EXPECT_EQ(reachable(1, rows.offsets, rows.targets, std::vector<bool>(3, true)),
            (std::vector<bool>{false, true, false}));
}

TEST(HnswReachability, CensusStaysInItsRowsWhenTheLinksChangeBetweenRuns) {
  // Counted: 0 -> 1 and 1 -> 0. Filled: 0 gained a link, 1 lost its own.
  LinkRows rows;
  rows.count(2, [](auto&& emit) {
    emit(0u, 1u);
    emit(1u, 0u);
  });
  rows.fill([](auto&& emit) {
    emit(0u, 1u);
    emit(0u, 0u);
  });
  // Row 0 keeps what was counted for it; row 1 is padded with a link to itself.
  EXPECT_EQ(rows.targets, (std::vector<std::uint32_t>{1, 1}));
}

TEST(HnswReachability, BadInputThrows) {
  EXPECT_THROW(reachable(2, {0, 0, 0}, {}, {true, true}), std::out_of_range);
  EXPECT_THROW(reachable(0, {0, 1}, {5}, {true}), std::out_of_range);
  EXPECT_THROW(reachable(0, {0, 0}, {}, {true, true}), std::out_of_range);
}

// One-dimensional vectors in a map; every identical node is "full", so merge_duplicate() always
// refuses, and relocate_duplicate() moves a node to id + 100.
class FullCopiesGraph : public ListStorage {
 public:
  FullCopiesGraph() : ListStorage(4, 2) {}
  std::map<NodeId, float> values;
  std::vector<std::pair<NodeId, NodeId>> relocations;  // (node, closest)

  float distance(NodeId a, NodeId b) const { return std::fabs(values.at(a) - values.at(b)); }
  bool merge_duplicate(NodeId, NodeId) { return false; }
  NodeId relocate_duplicate(NodeId node, NodeId closest) {
    relocations.push_back({node, closest});
    if (values.at(node) != values.at(closest)) return node;
    values[node + 100] = values.at(node);
    return node + 100;
  }
};

struct SetVisited {
  std::unordered_set<NodeId> set;
  bool insert(NodeId node) { return set.insert(node).second; }
  void reset() { set.clear(); }
};

TEST(HnswReachability, UnmergeableCopyIsLinkedUnderItsNewId) {
  FullCopiesGraph graph;
  SetVisited visited;
  SearchScratch scratch;
  const auto add = [&](NodeId node, float value) {
    graph.values[node] = value;
    auto dist = [&](NodeId other) { return std::fabs(graph.values.at(other) - value); };
    return insert(graph, node, 0, dist, visited, Params{2, 8}, BuildTuning{}, scratch);
  };
  add(1, 0.0f);
  add(2, 5.0f);
  ASSERT_EQ(graph.relocations.size(), 1u);  // offered for node 2, whose closest is 1
  EXPECT_EQ(graph.relocations[0], (std::pair<NodeId, NodeId>{2, 1}));
  EXPECT_TRUE(graph.links_to(1, 2));  // not identical: linked under its own id

  const InsertResult copy = add(3, 0.0f);
  ASSERT_EQ(graph.relocations.size(), 2u);
  EXPECT_EQ(graph.relocations[1], (std::pair<NodeId, NodeId>{3, 1}));
  EXPECT_TRUE(copy.linked);
  EXPECT_EQ(copy.node, 103u);
  EXPECT_TRUE(graph.links_to(1, 103));
  EXPECT_TRUE(graph.links_to(103, 1));
  EXPECT_FALSE(graph.links_to(1, 3));
  EXPECT_FALSE(graph.links_to(3, 1));
}

}  // namespace
}  // namespace embedding::hnsw
