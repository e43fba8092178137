// require_finite(): the check every vector embed() computes passes before it leaves the core. A
// NaN or infinite element cannot be stored back from a dump and is skipped by cosine indexes, so
// it is an error, never a result.
#pragma once

#include <cmath>
#include <span>

#include "core/common/error.h"

namespace embedding {

inline void require_finite(std::span<const float> vector) {
  for (const float value : vector)
    if (!std::isfinite(value))
      throw Error(ErrorCode::kDataException,
                  "the model computed a vector that is not finite (NaN or infinity)",
                  "Its weights overflow float32 for this text; no usable vector can come from it.");
}

}  // namespace embedding
