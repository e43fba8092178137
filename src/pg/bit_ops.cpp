// pgvector's functions on PostgreSQL's `bit` type: hamming and jaccard distances (the <~> and
// <%> operators), over popcount kernels.
#include <string>

#include "core/common/error.h"
#include "core/vector/kernels.h"
#include "pg/guard.h"

extern "C" {
#include "utils/varbit.h"
}

using embedding::Error;
using embedding::ErrorCode;

namespace {

using BitDistanceFn = double (*)(const std::uint8_t*, const std::uint8_t*, std::size_t);

Datum bit_distance(FunctionCallInfo fcinfo, BitDistanceFn fn) {
  VarBit* a = PG_GETARG_VARBIT_P(0);
  VarBit* b = PG_GETARG_VARBIT_P(1);
  if (VARBITLEN(a) != VARBITLEN(b))
    throw Error(ErrorCode::kDataException, "different bit lengths " + std::to_string(VARBITLEN(a)) +
                                               " and " + std::to_string(VARBITLEN(b)));
  // PostgreSQL keeps the padding bits of the last byte zero, so whole bytes can be compared.
  PG_RETURN_FLOAT8(fn(VARBITS(a), VARBITS(b), VARBITBYTES(a)));
}

}  // namespace

EMB_FUNCTION(hamming_distance) {
  return bit_distance(fcinfo, embedding::kernels::bit_hamming_distance);
}
EMB_FUNCTION(jaccard_distance) {
  return bit_distance(fcinfo, embedding::kernels::bit_jaccard_distance);
}
