// The distance between two stored vectors (format.h) for each metric (smaller = closer), on top
// of the active kernels: what hnsw's graph, ivfflat's lists and the k-means assignment compare.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "core/vector/format.h"
#include "core/vector/kernels.h"
#include "core/vector/sparse.h"

namespace embedding {

// A stored kSparse vector seen as a SparseView (its dim is not stored and reads 0).
inline vec::SparseView sparse_view(const void* vector) {
  const auto* words = static_cast<const std::int32_t*>(vector);
  const std::int32_t nnz = words[0];
  return {0, nnz, words + 1, reinterpret_cast<const float*>(words + 1 + nnz)};
}

// A distance as the indexes order it: NaN (from a distance functor, or inf - inf in a
// kernel) becomes +inf, so that comparisons stay a strict weak order and std::sort is safe.
inline float orderable(float distance) {
  return distance != distance ? std::numeric_limits<float>::infinity() : distance;
}

// distance = offset + sign * kernel(a, b) on stored vectors (element_bytes(format, dimensions)
// bytes each): one well-predicted branch on the format and one indirect call per evaluation.
// Only the order matters to the indexes, so L2 stays squared and inner product is negated.
class VectorDistance {
 public:
  // Throws Error(kInvalidParameter) for a metric the format has no kernel for.
  VectorDistance(Metric metric, std::size_t dimensions, Format format = Format::kFloat32);

  float operator()(const void* a, const void* b) const {
    switch (format_) {
      case Format::kFloat32:
        return offset_ + sign_ * float_kernel_(static_cast<const float*>(a),
                                               static_cast<const float*>(b), dimensions_);
      case Format::kFloat16:
        return offset_ + sign_ * half_kernel_(static_cast<const vec::Half*>(a),
                                              static_cast<const vec::Half*>(b), dimensions_);
      case Format::kBit:
        return bit_kernel_(static_cast<const std::uint8_t*>(a), static_cast<const std::uint8_t*>(b),
                           bytes_);
      case Format::kSparse:
        break;
    }
    return offset_ + sign_ * sparse_kernel_(sparse_view(a), sparse_view(b));
  }
  std::size_t dimensions() const { return dimensions_; }
  Metric metric() const { return metric_; }
  Format format() const { return format_; }
  // Bytes of the stored `vector` (vector_size()).
  std::size_t vector_bytes(const void* vector) const {
    return vector_size(format_, dimensions_, vector);
  }

 private:
  Metric metric_;
  Format format_;
  std::size_t dimensions_;
  std::size_t bytes_;  // kBit: (dimensions + 7) / 8
  float (*float_kernel_)(const float*, const float*, std::size_t) = nullptr;
  float (*half_kernel_)(const vec::Half*, const vec::Half*, std::size_t) = nullptr;
  float (*bit_kernel_)(const std::uint8_t*, const std::uint8_t*, std::size_t) = nullptr;
  float (*sparse_kernel_)(const vec::SparseView&, const vec::SparseView&) = nullptr;
  float offset_ = 0.0f;
  float sign_ = 1.0f;
};

}  // namespace embedding
