// The graph's notion of distance for each metric and storage format (smaller = closer), on top
// of the active kernels, plus the normalisation cosine inputs need before they enter the graph.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/hnsw/params.h"
#include "core/vector/kernels.h"

namespace embedding::hnsw {

// distance = offset + sign * kernel(a, b) on stored vectors (element_bytes(format, dimensions)
// bytes each): one well-predicted branch on the format and one indirect call per evaluation.
// Only the order matters to the graph, so L2 stays squared and inner product is negated.
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
        break;
    }
    return bit_kernel_(static_cast<const std::uint8_t*>(a), static_cast<const std::uint8_t*>(b),
                       bytes_);
  }
  std::size_t dimensions() const { return dimensions_; }
  Metric metric() const { return metric_; }
  Format format() const { return format_; }
  // Bytes of one stored vector (element_bytes()).
  std::size_t element_size() const { return element_bytes(format_, dimensions_); }

 private:
  Metric metric_;
  Format format_;
  std::size_t dimensions_;
  std::size_t bytes_;  // kBit: (dimensions + 7) / 8
  float (*float_kernel_)(const float*, const float*, std::size_t) = nullptr;
  float (*half_kernel_)(const vec::Half*, const vec::Half*, std::size_t) = nullptr;
  float (*bit_kernel_)(const std::uint8_t*, const std::uint8_t*, std::size_t) = nullptr;
  float offset_ = 0.0f;
  float sign_ = 1.0f;
};

// Whether `metric` applies to vectors stored as `format` (an opclass's pairing).
bool supports(Format format, Metric metric);

// Scales `vector` to unit L2 norm in place. Returns false (and leaves it unchanged) when the
// norm is zero or not finite: such a vector has no cosine distance and must not be indexed.
bool normalize(float* vector, std::size_t dimensions);

}  // namespace embedding::hnsw
