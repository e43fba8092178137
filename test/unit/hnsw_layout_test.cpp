// The storage order of a built graph (core/hnsw/layout.h): every node placed once, pages filled
// as asked, and graph neighbours sharing pages far more often than in insertion order.
#include <gtest/gtest.h>

#include <cstddef>
#include <random>
#include <vector>

#include "core/hnsw/layout.h"
#include "core/hnsw/memory_graph.h"

namespace embedding::hnsw {
namespace {

constexpr std::size_t kDims = 16;
constexpr NodeId kPad = ~NodeId{0};  // an empty slot at the end of a short page

std::unique_ptr<MemoryGraph> random_graph(std::size_t rows, std::size_t duplicates) {
  std::mt19937_64 rng(11);
  std::normal_distribution<float> normal;
  auto graph = std::make_unique<MemoryGraph>(kDims, Metric::kL2, Params{8, 32}, 5);
  std::vector<float> v(kDims);
  for (std::size_t i = 0; i < rows; ++i) {
    for (float& x : v) x = normal(rng);
    graph->add(v.data());
    if (i < duplicates) graph->add(v.data());  // merged into the row before
  }
  graph->build();
  return graph;
}

// Page number of each node when `order` is cut into pages of `per_page` nodes.
std::vector<std::size_t> pages_of(const MemoryGraph& g, const std::vector<NodeId>& order,
                                  std::size_t per_page) {
  std::vector<std::size_t> page(g.size(), SIZE_MAX);
  for (std::size_t k = 0; k < order.size(); ++k) page[order[k]] = k / per_page;
  return page;
}

// Share of layer-0 links whose two ends are on the same page.
double same_page_links(const MemoryGraph& g, const std::vector<std::size_t>& page) {
  std::size_t links = 0, same = 0;
  for (NodeId node = 0; node < g.size(); ++node) {
    if (g.is_duplicate(node)) continue;
    for (std::uint32_t next : g.neighbor_list(node, 0)) {
      ++links;
      same += page[next] == page[node];
    }
  }
  return static_cast<double>(same) / static_cast<double>(links);
}

// Runs cluster_order with pages of `per_page` nodes; returns the nodes in placement order and
// checks each page starts only when asked.
std::vector<NodeId> clustered(const MemoryGraph& g, std::size_t per_page) {
  std::vector<NodeId> order;
  std::size_t on_page = per_page;  // no page open yet
  cluster_order(
      g, [&](NodeId) { return on_page < per_page; },
      [&](NodeId node) {
        EXPECT_LT(on_page, per_page + 1);
        ++on_page;
        order.push_back(node);
      },
      [&] {
        // Pages are cut at per_page below, so a short page is padded to keep them aligned.
        while (order.size() % per_page != 0) order.push_back(kPad);
        on_page = 0;
      });
  return order;
}

TEST(HnswLayout, BreadthFirstOrderPlacesEveryNodeOnceAndSkipsDuplicates) {
  auto g = random_graph(2000, 50);
  const std::vector<NodeId> order = breadth_first_order(*g);
  std::vector<int> seen(g->size(), 0);
  for (NodeId node : order) ++seen[node];
  std::size_t placed = 0;
  for (NodeId node = 0; node < g->size(); ++node) {
    EXPECT_EQ(seen[node], g->is_duplicate(node) ? 0 : 1) << node;
    placed += seen[node];
  }
  EXPECT_EQ(placed, 2000u);
  EXPECT_EQ(order.front(), g->entry_point()->node);
}

TEST(HnswLayout, ClusterOrderKeepsNeighboursOnTheSamePage) {
  auto g = random_graph(6000, 0);
  constexpr std::size_t kPerPage = 12;
  std::vector<NodeId> order = clustered(*g, kPerPage);
  std::vector<int> seen(g->size(), 0);
  std::size_t padding = 0;
  for (NodeId node : order) node == kPad ? ++padding : ++seen[node];
  for (NodeId node = 0; node < g->size(); ++node) ASSERT_EQ(seen[node], 1) << node;
  // Pages are filled: padding is a small share of the slots.
  EXPECT_LT(static_cast<double>(padding), 0.02 * static_cast<double>(order.size()));

  std::vector<NodeId> insertion(g->size());
  for (NodeId node = 0; node < g->size(); ++node) insertion[node] = node;
  std::vector<std::size_t> page(g->size());
  for (std::size_t k = 0; k < order.size(); ++k)
    if (order[k] != kPad) page[order[k]] = k / kPerPage;
  const double by_cluster = same_page_links(*g, page);
  const double by_insertion = same_page_links(*g, pages_of(*g, insertion, kPerPage));
  // Random 16-d data, 12 per page: insertion order puts 0.3% of links on one page (chance),
  // clustering 15% (measured).
  EXPECT_LT(by_insertion, 0.01);
  EXPECT_GT(by_cluster, 0.10) << "insertion order: " << by_insertion;
}

}  // namespace
}  // namespace embedding::hnsw
