// AVX2+FMA update kernels for training (see update.h). Built with -mavx2 -mfma: nothing here
// runs unless the distance kernels in use are AVX2, which dispatch.cpp chose after a CPU check.
#include <immintrin.h>

#include "core/train/update.h"

#if defined(__AVX2__) && defined(__FMA__)

namespace embedding::train {
namespace {

float avx2_dot(const float* a, const float* b, std::size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8)
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  s0 = _mm256_add_ps(s0, s1);
  __m128 sum = _mm_add_ps(_mm256_castps256_ps128(s0), _mm256_extractf128_ps(s0, 1));
  sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
  sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
  float total = _mm_cvtss_f32(sum);
  for (; i < n; ++i) total += a[i] * b[i];
  return total;
}

void avx2_pair_step(const float* input, float* output, float* grad, float g, std::size_t n) {
  const __m256 gv = _mm256_set1_ps(g);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 out = _mm256_loadu_ps(output + i);
    _mm256_storeu_ps(grad + i, _mm256_fmadd_ps(gv, out, _mm256_loadu_ps(grad + i)));
    _mm256_storeu_ps(output + i, _mm256_fmadd_ps(gv, _mm256_loadu_ps(input + i), out));
  }
  for (; i < n; ++i) {
    const float out = output[i];
    grad[i] += g * out;
    output[i] = out + g * input[i];
  }
}

void avx2_axpy(float a, const float* x, float* y, std::size_t n) {
  const __m256 av = _mm256_set1_ps(a);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}

constexpr UpdateKernels kAvx2 = {"avx2", avx2_dot, avx2_pair_step, avx2_axpy};

}  // namespace

const UpdateKernels* detail::avx2_update_kernels_unchecked() { return &kAvx2; }

}  // namespace embedding::train

#else

namespace embedding::train {
const UpdateKernels* detail::avx2_update_kernels_unchecked() { return nullptr; }
}  // namespace embedding::train

#endif
