// Codes of an in-memory graph (see coded_memory.h).
#include "core/hnsw/coded_memory.h"

#include <cstring>

#include "core/common/interrupt.h"
#include "core/common/parallel.h"
#include "core/vector/half.h"

namespace embedding::hnsw {

std::vector<float> mean_vector(const MemoryGraph& graph) {
  const std::size_t dims = graph.dimensions();
  std::vector<double> sum(dims, 0.0);
  std::vector<float> row(dims);
  std::size_t count = 0;
  for (NodeId i = 0; i < graph.size(); ++i) {
    if (graph.is_duplicate(i)) continue;
    quant::stored_floats(graph.format(), graph.vector(i), dims, row.data());
    for (std::size_t d = 0; d < dims; ++d) sum[d] += row[d];
    ++count;
  }
  if (count == 0) return {};
  std::vector<float> mean(dims);
  for (std::size_t d = 0; d < dims; ++d) mean[d] = static_cast<float>(sum[d] / count);
  return mean;
}

std::vector<std::uint8_t> encode_nodes(const MemoryGraph& graph, const quant::SlotCodec& codec,
                                       int threads) {
  const std::size_t stride = codec.stride();
  const std::size_t dims = graph.dimensions();
  std::vector<std::uint8_t> slots(graph.size() * stride);
  parallel_slices(
      graph.size(), threads,
      [&](std::size_t begin, std::size_t end, const std::atomic<bool>& stop, bool poll) {
        std::vector<float> row(dims), scratch(codec.scratch_floats());
        for (std::size_t i = begin; i < end && !stop.load(std::memory_order_relaxed); ++i) {
          if (poll && (i - begin) % 256 == 0) poll_interrupts();
          quant::stored_floats(graph.format(), graph.vector(static_cast<NodeId>(i)), dims,
                               row.data());
          codec.encode(row.data(), slots.data() + i * stride, scratch.data());
        }
        return std::size_t{0};
      },
      256);
  return slots;
}

MemoryExpander::MemoryExpander(const MemoryGraph& graph, const quant::SlotCodec& codec,
                               const std::vector<std::uint8_t>& slots, const float* query)
    : graph_(graph), slots_(slots), stride_(codec.stride()) {
  estimator_.prepare(codec, query);
  const std::size_t dims = graph.dimensions();
  if (graph.format() == Format::kFloat16) {
    query_.resize((dims * 2 + 3) / 4);
    auto* half = reinterpret_cast<vec::Half*>(query_.data());
    for (std::size_t d = 0; d < dims; ++d) half[d] = vec::float_to_half(query[d]);
  } else {
    query_.resize(dims);
    std::memcpy(query_.data(), query, dims * sizeof(float));
  }
}

float MemoryExpander::exact(NodeId node) const {
  return MemoryGraph::QueryDistanceFn(graph_, query_.data())(node);
}

}  // namespace embedding::hnsw
