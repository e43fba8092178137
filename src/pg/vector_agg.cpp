// The transition, combine and final functions of avg(vector) and avg(halfvec). State is a
// float8[] of [count, sum_1 .. sum_n], so partial aggregates combine in parallel plans.
#include <string>

#include "core/common/error.h"
#include "core/vector/arith.h"
#include "core/vector/codec.h"
#include "core/vector/kernels.h"
#include "pg/guard.h"
#include "pg/halfvec.h"
#include "pg/vector.h"
#include "pg/vector_names.h"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
}

namespace {

// Validates a state array and returns its elements; *n receives the vector dimension (0 = empty).
// The message names the function, as pgvector's does.
double* state_values(ArrayType* state, int* n, const char* function) {
  if (ARR_NDIM(state) != 1 || ARR_HASNULL(state) || ARR_ELEMTYPE(state) != FLOAT8OID ||
      ARR_DIMS(state)[0] < 1)
    throw Error(ErrorCode::kDataException, std::string(function) + ": expected state array");
  *n = ARR_DIMS(state)[0] - 1;
  return reinterpret_cast<double*>(ARR_DATA_PTR(state));
}

ArrayType* new_state(int n, const double* from) {
  Datum* elems = static_cast<Datum*>(palloc(sizeof(Datum) * (n + 1)));
  for (int i = 0; i <= n; ++i) elems[i] = Float8GetDatum(from ? from[i] : 0.0);
  return construct_array(elems, n + 1, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

// The transition function: adds one row's elements x[0..dim) to the state.
Datum accum(FunctionCallInfo fcinfo, const float* x, int dim, const char* function) {
  ArrayType* state = PG_GETARG_ARRAYTYPE_P(0);
  int n;
  double* values = state_values(state, &n, function);
  // The initial state '{0}' has no sums yet: the first row fixes the dimension.
  if (n != 0) vec::check_expected_dim(n, dim);
  ArrayType* result = n == 0 ? new_state(dim, nullptr) : new_state(n, values);
  vec::accumulate(reinterpret_cast<double*>(ARR_DATA_PTR(result)), dim, x);
  PG_RETURN_ARRAYTYPE_P(result);
}

// Also avg(halfvec)'s combine function (its SQL function halfvec_combine is this C function, as
// in pgvector).
Datum combine(FunctionCallInfo fcinfo, const char* function) {
  ArrayType* a = PG_GETARG_ARRAYTYPE_P(0);
  ArrayType* b = PG_GETARG_ARRAYTYPE_P(1);
  int na, nb;
  double* va = state_values(a, &na, function);
  double* vb = state_values(b, &nb, function);
  // A side without rows contributes nothing; the other, if it has rows, must be a valid vector's
  // state. Two sides without rows give the empty state: a parallel plan whose workers saw no rows
  // combines their initial states, and the final function then returns NULL.
  if (va[0] == 0 && vb[0] == 0) PG_RETURN_ARRAYTYPE_P(new_state(0, nullptr));
  if (va[0] == 0) {
    vec::check_dim(nb);
    PG_RETURN_ARRAYTYPE_P(new_state(nb, vb));
  }
  if (vb[0] == 0) {
    vec::check_dim(na);
    PG_RETURN_ARRAYTYPE_P(new_state(na, va));
  }
  vec::check_dim(na);
  vec::check_expected_dim(na, nb);
  ArrayType* result = new_state(na, va);
  vec::combine(reinterpret_cast<double*>(ARR_DATA_PTR(result)), vb, na);
  PG_RETURN_ARRAYTYPE_P(result);
}

// The final function's means as checked elements of `element`'s type, or nullptr for no rows.
float* means(FunctionCallInfo fcinfo, vec::Element element, const char* function, int* n) {
  ArrayType* state = PG_GETARG_ARRAYTYPE_P(0);
  double* values = state_values(state, n, function);
  if (values[0] == 0) return nullptr;
  vec::check_dim(*n, element);
  auto* out = static_cast<float*>(palloc(sizeof(float) * *n));
  vec::average(values, *n, out, element);
  return out;
}

}  // namespace

EMB_FUNCTION(vector_accum) {
  PgVector* v = EMB_GETARG_VECTOR(1);
  return accum(fcinfo, v->x, v->dim, "vector_accum");
}

EMB_FUNCTION(vector_combine) { return combine(fcinfo, "vector_combine"); }

EMB_FUNCTION(vector_avg) {
  int n;
  float* x = means(fcinfo, vec::Element::kFloat32, "vector_avg", &n);
  if (x == nullptr) PG_RETURN_NULL();
  PgVector* result = embedding::pg::new_vector(n);
  memcpy(result->x, x, sizeof(float) * n);
  PG_RETURN_POINTER(result);
}

EMB_FUNCTION(halfvec_accum) {
  PgHalfVector* v = EMB_GETARG_HALFVEC(1);
  auto* x = static_cast<float*>(palloc(sizeof(float) * v->dim));
  embedding::kernels::active().half_to_float(v->x, x, v->dim);
  return accum(fcinfo, x, v->dim, "halfvec_accum");
}

EMB_FUNCTION(halfvec_avg) {
  int n;
  float* x = means(fcinfo, vec::Element::kFloat16, "halfvec_avg", &n);
  if (x == nullptr) PG_RETURN_NULL();
  PG_RETURN_POINTER(embedding::pg::halfvec_from_floats(x, n));
}
