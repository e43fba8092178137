// The `halfvec` type: I/O, typmod, casts, distances, arithmetic, comparisons and functions, with
// pgvector's names, semantics and messages. Elements are IEEE halfs; arithmetic is done in float
// and rounded back, as pgvector does where the compiler has no _Float16.
#include <cmath>
#include <cstring>

#include "core/common/error.h"
#include "core/vector/arith.h"
#include "core/vector/codec.h"
#include "core/vector/half.h"
#include "core/vector/kernels.h"
#include "core/vector/normalize.h"
#include "pg/guard.h"
#include "pg/halfvec.h"
#include "pg/vector.h"
#include "pg/vector_names.h"

extern "C" {
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/varbit.h"
}

namespace kernels = embedding::kernels;
using vec::Element;
using vec::Half;

namespace embedding::pg {

PgHalfVector* new_halfvec(int dim) {
  auto* v = static_cast<PgHalfVector*>(palloc0(halfvec_size(dim)));
  SET_VARSIZE(v, halfvec_size(dim));
  v->dim = static_cast<int16>(dim);
  return v;
}

PgHalfVector* halfvec_from_floats(const float* x, int dim) {
  PgHalfVector* result = new_halfvec(dim);
  for (int i = 0; i < dim; ++i) result->x[i] = vec::to_half(x[i]);
  return result;
}

}  // namespace embedding::pg

