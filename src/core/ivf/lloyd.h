// Lloyd passes of float k-means with Hamerly's bounds: a row is compared with every center only
// when its bounds cannot prove that its center is still the nearest (kmeans.h's engine).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/ivf/kmeans.h"

namespace embedding::ivf {

// Runs up to options.max_iterations passes (assign, then update) from `centers` (k x dims, updated
// in place) and labels every row against the final centers. Stops early once fewer than 1 row in
// 1,000 changes its center. Calls options.progress after each pass on the caller's thread.
// Returns the passes run.
int lloyd(const float* rows, std::size_t n, std::size_t dims, std::size_t k, float* centers,
          std::uint32_t* labels, const KMeansOptions& options);

}  // namespace embedding::ivf
