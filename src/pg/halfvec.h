// The layout of `halfvec` (pgvector's: varlena header, int16 dim, int16 unused, IEEE half
// elements) and the helpers the glue uses to fetch and build values.
#pragma once

extern "C" {
#include "postgres.h"

#include "fmgr.h"
}

#include "core/vector/half.h"

namespace embedding::pg {

struct PgHalfVector {
  int32 vl_len_;
  int16 dim;
  int16 unused;
  vec::Half x[FLEXIBLE_ARRAY_MEMBER];
};

inline Size halfvec_size(int dim) { return offsetof(PgHalfVector, x) + sizeof(vec::Half) * dim; }

// palloc0'ed halfvec of dim elements.
PgHalfVector* new_halfvec(int dim);
// A halfvec holding x[0..dim) rounded to halfs; throws as pgvector's Float4ToHalf when a value
// is beyond the largest half.
PgHalfVector* halfvec_from_floats(const float* x, int dim);

inline PgHalfVector* detoast_halfvec(Datum d) {
  return reinterpret_cast<PgHalfVector*>(PG_DETOAST_DATUM(d));
}

#define EMB_GETARG_HALFVEC(n) (::embedding::pg::detoast_halfvec(PG_GETARG_DATUM(n)))

}  // namespace embedding::pg