namespace {

void check_same_dims(const PgHalfVector* a, const PgHalfVector* b) {
  if (a->dim != b->dim)
    throw Error(ErrorCode::kDataException, "different halfvec dimensions " +
                                               std::to_string(a->dim) + " and " +
                                               std::to_string(b->dim));
}

float* to_floats(const PgHalfVector* v) {
  auto* out = static_cast<float*>(palloc(sizeof(float) * (v->dim > 0 ? v->dim : 1)));
  kernels::active().half_to_float(v->x, out, v->dim);
  return out;
}

using HalfDistanceFn = double (*)(const Half*, const Half*, std::size_t);

Datum distance(FunctionCallInfo fcinfo, HalfDistanceFn fn, double sign = 1.0) {
  PgHalfVector* a = EMB_GETARG_HALFVEC(0);
  PgHalfVector* b = EMB_GETARG_HALFVEC(1);
  check_same_dims(a, b);
  PG_RETURN_FLOAT8(sign * fn(a->x, b->x, a->dim));
}

// The index support function: float32 squared distance (as pgvector).
double l2_squared(const Half* a, const Half* b, std::size_t n) {
  return kernels::active().half_l2_squared(a, b, n);
}

double spherical(const Half* a, const Half* b, std::size_t n) {
  return vec::angular_distance(kernels::half_inner_product(a, b, n));
}

enum class Op { kAdd, kSub, kMul };

// pgvector's halfvec_add/sub/mul: computed in float, rounded to half; a result that rounds to
// infinity is an overflow, a product that rounds to zero from non-zero factors an underflow.
Datum elementwise(FunctionCallInfo fcinfo, Op op) {
  PgHalfVector* a = EMB_GETARG_HALFVEC(0);
  PgHalfVector* b = EMB_GETARG_HALFVEC(1);
  check_same_dims(a, b);
  PgHalfVector* result = embedding::pg::new_halfvec(a->dim);
  for (int i = 0; i < a->dim; ++i) {
    const float x = vec::half_to_float(a->x[i]);
    const float y = vec::half_to_float(b->x[i]);
    const float r = op == Op::kAdd ? x + y : op == Op::kSub ? x - y : x * y;
    result->x[i] = vec::float_to_half(r);
  }
  for (int i = 0; i < a->dim; ++i) {
    if (vec::half_is_inf(result->x[i]))
      throw Error(ErrorCode::kOutOfRange, "value out of range: overflow");
    if (op == Op::kMul && vec::half_is_zero(result->x[i]) && !vec::half_is_zero(a->x[i]) &&
        !vec::half_is_zero(b->x[i]))
      throw Error(ErrorCode::kOutOfRange, "value out of range: underflow");
  }
  PG_RETURN_POINTER(result);
}

// Lexicographic by element value, then by dimension (as pgvector and PostgreSQL's arrays).
int compare_args(FunctionCallInfo fcinfo) {
  PgHalfVector* a = EMB_GETARG_HALFVEC(0);
  PgHalfVector* b = EMB_GETARG_HALFVEC(1);
  const int dim = a->dim < b->dim ? a->dim : b->dim;
  for (int i = 0; i < dim; ++i) {
    const float x = vec::half_to_float(a->x[i]);
    const float y = vec::half_to_float(b->x[i]);
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return a->dim < b->dim ? -1 : a->dim > b->dim ? 1 : 0;
}

}  // namespace

// ---- I/O ----

EMB_FUNCTION(halfvec_in) {
  const char* literal = PG_GETARG_CSTRING(0);
  int32 typmod = PG_GETARG_INT32(2);
  int capacity = vec::text_capacity(literal);
  auto* x = static_cast<float*>(palloc(sizeof(float) * capacity));
  int dim = vec::parse_text(literal, x, capacity, Element::kFloat16);
  vec::check_expected_dim(typmod, dim);
  // parse_text rounded every element to a half already: the conversion is exact.
  PG_RETURN_POINTER(embedding::pg::halfvec_from_floats(x, dim));
}

EMB_FUNCTION(halfvec_out) {
  PgHalfVector* v = EMB_GETARG_HALFVEC(0);
  float* x = to_floats(v);
  char* text = static_cast<char*>(palloc(v->dim * vec::kMaxElementChars + 3));
  std::size_t len = vec::format_text(x, v->dim, text);
  text[len] = '\0';
  PG_RETURN_CSTRING(text);
}

EMB_FUNCTION(halfvec_typmod_in) {
  ArrayType* ta = PG_GETARG_ARRAYTYPE_P(0);
  int n = 0;
  int32* tl = ArrayGetIntegerTypmods(ta, &n);
  if (n != 1) throw Error(ErrorCode::kInvalidParameter, "invalid type modifier");
  if (*tl < 1)
    throw Error(ErrorCode::kInvalidParameter, "dimensions for type halfvec must be at least 1");
  if (*tl > vec::kMaxHalfDim)
    throw Error(ErrorCode::kInvalidParameter,
                "dimensions for type halfvec cannot exceed " + std::to_string(vec::kMaxHalfDim));
  PG_RETURN_INT32(*tl);
}

EMB_FUNCTION(halfvec_recv) {
  StringInfo buf = reinterpret_cast<StringInfo>(PG_GETARG_POINTER(0));
  int32 typmod = PG_GETARG_INT32(2);
  auto* data = reinterpret_cast<const unsigned char*>(buf->data + buf->cursor);
  std::size_t len = static_cast<std::size_t>(buf->len - buf->cursor);
  int dim = vec::decode_binary_header(data, len, typmod, Element::kFloat16);
  PgHalfVector* result = embedding::pg::new_halfvec(dim);
  vec::decode_binary_halfs(data, len, result->x, dim);
  buf->cursor += static_cast<int>(vec::binary_size(dim, Element::kFloat16));
  PG_RETURN_POINTER(result);
}

EMB_FUNCTION(halfvec_send) {
  PgHalfVector* v = EMB_GETARG_HALFVEC(0);
  std::size_t size = vec::binary_size(v->dim, Element::kFloat16);
  bytea* result = static_cast<bytea*>(palloc(VARHDRSZ + size));
  SET_VARSIZE(result, VARHDRSZ + size);
  vec::encode_binary_halfs(v->x, v->dim, reinterpret_cast<unsigned char*>(VARDATA(result)));
  PG_RETURN_BYTEA_P(result);
}

// ---- casts ----

// Typmod coercion halfvec(halfvec, int, bool). (pgvector names its C symbol `halfvec`.)
EMB_FUNCTION(halfvec_typmod_cast) {
  PgHalfVector* v = EMB_GETARG_HALFVEC(0);
  vec::check_expected_dim(PG_GETARG_INT32(1), v->dim);
  PG_RETURN_POINTER(v);
}

EMB_FUNCTION(halfvec_to_vector) {
  PgHalfVector* v = EMB_GETARG_HALFVEC(0);
  vec::check_dim(v->dim, Element::kFloat32);
  vec::check_expected_dim(PG_GETARG_INT32(1), v->dim);
  PgVector* result = embedding::pg::new_vector(v->dim);
  kernels::active().half_to_float(v->x, result->x, v->dim);
  PG_RETURN_POINTER(result);
}

EMB_FUNCTION(vector_to_halfvec) {
  PgVector* v = EMB_GETARG_VECTOR(0);
  vec::check_dim(v->dim, Element::kFloat16);
  vec::check_expected_dim(PG_GETARG_INT32(1), v->dim);
  PG_RETURN_POINTER(embedding::pg::halfvec_from_floats(v->x, v->dim));
}

EMB_FUNCTION(array_to_halfvec) {
  int n;
  float* x = embedding::pg::array_elements(PG_GETARG_ARRAYTYPE_P(0), PG_GETARG_INT32(1),
                                           Element::kFloat16, &n);
  PG_RETURN_POINTER(embedding::pg::halfvec_from_floats(x, n));
}

EMB_FUNCTION(halfvec_to_float4) {
  PgHalfVector* v = EMB_GETARG_HALFVEC(0);
  PG_RETURN_POINTER(embedding::pg::float4_array(to_floats(v), v->dim));
}

// ---- distances ----

EMB_FUNCTION(halfvec_l2_distance) { return distance(fcinfo, kernels::half_l2_distance); }
EMB_FUNCTION(halfvec_l2_squared_distance) { return distance(fcinfo, l2_squared); }
EMB_FUNCTION(halfvec_inner_product) { return distance(fcinfo, kernels::half_inner_product); }
EMB_FUNCTION(halfvec_negative_inner_product) {
  return distance(fcinfo, kernels::half_inner_product, -1.0);
}
EMB_FUNCTION(halfvec_cosine_distance) { return distance(fcinfo, kernels::half_cosine_distance); }
EMB_FUNCTION(halfvec_l1_distance) { return distance(fcinfo, kernels::half_l1_distance); }

EMB_FUNCTION(halfvec_spherical_distance) { return distance(fcinfo, spherical); }

// ---- functions ----

EMB_FUNCTION(halfvec_vector_dims) { PG_RETURN_INT32(EMB_GETARG_HALFVEC(0)->dim); }

EMB_FUNCTION(halfvec_l2_norm) {
  PgHalfVector* a = EMB_GETARG_HALFVEC(0);
  PG_RETURN_FLOAT8(kernels::half_norm(a->x, a->dim));
}

// Normalised in float (halfs convert exactly), then rounded to halfs; a zero vector stays zero
// (as pgvector).
EMB_FUNCTION(halfvec_l2_normalize) {
  PgHalfVector* a = EMB_GETARG_HALFVEC(0);
  float* x = to_floats(a);
  vec::normalize(x, a->dim, vec::NoDirection::kZeros);
  PG_RETURN_POINTER(embedding::pg::halfvec_from_floats(x, a->dim));
}

EMB_FUNCTION(halfvec_add) { return elementwise(fcinfo, Op::kAdd); }
EMB_FUNCTION(halfvec_sub) { return elementwise(fcinfo, Op::kSub); }
EMB_FUNCTION(halfvec_mul) { return elementwise(fcinfo, Op::kMul); }

EMB_FUNCTION(halfvec_concat) {
  PgHalfVector* a = EMB_GETARG_HALFVEC(0);
  PgHalfVector* b = EMB_GETARG_HALFVEC(1);
  int dim = a->dim + b->dim;
  vec::check_dim(dim, Element::kFloat16);
  PgHalfVector* result = embedding::pg::new_halfvec(dim);
  memcpy(result->x, a->x, sizeof(Half) * a->dim);
  memcpy(result->x + a->dim, b->x, sizeof(Half) * b->dim);
  PG_RETURN_POINTER(result);
}

EMB_FUNCTION(halfvec_subvector) {
  PgHalfVector* a = EMB_GETARG_HALFVEC(0);
  const vec::Slice slice =
      vec::subvector_slice(a->dim, PG_GETARG_INT32(1), PG_GETARG_INT32(2), Element::kFloat16);
  PgHalfVector* result = embedding::pg::new_halfvec(slice.dims);
  memcpy(result->x, a->x + slice.first, sizeof(Half) * slice.dims);
  PG_RETURN_POINTER(result);
}

EMB_FUNCTION(halfvec_binary_quantize) {
  PgHalfVector* a = EMB_GETARG_HALFVEC(0);
  PG_RETURN_VARBIT_P(embedding::pg::sign_bit_string(a->x, a->dim));
}

EMB_FUNCTION(halfvec_lt) { PG_RETURN_BOOL(compare_args(fcinfo) < 0); }
EMB_FUNCTION(halfvec_le) { PG_RETURN_BOOL(compare_args(fcinfo) <= 0); }
EMB_FUNCTION(halfvec_eq) { PG_RETURN_BOOL(compare_args(fcinfo) == 0); }
EMB_FUNCTION(halfvec_ne) { PG_RETURN_BOOL(compare_args(fcinfo) != 0); }
EMB_FUNCTION(halfvec_ge) { PG_RETURN_BOOL(compare_args(fcinfo) >= 0); }
EMB_FUNCTION(halfvec_gt) { PG_RETURN_BOOL(compare_args(fcinfo) > 0); }
EMB_FUNCTION(halfvec_cmp) { PG_RETURN_INT32(compare_args(fcinfo)); }
