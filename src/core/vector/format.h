// How an index or a type stores one vector: its element format, the metric it is compared by,
// and its size in bytes. Shared by hnsw, ivfflat, the k-means and every vector type's glue.
#pragma once

#include <cstddef>
#include <cstdint>

// Namespace embedding itself, not embedding::vec: these are the project's vocabulary for a stored
// vector, named by both access methods, the types' glue and the core algorithms alike, and every
// embedding::X namespace finds them unqualified.
namespace embedding {

enum class Metric {
  kL2,            // squared Euclidean distance
  kInnerProduct,  // negative dot product
  kCosine,        // 1 - dot product of L2-normalised vectors (the caller normalises)
  kL1,            // taxicab distance
  kHamming,       // differing bits (bit strings)
  kJaccard,       // 1 - |a & b| / |a | b| (bit strings)
};

// How a vector is stored, from the indexed type: float4 (vector), IEEE half (halfvec), bits
// (bit, 8 to a byte, first bit in the high-order bit as PostgreSQL's bit type), or sparse
// (sparsevec: int32 nnz, nnz int32 ascending indices, nnz float values: 4 + 8 * nnz bytes, so
// its size varies from vector to vector). The values are written to index metapages: never
// renumber them.
enum class Format : std::uint8_t { kFloat32 = 0, kFloat16 = 1, kBit = 2, kSparse = 3 };

// Bytes one stored vector of `dimensions` elements takes, rounded up to a multiple of 4 so that
// vectors stay float-aligned wherever they are laid out one after another. For kSparse, the
// bytes of a vector without non-zero elements (see vector_size()).
constexpr std::size_t element_bytes(Format format, std::size_t dimensions) {
  const std::size_t raw = format == Format::kFloat32   ? 4 * dimensions
                          : format == Format::kFloat16 ? 2 * dimensions
                          : format == Format::kBit     ? (dimensions + 7) / 8
                                                       : 4;
  return (raw + 3) & ~std::size_t{3};
}

// Bytes of the stored `vector`: element_bytes() for the fixed formats, 4 + 8 * nnz for kSparse.
inline std::size_t vector_size(Format format, std::size_t dimensions, const void* vector) {
  if (format != Format::kSparse) return element_bytes(format, dimensions);
  std::int32_t nnz;
  __builtin_memcpy(&nnz, vector, sizeof nnz);
  return 4 + 8 * static_cast<std::size_t>(nnz);
}

// Whether `metric` applies to vectors stored as `format` (an opclass's pairing): the bit
// metrics to bit strings, the others to every numeric format.
constexpr bool supports(Format format, Metric metric) {
  const bool bit_metric = metric == Metric::kHamming || metric == Metric::kJaccard;
  return (format == Format::kBit) == bit_metric;
}

}  // namespace embedding
