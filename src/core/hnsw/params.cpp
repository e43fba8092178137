// Validation of the HNSW index parameters, shared by the build graph and the reloption checks
// of the PostgreSQL glue so that both report the same limits.
#include "core/hnsw/params.h"

#include <string>

#include "core/common/error.h"

namespace embedding::hnsw {

void validate(const Params& params) {
  if (params.m < kMinM || params.m > kMaxM)
    throw Error(ErrorCode::kInvalidParameter,
                "m must be between " + std::to_string(kMinM) + " and " + std::to_string(kMaxM),
                "m is " + std::to_string(params.m));
  if (params.ef_construction < kMinEfConstruction || params.ef_construction > kMaxEfConstruction)
    throw Error(ErrorCode::kInvalidParameter,
                "ef_construction must be between " + std::to_string(kMinEfConstruction) + " and " +
                    std::to_string(kMaxEfConstruction),
                "ef_construction is " + std::to_string(params.ef_construction));
  if (params.ef_construction < 2 * params.m)
    throw Error(ErrorCode::kInvalidParameter,
                "ef_construction must be greater than or equal to 2 * m",
                "m is " + std::to_string(params.m) + ", ef_construction is " +
                    std::to_string(params.ef_construction));
}

}  // namespace embedding::hnsw
