// The codes of an in-memory graph's nodes: the centre they are taken around, encoding every node
// with worker threads (what a build writes into the neighbour lists), and MemoryExpander, the
// guided search's storage over the in-memory graph (tests, tools).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/hnsw/guided_search.h"
#include "core/hnsw/memory_graph.h"
#include "core/quant/slots.h"

namespace embedding::hnsw {

// The mean of the graph's distinct vectors (float32 or float16 formats), or empty when it has
// none.
std::vector<float> mean_vector(const MemoryGraph& graph);

// The slots (SlotCodec::stride() bytes each) of every node, in node order; duplicates get their
// original's.
std::vector<std::uint8_t> encode_nodes(const MemoryGraph& graph, const quant::SlotCodec& codec,
                                       int threads);

// Expands nodes of a built MemoryGraph for guided_search.h with the codes of encode_nodes().
class MemoryExpander {
 public:
  MemoryExpander(const MemoryGraph& graph, const quant::SlotCodec& codec,
                 const std::vector<std::uint8_t>& slots, const float* query);

  std::optional<EntryPoint> entry_point() const { return graph_.entry_point(); }
  std::size_t neighbor_capacity(int level) const { return graph_.neighbor_capacity(level); }
  template <class Keep>
  float expand(NodeId node, int level, Keep& keep, NodeId* ids, float* estimates,
               std::size_t* count) {
    std::size_t n = 0;
    for (NodeId id : graph_.neighbor_list(node, level)) {
      if (!keep(id)) continue;
      ids[n] = id;
      estimates[n++] = estimator_(slots_.data() + id * stride_);
    }
    *count = n;
    ++expanded_;
    return exact(node);
  }
  float exact(NodeId node) const;
  std::size_t expanded() const { return expanded_; }

 private:
  const MemoryGraph& graph_;
  const std::vector<std::uint8_t>& slots_;
  std::size_t stride_;
  quant::SlotEstimator estimator_;
  std::vector<std::uint32_t> query_;  // as the graph stores vectors
  std::size_t expanded_ = 0;
};

}  // namespace embedding::hnsw
