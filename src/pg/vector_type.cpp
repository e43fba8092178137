// The `vector` type's I/O: text and binary input/output, typmod, and casts to and from arrays.
#include <string>

#include "core/common/error.h"
#include "core/vector/codec.h"
#include "core/vector/half.h"
#include "pg/guard.h"
#include "pg/vector.h"
#include "pg/vector_names.h"

extern "C" {
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
}

namespace embedding::pg {

PgVector* new_vector(int dim) {
  auto* v = static_cast<PgVector*>(palloc0(vector_size(dim)));
  SET_VARSIZE(v, vector_size(dim));
  v->dim = static_cast<int16>(dim);
  return v;
}

void check_same_dims(const PgVector* a, const PgVector* b) {
  if (a->dim != b->dim)
    throw Error(ErrorCode::kDataException, "different vector dimensions " + std::to_string(a->dim) +
                                               " and " + std::to_string(b->dim));
}

float* array_elements(ArrayType* array, int32 typmod, vec::Element element, int* count) {
  if (ARR_NDIM(array) > 1) throw Error(ErrorCode::kDataException, "array must be 1-D");
  if (ARR_HASNULL(array) && array_contains_nulls(array))
    throw Error(ErrorCode::kNullValue, "array must not contain nulls");
  Oid elem_type = ARR_ELEMTYPE(array);
  if (elem_type != INT4OID && elem_type != FLOAT4OID && elem_type != FLOAT8OID &&
      elem_type != NUMERICOID)
    throw Error(ErrorCode::kDataException, "unsupported array type");
  int16 typlen;
  bool typbyval;
  char typalign;
  get_typlenbyvalalign(elem_type, &typlen, &typbyval, &typalign);
  Datum* elems;
  int n;
  deconstruct_array(array, elem_type, typlen, typbyval, typalign, &elems, nullptr, &n);
  vec::check_dim(n, element);
  vec::check_expected_dim(typmod, n);
  auto* out = static_cast<float*>(palloc(sizeof(float) * n));
  for (int i = 0; i < n; ++i) {
    float value;
    switch (elem_type) {
      case INT4OID:
        value = static_cast<float>(DatumGetInt32(elems[i]));
        break;
      case FLOAT4OID:
        value = DatumGetFloat4(elems[i]);
        break;
      case FLOAT8OID:
        value = static_cast<float>(DatumGetFloat8(elems[i]));
        break;
      default:
        value = DatumGetFloat4(DirectFunctionCall1(numeric_float4, elems[i]));
        break;
    }
    if (element == vec::Element::kFloat16) value = vec::half_to_float(vec::to_half(value));
    vec::check_element(value, element);
    out[i] = value;
  }
  *count = n;
  return out;
}

ArrayType* float4_array(const float* x, int n) {
  Datum* elems = static_cast<Datum*>(palloc(sizeof(Datum) * n));
  for (int i = 0; i < n; ++i) elems[i] = Float4GetDatum(x[i]);
  return construct_array(elems, n, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT);
}

}  // namespace embedding::pg

EMB_FUNCTION(vector_in) {
  const char* literal = PG_GETARG_CSTRING(0);
  int32 typmod = PG_GETARG_INT32(2);
  int capacity = vec::text_capacity(literal);
  PgVector* result = embedding::pg::new_vector(capacity);
  int dim = vec::parse_text(literal, result->x, capacity);
  vec::check_expected_dim(typmod, dim);
  SET_VARSIZE(result, embedding::pg::vector_size(dim));
  result->dim = static_cast<int16>(dim);
  PG_RETURN_POINTER(result);
}

EMB_FUNCTION(vector_out) {
  PgVector* v = EMB_GETARG_VECTOR(0);
  char* text = static_cast<char*>(palloc(v->dim * vec::kMaxElementChars + 3));
  std::size_t len = vec::format_text(v->x, v->dim, text);
  text[len] = '\0';
  PG_RETURN_CSTRING(text);
}

EMB_FUNCTION(vector_typmod_in) {
  ArrayType* ta = PG_GETARG_ARRAYTYPE_P(0);
  int n = 0;
  int32* tl = ArrayGetIntegerTypmods(ta, &n);
  if (n != 1) throw Error(ErrorCode::kInvalidParameter, "invalid type modifier");
  if (*tl < 1)
    throw Error(ErrorCode::kInvalidParameter, "dimensions for type vector must be at least 1");
  if (*tl > vec::kMaxDim)
    throw Error(ErrorCode::kInvalidParameter,
                "dimensions for type vector cannot exceed " + std::to_string(vec::kMaxDim));
  PG_RETURN_INT32(*tl);
}

EMB_FUNCTION(vector_recv) {
  StringInfo buf = reinterpret_cast<StringInfo>(PG_GETARG_POINTER(0));
  int32 typmod = PG_GETARG_INT32(2);
  auto* data = reinterpret_cast<const unsigned char*>(buf->data + buf->cursor);
  std::size_t len = static_cast<std::size_t>(buf->len - buf->cursor);
  int dim = vec::decode_binary_header(data, len, typmod);
  PgVector* result = embedding::pg::new_vector(dim);
  vec::decode_binary_elements(data, len, result->x, dim);
  buf->cursor += static_cast<int>(vec::binary_size(dim));
  PG_RETURN_POINTER(result);
}

EMB_FUNCTION(vector_send) {
  PgVector* v = EMB_GETARG_VECTOR(0);
  std::size_t size = vec::binary_size(v->dim);
  bytea* result = static_cast<bytea*>(palloc(VARHDRSZ + size));
  SET_VARSIZE(result, VARHDRSZ + size);
  vec::encode_binary(v->x, v->dim, reinterpret_cast<unsigned char*>(VARDATA(result)));
  PG_RETURN_BYTEA_P(result);
}

// Typmod coercion: vector(vector, int, bool). (pgvector names its C symbol `vector`.)
EMB_FUNCTION(vector_typmod_cast) {
  PgVector* v = EMB_GETARG_VECTOR(0);
  vec::check_expected_dim(PG_GETARG_INT32(1), v->dim);
  PG_RETURN_POINTER(v);
}

EMB_FUNCTION(array_to_vector) {
  int n;
  float* x = embedding::pg::array_elements(PG_GETARG_ARRAYTYPE_P(0), PG_GETARG_INT32(1),
                                           vec::Element::kFloat32, &n);
  PgVector* result = embedding::pg::new_vector(n);
  memcpy(result->x, x, sizeof(float) * n);
  PG_RETURN_POINTER(result);
}

EMB_FUNCTION(vector_to_float4) {
  PgVector* v = EMB_GETARG_VECTOR(0);
  PG_RETURN_POINTER(embedding::pg::float4_array(v->x, v->dim));
}
