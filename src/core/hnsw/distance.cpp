// Metric -> kernel binding of VectorDistance and the in-place L2 normalisation used for
// cosine, computed in double so that huge or tiny components do not overflow.
#include "core/hnsw/distance.h"

#include <cmath>

#include "core/common/error.h"

namespace embedding::hnsw {

VectorDistance::VectorDistance(Metric metric, std::size_t dimensions)
    : metric_(metric), dimensions_(dimensions) {
  const kernels::KernelTable& table = kernels::active();
  switch (metric) {
    case Metric::kL2:
      kernel_ = table.l2_squared, offset_ = 0.0f, sign_ = 1.0f;
      return;
    case Metric::kInnerProduct:
      kernel_ = table.dot, offset_ = 0.0f, sign_ = -1.0f;
      return;
    case Metric::kCosine:
      kernel_ = table.dot, offset_ = 1.0f, sign_ = -1.0f;
      return;
    case Metric::kL1:
      kernel_ = table.l1, offset_ = 0.0f, sign_ = 1.0f;
      return;
  }
  throw Error(ErrorCode::kInternal, "unknown HNSW metric");
}

bool normalize(float* vector, std::size_t dimensions) {
  const double norm = kernels::norm(vector, dimensions);
  if (!(norm > 0.0) || !std::isfinite(norm)) return false;
  for (std::size_t i = 0; i < dimensions; ++i)
    vector[i] = static_cast<float>(static_cast<double>(vector[i]) / norm);
  return true;
}

}  // namespace embedding::hnsw
