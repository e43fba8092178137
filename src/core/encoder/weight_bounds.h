// A cheap proof that an encoder's weights give finite vectors for every text: bounds on each
// activation of the forward pass from the largest magnitude of each weight tensor (one pass).
#pragma once

#include "core/encoder/encoder_file.h"

namespace embedding::encoder {

// No bound may reach this: float32 ends at 3.4e38, and a margin absorbs rounding in sums.
inline constexpr double kActivationLimit = 1e37;

// Throws Error(kCorruptData) when a weight is NaN or infinite, or when some activation's bound
// reaches kActivationLimit (the weights could overflow float32, giving NaN vectors). weights
// holds tensor_plan(config)'s tensors in order. Polls for interrupts.
void check_weight_bounds(const EncoderConfig& config, const float* weights);

}  // namespace embedding::encoder
