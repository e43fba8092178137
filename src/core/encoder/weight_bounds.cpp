// Activation bounds for the BERT forward pass (see weight_bounds.h). Every LayerNorm resets the
// scale: its normalised values lie within sqrt(hidden) of zero (a row's deviations cannot all be
// large at once), so after it |x| <= sqrt(hidden) max|gamma| + max|beta| whatever came in. From
// there, within one layer: a dense layer gives |y| <= max|b| + fan_in max|W| max|x|; an attention
// score is a head_dims-long dot product of such bounds; softmax weights average the values, so
// the context is bounded as they are; GELU never grows a magnitude. Statistics of LayerNorm and
// pooling run in double. The bounds are loose (a real model stays below 1e12), but they are
// sufficient: weights that pass cannot overflow float32 for any text.
#include "core/encoder/weight_bounds.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/common/interrupt.h"

namespace embedding::encoder {
namespace {

// Tensors per layer in tensor_plan() order, and the offsets of each within a layer.
constexpr std::size_t kEmbeddingTensors = 5, kLayerTensors = 16;
enum LayerTensor : std::size_t {
  kQuery = 0,
  kKey = 2,
  kValue = 4,
  kAttentionOut = 6,
  kAttentionNorm = 8,
  kIntermediate = 10,
  kOutput = 12,
  kOutputNorm = 14,  // each a weight, then its bias
};

void check(double bound, const std::string& what) {
  if (bound < kActivationLimit) return;  // also false for NaN
  char shown[32];
  std::snprintf(shown, sizeof shown, "%.3g", bound);
  throw Error(ErrorCode::kCorruptData,
              "the model's weights are too large: " + what + " could reach " + shown +
                  ", beyond float32's range",
              "Such weights give NaN or infinite vectors; the model cannot be used.");
}

}  // namespace

void check_weight_bounds(const EncoderConfig& c, const float* weights) {
  const std::vector<TensorSpec> plan = tensor_plan(c);
  std::vector<double> peak(plan.size());  // the largest magnitude of each tensor
  std::uint64_t seen = 0;
  for (std::size_t t = 0; t < plan.size(); ++t) {
    const std::uint64_t count = std::uint64_t{plan[t].rows} * plan[t].cols;
    float largest = 0.0f;
    for (std::uint64_t i = 0; i < count; ++i, ++weights) {
      poll_interrupts_every<20>(seen++);
      if (!std::isfinite(*weights))
        throw Error(ErrorCode::kCorruptData, "corrupt encoder file: a weight is not finite");
      largest = std::max(largest, std::fabs(*weights));
    }
    peak[t] = largest;
  }
  const double hidden = c.hidden, root = std::sqrt(hidden);
  const auto normed = [&](std::size_t gamma) { return root * peak[gamma] + peak[gamma + 1]; };
  const auto dense = [&](std::size_t weight, double fan_in, double input) {
    return peak[weight + 1] + fan_in * peak[weight] * input;
  };
  check(peak[0] + peak[1] + peak[2], "the sum of word, position and token type embeddings");
  double x = normed(3);
  for (std::uint32_t layer = 0; layer < c.layers; ++layer) {
    const std::size_t at = kEmbeddingTensors + layer * kLayerTensors;
    const std::string where = " of layer " + std::to_string(layer);
    const double q = dense(at + kQuery, hidden, x), k = dense(at + kKey, hidden, x),
                 v = dense(at + kValue, hidden, x);
    check(std::max({q, k, v}), "a query, key or value" + where);
    check(static_cast<double>(c.hidden / c.heads) * q * k, "an attention score" + where);
    check(dense(at + kAttentionOut, hidden, v) + x, "the attention output" + where);
    const double mid = normed(at + kAttentionNorm);
    const double inner = dense(at + kIntermediate, hidden, mid);
    check(inner, "the intermediate activation" + where);
    check(dense(at + kOutput, c.intermediate, inner) + mid, "the feed-forward output" + where);
    x = normed(at + kOutputNorm);
  }
  check(x, "the last layer's output");
}

}  // namespace embedding::encoder
