// SQL functions and operators on `vector`: distances, element-wise arithmetic, comparisons,
// norms and sub-vectors. Each fetches its arguments, calls the core, and builds the result.
#include <cmath>

#include "core/common/error.h"
#include "core/vector/arith.h"
#include "core/vector/codec.h"
#include "core/vector/kernels.h"
#include "core/vector/normalize.h"
#include "pg/guard.h"
#include "pg/vector.h"
#include "pg/vector_names.h"

extern "C" {
#include "utils/varbit.h"
}

namespace kernels = embedding::kernels;

namespace {

using DistanceFn = double (*)(const float*, const float*, std::size_t);

Datum distance(FunctionCallInfo fcinfo, DistanceFn fn, double sign = 1.0) {
  PgVector* a = EMB_GETARG_VECTOR(0);
  PgVector* b = EMB_GETARG_VECTOR(1);
  embedding::pg::check_same_dims(a, b);
  PG_RETURN_FLOAT8(sign * fn(a->x, b->x, a->dim));
}

// The index support function: float32 squared distance, no fallback (as pgvector).
double l2_squared(const float* a, const float* b, std::size_t n) {
  return kernels::active().l2_squared(a, b, n);
}

double spherical(const float* a, const float* b, std::size_t n) {
  return vec::angular_distance(kernels::inner_product(a, b, n));
}

Datum elementwise(FunctionCallInfo fcinfo, vec::ElementOp op) {
  PgVector* a = EMB_GETARG_VECTOR(0);
  PgVector* b = EMB_GETARG_VECTOR(1);
  embedding::pg::check_same_dims(a, b);
  PgVector* result = embedding::pg::new_vector(a->dim);
  vec::elementwise(op, a->x, b->x, result->x, a->dim);
  PG_RETURN_POINTER(result);
}

int compare_args(FunctionCallInfo fcinfo) {
  PgVector* a = EMB_GETARG_VECTOR(0);
  PgVector* b = EMB_GETARG_VECTOR(1);
  return vec::compare(a->x, a->dim, b->x, b->dim);
}

}  // namespace

EMB_FUNCTION(l2_distance) { return distance(fcinfo, kernels::l2_distance); }
EMB_FUNCTION(vector_l2_squared_distance) { return distance(fcinfo, l2_squared); }
EMB_FUNCTION(inner_product) { return distance(fcinfo, kernels::inner_product); }
EMB_FUNCTION(vector_negative_inner_product) {
  return distance(fcinfo, kernels::inner_product, -1.0);
}
EMB_FUNCTION(cosine_distance) { return distance(fcinfo, kernels::cosine_distance); }
EMB_FUNCTION(l1_distance) { return distance(fcinfo, kernels::l1_distance); }

EMB_FUNCTION(vector_spherical_distance) { return distance(fcinfo, spherical); }

EMB_FUNCTION(vector_add) { return elementwise(fcinfo, vec::ElementOp::kAdd); }
EMB_FUNCTION(vector_sub) { return elementwise(fcinfo, vec::ElementOp::kSub); }
EMB_FUNCTION(vector_mul) { return elementwise(fcinfo, vec::ElementOp::kMul); }

EMB_FUNCTION(vector_concat) {
  PgVector* a = EMB_GETARG_VECTOR(0);
  PgVector* b = EMB_GETARG_VECTOR(1);
  int dim = a->dim + b->dim;
  vec::check_dim(dim);
  PgVector* result = embedding::pg::new_vector(dim);
  memcpy(result->x, a->x, sizeof(float) * a->dim);
  memcpy(result->x + a->dim, b->x, sizeof(float) * b->dim);
  PG_RETURN_POINTER(result);
}

EMB_FUNCTION(vector_lt) { PG_RETURN_BOOL(compare_args(fcinfo) < 0); }
EMB_FUNCTION(vector_le) { PG_RETURN_BOOL(compare_args(fcinfo) <= 0); }
EMB_FUNCTION(vector_eq) { PG_RETURN_BOOL(compare_args(fcinfo) == 0); }
EMB_FUNCTION(vector_ne) { PG_RETURN_BOOL(compare_args(fcinfo) != 0); }
EMB_FUNCTION(vector_ge) { PG_RETURN_BOOL(compare_args(fcinfo) >= 0); }
EMB_FUNCTION(vector_gt) { PG_RETURN_BOOL(compare_args(fcinfo) > 0); }
EMB_FUNCTION(vector_cmp) { PG_RETURN_INT32(compare_args(fcinfo)); }

EMB_FUNCTION(vector_dims) { PG_RETURN_INT32(EMB_GETARG_VECTOR(0)->dim); }

EMB_FUNCTION(vector_norm) {
  PgVector* a = EMB_GETARG_VECTOR(0);
  PG_RETURN_FLOAT8(kernels::norm(a->x, a->dim));
}

EMB_FUNCTION(l2_normalize) {
  PgVector* a = EMB_GETARG_VECTOR(0);
  PgVector* result = embedding::pg::new_vector(a->dim);
  vec::normalize(a->x, result->x, a->dim, vec::NoDirection::kZeros);  // as pgvector
  PG_RETURN_POINTER(result);
}

// subvector(v, start, count): 1-based like substring; start is clamped, the result must be
// non-empty.
EMB_FUNCTION(subvector) {
  PgVector* a = EMB_GETARG_VECTOR(0);
  const vec::Slice slice = vec::subvector_slice(a->dim, PG_GETARG_INT32(1), PG_GETARG_INT32(2));
  PgVector* result = embedding::pg::new_vector(slice.dims);
  memcpy(result->x, a->x + slice.first, sizeof(float) * slice.dims);
  PG_RETURN_POINTER(result);
}

// binary_quantize(v) -> bit: bit i is set when element i > 0.
EMB_FUNCTION(binary_quantize) {
  PgVector* a = EMB_GETARG_VECTOR(0);
  PG_RETURN_VARBIT_P(embedding::pg::sign_bit_string(a->x, a->dim));
}
