// The graph's notion of distance for each metric (smaller = closer), on top of the active
// float32 kernels, plus the normalisation cosine inputs need before they enter the graph.
#pragma once

#include <cstddef>

#include "core/hnsw/params.h"
#include "core/vector/kernels.h"

namespace embedding::hnsw {

// distance = offset + sign * kernel(a, b): one indirect call and no branch per evaluation.
// Only the order matters to the graph, so L2 stays squared and inner product is negated.
class VectorDistance {
 public:
  VectorDistance(Metric metric, std::size_t dimensions);

  float operator()(const float* a, const float* b) const {
    return offset_ + sign_ * kernel_(a, b, dimensions_);
  }
  std::size_t dimensions() const { return dimensions_; }
  Metric metric() const { return metric_; }

 private:
  Metric metric_;
  std::size_t dimensions_;
  float (*kernel_)(const float*, const float*, std::size_t);
  float offset_;
  float sign_;
};

// Scales `vector` to unit L2 norm in place. Returns false (and leaves it unchanged) when the
// norm is zero or not finite: such a vector has no cosine distance and must not be indexed.
bool normalize(float* vector, std::size_t dimensions);

}  // namespace embedding::hnsw
