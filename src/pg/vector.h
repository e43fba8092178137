// The on-disk and in-memory layout of `vector` (pgvector's: varlena header, int16 dim, int16
// unused, float4 elements) and small helpers the glue uses to fetch and build values.
#pragma once

extern "C" {
#include "postgres.h"

#include "fmgr.h"
#include "utils/array.h"
#include "utils/varbit.h"
}

#include <cstddef>

#include "core/vector/arith.h"
#include "core/vector/codec.h"

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

// The elements of a 1-D int4/float4/float8/numeric array (the casts to vector and halfvec), as
// palloc'd floats checked for `element`'s type (halfvec: rounded to halfs); *count receives n.
float* array_elements(ArrayType* array, int32 typmod, vec::Element element, int* count);
// A float4[] of x[0..n).
ArrayType* float4_array(const float* x, int n);

// binary_quantize(): a palloc'd bit string of `dims` bits, bit i set when x[i] > 0 (float or Half).
template <class T>
VarBit* sign_bit_string(const T* x, int dims) {
  const int len = VARBITTOTALLEN(dims);
  VarBit* result = static_cast<VarBit*>(palloc0(len));
  SET_VARSIZE(result, len);
  VARBITLEN(result) = dims;
  vec::sign_bits(x, static_cast<std::size_t>(dims), VARBITS(result));
  return result;
}

}  // namespace embedding::pg
