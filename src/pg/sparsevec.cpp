// The `sparsevec` type: I/O, typmod, casts to and from vector, halfvec and arrays, distances,
// norms and comparisons, with pgvector's names, semantics and messages.
#include <cmath>
#include <cstring>
#include <string>

#include "core/common/error.h"
#include "core/vector/codec.h"
#include "core/vector/half.h"
#include "core/vector/normalize.h"
#include "core/vector/sparse.h"
#include "pg/guard.h"
#include "pg/halfvec.h"
#include "pg/sparsevec.h"
#include "pg/vector.h"
#include "pg/vector_names.h"

extern "C" {
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

namespace embedding::pg {

PgSparseVector* new_sparsevec(int dim, int nnz) {
  auto* v = static_cast<PgSparseVector*>(palloc0(sparsevec_size(nnz)));
  SET_VARSIZE(v, sparsevec_size(nnz));
  v->dim = dim;
  v->nnz = nnz;
  return v;
}

}  // namespace embedding::pg

namespace {

void check_same_dims(const PgSparseVector* a, const PgSparseVector* b) {
  if (a->dim != b->dim)
    throw Error(ErrorCode::kDataException, "different sparsevec dimensions " +
                                               std::to_string(a->dim) + " and " +
                                               std::to_string(b->dim));
}

// A sparsevec of the non-zero elements of x[0..dim) (dense input from a cast).
PgSparseVector* from_dense(const float* x, int dim, int32 typmod) {
  vec::check_sparse_dim(dim);
  vec::check_expected_dim(typmod, dim);
  int nnz = 0;
  for (int i = 0; i < dim; ++i) nnz += x[i] != 0;
  vec::check_sparse_nnz(nnz, dim);
  PgSparseVector* result = embedding::pg::new_sparsevec(dim, nnz);
  float* values = embedding::pg::sparse_values(result);
  for (int i = 0, j = 0; i < dim; ++i)
    if (x[i] != 0) {
      result->indices[j] = i;
      values[j++] = x[i];
    }
  return result;
}

// The dense elements of a sparsevec (to a dense type whose limit the caller checked).
float* to_dense(PgSparseVector* v) {
  auto* x = static_cast<float*>(palloc0(sizeof(float) * v->dim));
  const float* values = embedding::pg::sparse_values(v);
  for (int i = 0; i < v->nnz; ++i) x[v->indices[i]] = values[i];
  return x;
}

using Distance = double (*)(const vec::SparseView&, const vec::SparseView&);

Datum distance(FunctionCallInfo fcinfo, Distance fn) {
  PgSparseVector* a = EMB_GETARG_SPARSEVEC(0);
  PgSparseVector* b = EMB_GETARG_SPARSEVEC(1);
  check_same_dims(a, b);
  PG_RETURN_FLOAT8(fn(embedding::pg::view(a), embedding::pg::view(b)));
}

int compare_args(FunctionCallInfo fcinfo) {
  PgSparseVector* a = EMB_GETARG_SPARSEVEC(0);
  PgSparseVector* b = EMB_GETARG_SPARSEVEC(1);
  return vec::sparse_compare(embedding::pg::view(a), embedding::pg::view(b));
}

}  // namespace

// ---- I/O ----

EMB_FUNCTION(sparsevec_in) {
  const char* literal = PG_GETARG_CSTRING(0);
  const int capacity = vec::sparse_text_capacity(literal);
  auto* indices = static_cast<int32*>(palloc(sizeof(int32) * capacity));
  auto* values = static_cast<float*>(palloc(sizeof(float) * capacity));
  long dim;
  const int nnz = vec::parse_sparse_text(literal, indices, values, capacity, &dim);
  vec::check_expected_dim(PG_GETARG_INT32(2), dim);
  PgSparseVector* result = embedding::pg::new_sparsevec(static_cast<int>(dim), nnz);
  memcpy(result->indices, indices, sizeof(int32) * nnz);
  memcpy(embedding::pg::sparse_values(result), values, sizeof(float) * nnz);
  PG_RETURN_POINTER(result);
}

EMB_FUNCTION(sparsevec_out) {
  PgSparseVector* v = EMB_GETARG_SPARSEVEC(0);
  char* text = static_cast<char*>(palloc(vec::sparse_text_bound(v->nnz) + 1));
  const std::size_t len = vec::format_sparse_text(embedding::pg::view(v), text);
  text[len] = '\0';
  PG_RETURN_CSTRING(text);
}

EMB_FUNCTION(sparsevec_typmod_in) {
  ArrayType* ta = PG_GETARG_ARRAYTYPE_P(0);
  int n = 0;
  int32* tl = ArrayGetIntegerTypmods(ta, &n);
  if (n != 1) throw Error(ErrorCode::kInvalidParameter, "invalid type modifier");
  if (*tl < 1)
    throw Error(ErrorCode::kInvalidParameter, "dimensions for type sparsevec must be at least 1");
  if (*tl > vec::kMaxSparseDim)
    throw Error(ErrorCode::kInvalidParameter, "dimensions for type sparsevec cannot exceed " +
                                                  std::to_string(vec::kMaxSparseDim));
  PG_RETURN_INT32(*tl);
}

EMB_FUNCTION(sparsevec_recv) {
  StringInfo buf = reinterpret_cast<StringInfo>(PG_GETARG_POINTER(0));
  auto* data = reinterpret_cast<const unsigned char*>(buf->data + buf->cursor);
  const std::size_t len = static_cast<std::size_t>(buf->len - buf->cursor);
  long dim;
  const int nnz = vec::decode_sparse_header(data, len, PG_GETARG_INT32(2), &dim);
  PgSparseVector* result = embedding::pg::new_sparsevec(static_cast<int>(dim), nnz);
  vec::decode_sparse_elements(data, len, nnz, dim, result->indices,
                              embedding::pg::sparse_values(result));
  buf->cursor += static_cast<int>(vec::sparse_binary_size(nnz));
  PG_RETURN_POINTER(result);
}

EMB_FUNCTION(sparsevec_send) {
  PgSparseVector* v = EMB_GETARG_SPARSEVEC(0);
  const std::size_t size = vec::sparse_binary_size(v->nnz);
  bytea* result = static_cast<bytea*>(palloc(VARHDRSZ + size));
  SET_VARSIZE(result, VARHDRSZ + size);
  vec::encode_sparse_binary(embedding::pg::view(v),
                            reinterpret_cast<unsigned char*>(VARDATA(result)));
  PG_RETURN_BYTEA_P(result);
}

// ---- casts ----

// Typmod coercion sparsevec(sparsevec, int, bool). (pgvector names its C symbol `sparsevec`.)
EMB_FUNCTION(sparsevec_typmod_cast) {
  PgSparseVector* v = EMB_GETARG_SPARSEVEC(0);
  vec::check_expected_dim(PG_GETARG_INT32(1), v->dim);
  PG_RETURN_POINTER(v);
}

EMB_FUNCTION(vector_to_sparsevec) {
  PgVector* v = EMB_GETARG_VECTOR(0);
  PG_RETURN_POINTER(from_dense(v->x, v->dim, PG_GETARG_INT32(1)));
}

EMB_FUNCTION(halfvec_to_sparsevec) {
  PgHalfVector* v = EMB_GETARG_HALFVEC(0);
  auto* x = static_cast<float*>(palloc(sizeof(float) * v->dim));
  for (int i = 0; i < v->dim; ++i) x[i] = vec::half_to_float(v->x[i]);
  PG_RETURN_POINTER(from_dense(x, v->dim, PG_GETARG_INT32(1)));
}

EMB_FUNCTION(array_to_sparsevec) {
  int n;
  float* x = embedding::pg::array_elements(PG_GETARG_ARRAYTYPE_P(0), PG_GETARG_INT32(1),
                                           vec::Element::kSparse, &n);
  PG_RETURN_POINTER(from_dense(x, n, -1));
}

EMB_FUNCTION(sparsevec_to_vector) {
  PgSparseVector* v = EMB_GETARG_SPARSEVEC(0);
  vec::check_dim(v->dim, vec::Element::kFloat32);
  vec::check_expected_dim(PG_GETARG_INT32(1), v->dim);
  PgVector* result = embedding::pg::new_vector(v->dim);
  memcpy(result->x, to_dense(v), sizeof(float) * v->dim);
  PG_RETURN_POINTER(result);
}

EMB_FUNCTION(sparsevec_to_halfvec) {
  PgSparseVector* v = EMB_GETARG_SPARSEVEC(0);
  vec::check_dim(v->dim, vec::Element::kFloat16);
  vec::check_expected_dim(PG_GETARG_INT32(1), v->dim);
  PG_RETURN_POINTER(embedding::pg::halfvec_from_floats(to_dense(v), v->dim));
}

// ---- distances, norms, comparisons ----

namespace {
double l2(const vec::SparseView& a, const vec::SparseView& b) {
  return std::sqrt(static_cast<double>(vec::sparse_l2_squared(a, b)));
}
double l2_squared(const vec::SparseView& a, const vec::SparseView& b) {
  return vec::sparse_l2_squared(a, b);
}
double dot(const vec::SparseView& a, const vec::SparseView& b) { return vec::sparse_dot(a, b); }
double negative_dot(const vec::SparseView& a, const vec::SparseView& b) {
  return -static_cast<double>(vec::sparse_dot(a, b));
}
double l1(const vec::SparseView& a, const vec::SparseView& b) { return vec::sparse_l1(a, b); }
}  // namespace

EMB_FUNCTION(sparsevec_l2_distance) { return distance(fcinfo, l2); }
EMB_FUNCTION(sparsevec_l2_squared_distance) { return distance(fcinfo, l2_squared); }
EMB_FUNCTION(sparsevec_inner_product) { return distance(fcinfo, dot); }
EMB_FUNCTION(sparsevec_negative_inner_product) { return distance(fcinfo, negative_dot); }
EMB_FUNCTION(sparsevec_cosine_distance) { return distance(fcinfo, vec::sparse_cosine_distance); }
EMB_FUNCTION(sparsevec_l1_distance) { return distance(fcinfo, l1); }

EMB_FUNCTION(sparsevec_l2_norm) {
  PG_RETURN_FLOAT8(vec::sparse_norm(embedding::pg::view(EMB_GETARG_SPARSEVEC(0))));
}

// Elements that underflow to zero are dropped; a zero vector stays zero.
EMB_FUNCTION(sparsevec_l2_normalize) {
  PgSparseVector* a = EMB_GETARG_SPARSEVEC(0);
  auto* scaled = static_cast<float*>(palloc(sizeof(float) * (a->nnz > 0 ? a->nnz : 1)));
  if (!vec::normalize(embedding::pg::sparse_values(a), scaled, a->nnz, vec::NoDirection::kKeep))
    PG_RETURN_POINTER(embedding::pg::new_sparsevec(a->dim, 0));
  int kept = 0;
  for (int i = 0; i < a->nnz; ++i) kept += scaled[i] != 0;
  PgSparseVector* result = embedding::pg::new_sparsevec(a->dim, kept);
  float* out = embedding::pg::sparse_values(result);
  for (int i = 0, j = 0; i < a->nnz; ++i)
    if (scaled[i] != 0) {
      result->indices[j] = a->indices[i];
      out[j++] = scaled[i];
    }
  PG_RETURN_POINTER(result);
}

EMB_FUNCTION(sparsevec_lt) { PG_RETURN_BOOL(compare_args(fcinfo) < 0); }
EMB_FUNCTION(sparsevec_le) { PG_RETURN_BOOL(compare_args(fcinfo) <= 0); }
EMB_FUNCTION(sparsevec_eq) { PG_RETURN_BOOL(compare_args(fcinfo) == 0); }
EMB_FUNCTION(sparsevec_ne) { PG_RETURN_BOOL(compare_args(fcinfo) != 0); }
EMB_FUNCTION(sparsevec_ge) { PG_RETURN_BOOL(compare_args(fcinfo) >= 0); }
EMB_FUNCTION(sparsevec_gt) { PG_RETURN_BOOL(compare_args(fcinfo) > 0); }
EMB_FUNCTION(sparsevec_cmp) { PG_RETURN_INT32(compare_args(fcinfo)); }
