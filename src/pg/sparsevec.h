// The layout of `sparsevec` (pgvector's: varlena header, int32 dim, int32 nnz, int32 unused,
// nnz int32 indices, then nnz float4 values) and the helpers the glue uses.
#pragma once

extern "C" {
#include "postgres.h"

#include "fmgr.h"
}

#include "core/vector/sparse.h"

namespace embedding::pg {

struct PgSparseVector {
  int32 vl_len_;
  int32 dim;
  int32 nnz;
  int32 unused;
  int32 indices[FLEXIBLE_ARRAY_MEMBER];  // then float values[nnz]
};

inline Size sparsevec_size(int nnz) {
  return offsetof(PgSparseVector, indices) + (sizeof(int32) + sizeof(float)) * nnz;
}
inline float* sparse_values(PgSparseVector* v) {
  return reinterpret_cast<float*>(v->indices + v->nnz);
}
inline vec::SparseView view(PgSparseVector* v) {
  return {v->dim, v->nnz, v->indices, sparse_values(v)};
}

// palloc0'ed sparsevec with room for nnz elements.
PgSparseVector* new_sparsevec(int dim, int nnz);

inline PgSparseVector* detoast_sparsevec(Datum d) {
  return reinterpret_cast<PgSparseVector*>(PG_DETOAST_DATUM(d));
}

#define EMB_GETARG_SPARSEVEC(n) (::embedding::pg::detoast_sparsevec(PG_GETARG_DATUM(n)))

}  // namespace embedding::pg
