// The avg(vector) aggregate's transition, combine and final functions. State is a float8[] of
// [count, sum_1 .. sum_n], so partial aggregates combine in parallel plans.
#include <string>

#include "core/common/error.h"
#include "core/vector/arith.h"
#include "core/vector/codec.h"
#include "pg/guard.h"
#include "pg/vector.h"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
}

namespace vec = embedding::vec;
using embedding::Error;
using embedding::ErrorCode;
using embedding::pg::PgVector;

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

}  // namespace

EMB_FUNCTION(vector_accum) {
  ArrayType* state = PG_GETARG_ARRAYTYPE_P(0);
  PgVector* v = EMB_GETARG_VECTOR(1);
  int n;
  double* values = state_values(state, &n, "vector_accum");
  // The initial state '{0}' has no sums yet: the first row fixes the dimension.
  if (n != 0) vec::check_expected_dim(n, v->dim);
  ArrayType* result = n == 0 ? new_state(v->dim, nullptr) : new_state(n, values);
  vec::accumulate(reinterpret_cast<double*>(ARR_DATA_PTR(result)), v->dim, v->x);
  PG_RETURN_ARRAYTYPE_P(result);
}

EMB_FUNCTION(vector_combine) {
  ArrayType* a = PG_GETARG_ARRAYTYPE_P(0);
  ArrayType* b = PG_GETARG_ARRAYTYPE_P(1);
  int na, nb;
  double* va = state_values(a, &na, "vector_combine");
  double* vb = state_values(b, &nb, "vector_combine");
  // A side without rows contributes nothing; the other must be a valid vector's state.
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

EMB_FUNCTION(vector_avg) {
  ArrayType* state = PG_GETARG_ARRAYTYPE_P(0);
  int n;
  double* values = state_values(state, &n, "vector_avg");
  if (values[0] == 0) PG_RETURN_NULL();
  vec::check_dim(n);
  PgVector* result = embedding::pg::new_vector(n);
  vec::average(values, n, result->x);
  PG_RETURN_POINTER(result);
}
