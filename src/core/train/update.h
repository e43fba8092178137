// The inner step of negative-sampling training, one (input, output) pair at a time, in a scalar
// and an AVX2+FMA version chosen with the distance kernels; plus the sigmoid table it uses.
#pragma once

#include <cstddef>
#include <vector>

namespace embedding::train {

// sigmoid(x) and log(sigmoid(x)) from tables over [-kLimit, kLimit] (beyond: the end values).
class SigmoidTable {
 public:
  static constexpr int kSize = 4096;
  static constexpr float kLimit = 8.0f;
  SigmoidTable();
  float sigmoid(float x) const { return sigmoid_[index(x)]; }
  float log_sigmoid(float x) const { return log_sigmoid_[index(x)]; }

 private:
  static int index(float x) {
    if (!(x > -kLimit)) return 0;
    if (x >= kLimit) return kSize;
    return static_cast<int>((x + kLimit) * (kSize / (2 * kLimit)) + 0.5f);
  }
  std::vector<float> sigmoid_, log_sigmoid_;
};

struct UpdateKernels {
  const char* name;
  float (*dot)(const float* a, const float* b, std::size_t n);
  // grad += g * output; output += g * input (one pass; the old output feeds grad).
  void (*pair_step)(const float* input, float* output, float* grad, float g, std::size_t n);
  // y += a * x
  void (*axpy)(float a, const float* x, float* y, std::size_t n);
};

const UpdateKernels& scalar_update_kernels();
// The AVX2 table when the distance kernels in use are AVX2 (see kernels::active()), else scalar.
const UpdateKernels& update_kernels();

// One negative-sampling update of `input` against `output` with label 1 (the true word) or 0
// (a negative): g = (label - sigmoid(input . output)) * lr; grad += g * output;
// output += g * input. Returns the pair's loss, -log sigmoid(+-input . output).
inline float negative_sampling_step(const UpdateKernels& k, const SigmoidTable& table,
                                    const float* input, float* output, float* grad, bool positive,
                                    float learning_rate, std::size_t n) {
  const float f = k.dot(input, output, n);
  const float g = ((positive ? 1.0f : 0.0f) - table.sigmoid(f)) * learning_rate;
  k.pair_step(input, output, grad, g, n);
  return -table.log_sigmoid(positive ? f : -f);
}

namespace detail {
const UpdateKernels* avx2_update_kernels_unchecked();
}

}  // namespace embedding::train
