// The `sparsevec` type's pure parts (pgvector's): limits and checks, the '{1:1.5,3:2}/5' text
// format and the wire format, merge-based distances, and ordering. A sparse vector is `dim`
// dimensions with `nnz` non-zero elements at strictly ascending 0-based `indices`.
#pragma once

#include <cstddef>
#include <cstdint>

namespace embedding::vec {

inline constexpr long kMaxSparseDim = 1000000000;
inline constexpr int kMaxSparseNnz = 16000;

struct SparseView {
  std::int32_t dim;
  std::int32_t nnz;
  const std::int32_t* indices;
  const float* values;
};

// pgvector's checks and messages: 1 <= dim <= 1e9; 0 <= nnz <= min(16000, dim); indices in
// [0, dim), ascending, no duplicates; elements finite.
void check_sparse_dim(long dim);
void check_sparse_nnz(long nnz, long dim);
void check_sparse_index(const std::int32_t* indices, int i, long dim);
void check_sparse_element(float value);

// Most elements a literal can hold (commas + 1); throws past kMaxSparseNnz, as pgvector.
int sparse_text_capacity(const char* literal);
// Parses '{i:v,...}/dim' (1-based indices, any order, zeros dropped) into indices (0-based,
// sorted) and values, both with room for sparse_text_capacity(). Returns nnz; *dim receives dim.
int parse_sparse_text(const char* literal, std::int32_t* indices, float* values, int capacity,
                      long* dim);
// Writes the text form (no terminator); out needs sparse_text_bound(nnz) bytes.
std::size_t sparse_text_bound(int nnz);
std::size_t format_sparse_text(const SparseView& v, char* out);

// Wire format: int32 dim, int32 nnz, int32 unused (0), nnz int32 indices, nnz float4 values,
// network byte order. decode_sparse_header checks dim, nnz, typmod and the unused field, and
// returns nnz; decode_sparse_elements checks indices and values (no zeros).
int decode_sparse_header(const unsigned char* data, std::size_t len, int typmod, long* dim);
void decode_sparse_elements(const unsigned char* data, std::size_t len, int nnz, long dim,
                            std::int32_t* indices, float* values);
inline std::size_t sparse_binary_size(int nnz) { return 12 + 8 * static_cast<std::size_t>(nnz); }
void encode_sparse_binary(const SparseView& v, unsigned char* out);

// Distances, merging the two index lists: float accumulation in index order, as pgvector.
float sparse_l2_squared(const SparseView& a, const SparseView& b);
float sparse_dot(const SparseView& a, const SparseView& b);
float sparse_l1(const SparseView& a, const SparseView& b);
// 1 - cos clamped to [0, 2]; NaN when either is all zeros.
double sparse_cosine_distance(const SparseView& a, const SparseView& b);
// Euclidean norm accumulated in double.
double sparse_norm(const SparseView& a);
// As the dense vectors compare: element by element over the shorter length, then by dim.
int sparse_compare(const SparseView& a, const SparseView& b);

}  // namespace embedding::vec
