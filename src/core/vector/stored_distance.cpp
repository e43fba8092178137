// Metric -> kernel binding of VectorDistance (stored_distance.h): the kernel, sign and offset
// each metric uses for each storage format.
#include "core/vector/stored_distance.h"

#include "core/common/error.h"

namespace embedding {

namespace {

float hamming(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes) {
  return static_cast<float>(kernels::active().bit_hamming(a, b, bytes));
}

float jaccard(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes) {
  std::uint64_t both = 0, count_a = 0, count_b = 0;
  kernels::active().bit_jaccard_counts(a, b, bytes, &both, &count_a, &count_b);
  if (both == 0) return 1.0f;
  return static_cast<float>(1.0 - static_cast<double>(both) /
                                      static_cast<double>(count_a + count_b - both));
}

}  // namespace

VectorDistance::VectorDistance(Metric metric, std::size_t dimensions, Format format)
    : metric_(metric), format_(format), dimensions_(dimensions), bytes_((dimensions + 7) / 8) {
  if (!supports(format, metric))
    throw Error(ErrorCode::kInvalidParameter, "metric does not apply to this vector type");
  const kernels::KernelTable& table = kernels::active();
  switch (metric) {
    case Metric::kL2:
      float_kernel_ = table.l2_squared, half_kernel_ = table.half_l2_squared;
      sparse_kernel_ = vec::sparse_l2_squared;
      return;
    case Metric::kInnerProduct:
      float_kernel_ = table.dot, half_kernel_ = table.half_dot, sign_ = -1.0f;
      sparse_kernel_ = vec::sparse_dot;
      return;
    case Metric::kCosine:
      float_kernel_ = table.dot, half_kernel_ = table.half_dot, offset_ = 1.0f, sign_ = -1.0f;
      sparse_kernel_ = vec::sparse_dot;
      return;
    case Metric::kL1:
      float_kernel_ = table.l1, half_kernel_ = table.half_l1;
      sparse_kernel_ = vec::sparse_l1;
      return;
    case Metric::kHamming:
      bit_kernel_ = hamming;
      return;
    case Metric::kJaccard:
      bit_kernel_ = jaccard;
      return;
  }
  throw Error(ErrorCode::kInternal, "unknown metric");
}

}  // namespace embedding
