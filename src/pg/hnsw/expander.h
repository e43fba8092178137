// PageExpander: a quantised hnsw index's pages as the guided search's storage
// (core/hnsw/guided_search.h): expanding a node reads its element (exact distance) and its list
// (neighbour ids with their codes) under share locks, with no read of the neighbours themselves.
#pragma once

#include <optional>

#include "core/hnsw/guided_search.h"
#include "core/hnsw/search.h"
#include "pg/hnsw/graph.h"

namespace embedding::pg::hnsw {

class PageExpander {
 public:
  // `dist` computes exact distances to the prepared query; `estimate` estimates them from slots.
  // All must outlive the expander, as must `scratch` (the upper layers' exact descent).
  PageExpander(const PageGraph& graph, const PageQueryDistance& dist,
               const quant::SlotEstimator& estimate, embedding::hnsw::SearchScratch& scratch,
               const void* query)
      : graph_(graph), dist_(dist), estimate_(estimate), scratch_(scratch), query_(query) {}

  std::optional<EntryPoint> entry_point() const { return graph_.entry_point(); }
  std::size_t neighbor_capacity(int level) const { return graph_.neighbor_capacity(level); }

  // The upper layers: the plain greedy descent with exact distances (few nodes, no codes there).
  std::optional<Candidate> descend() {
    PageQueryDistance dist = dist_;
    return embedding::hnsw::descend(graph_, dist, scratch_);
  }

  void prefetch(NodeId node) const {
    prefetch_item(graph_.index(), node_block(node), node_offset(node));
  }

  template <class Keep>
  float expand(NodeId node, int level, Keep& keep, NodeId* ids, float* estimates,
               std::size_t* count) {
    Relation index = graph_.index();
    Expansion read = with_page(index, node_block(node), [&](Page page) -> Expansion {
      const auto* e = tuple_at<ElementTuple>(page, node_offset(node), TupleType::kElement);
      if (e == nullptr || !matches(e, graph_.meta())) return {false, 0.0f, {}, false, 0};
      Expansion x{true, graph_.vector_distance()(query_, e->vector), e->neighbors, false, 0};
      if (ItemPointerGetBlockNumber(&x.list) != node_block(node)) return x;
      x.listed = true;
      x.count = read_list(page, ItemPointerGetOffsetNumber(&x.list), keep, ids, estimates);
      return x;
    });
    if (!read.found) corrupt(index, "missing element", node);
    if (!read.listed) {
      read.count = with_page(index, ItemPointerGetBlockNumber(&read.list), [&](Page page) {
        return read_list(page, ItemPointerGetOffsetNumber(&read.list), keep, ids, estimates);
      });
    }
    if (read.count == kMissing) corrupt(index, "missing neighbour list", node);
    *count = read.count;
    return read.exact;
  }

 private:
  static constexpr std::size_t kMissing = ~std::size_t{0};
  struct Expansion {
    bool found;
    float exact;
    ItemPointerData list;
    bool listed;  // the list was on the element's page and is read
    std::size_t count;
  };

  // Level 0 of the list at `offset` of a locked page: the ids keep() accepts and their estimates.
  template <class Keep>
  std::size_t read_list(Page page, OffsetNumber offset, Keep& keep, NodeId* ids,
                        float* estimates) const {
    const auto* list = tuple_at<NeighborTuple>(page, offset, TupleType::kNeighbors);
    if (list == nullptr) return kMissing;
    const std::size_t n = std::min<std::size_t>(list->counts[0], neighbor_capacity(0));
    const ItemPointerData* tids = neighbor_ids(const_cast<NeighborTuple*>(list), 0);
    for (std::size_t i = 0; i < n; ++i) keep.prefetch(to_node(tids[i]));
    float all[2 * embedding::hnsw::kMaxM];
    estimate_.estimate_list(list_codes(graph_.meta()), neighbor_slots(list), n, all);
    std::size_t kept = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const NodeId id = to_node(tids[i]);
      if (!keep(id)) continue;
      ids[kept] = id;
      estimates[kept++] = all[i];
    }
    return kept;
  }

  const PageGraph& graph_;
  const PageQueryDistance& dist_;
  const quant::SlotEstimator& estimate_;
  embedding::hnsw::SearchScratch& scratch_;
  const void* query_;
};

static_assert(std::is_trivially_destructible_v<PageExpander>);

}  // namespace embedding::pg::hnsw
