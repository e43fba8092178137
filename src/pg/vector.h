// The on-disk and in-memory layout of `vector` (pgvector's: varlena header, int16 dim, int16
// unused, float4 elements) and small helpers the glue uses to fetch and build values.
#pragma once

extern "C" {
#include "postgres.h"

#include "fmgr.h"
}

namespace embedding::pg {

struct PgVector {
  int32 vl_len_;
  int16 dim;
  int16 unused;
  float x[FLEXIBLE_ARRAY_MEMBER];
};

inline Size vector_size(int dim) { return offsetof(PgVector, x) + sizeof(float) * dim; }

// palloc0'ed vector of dim elements.
PgVector* new_vector(int dim);

inline PgVector* detoast_vector(Datum d) {
  return reinterpret_cast<PgVector*>(PG_DETOAST_DATUM(d));
}

#define EMB_GETARG_VECTOR(n) (::embedding::pg::detoast_vector(PG_GETARG_DATUM(n)))

// Throws unless both have the same dimension (pgvector's message).
void check_same_dims(const PgVector* a, const PgVector* b);

}  // namespace embedding::pg
