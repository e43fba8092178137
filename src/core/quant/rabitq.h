// Compact codes of vectors for estimated distances with error bounds (RaBitQ's estimator, with 1,
// 2, 4 or 8 bits a coordinate): a rotated, centred vector becomes grid levels plus three factors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/quant/code_kernels.h"
#include "core/quant/rotation.h"

namespace embedding::quant {

// Stored beside each code. With x = R(o - c) the rotated residual of a vector o and y a prepared
// query, <x, y> ~ scale * <g, y>, where g are the code's grid values, and
// |<x, y> - scale * <g, y>| <= epsilon * error * |y| with a probability that grows with epsilon:
// the error is close to normal with `error * |y|` as its standard deviation (RaBitQ's analysis), so
// a larger epsilon covers more estimates (coverage is checked in test/unit/quant_test.cpp).
struct CodeFactors {
  float norm;   // |x|
  float scale;  // |x| / <g, x / |x|>
  float error;  // |x| * sqrt(1 - cos^2) / (cos * sqrt(P - 1)), cos the angle's cosine of g and x
};

// A query ready to be compared with codes: y = R(q - c) for Euclidean distances, y = R q for inner
// products (then <o, q> = <x, y> + <c, q>).
struct PreparedQuery {
  std::vector<float> y;     // padded coordinates
  float y_sum = 0.0f;       // sum of y
  float y_norm = 0.0f;      // |y|
  float center_dot = 0.0f;  // <c, q> (inner products only)
  bool centered = false;
  // For 1-bit codes (filled by prepare() when the quantiser has 1 bit): y's coordinates as
  // kQueryPlanes-bit levels q_i, y_i ~ plane_low + plane_step * q_i, in bit planes
  // (code_kernels.h), so that a code's sum costs popcounts; the bounds include the rounding's small
  // spread. Left empty, dot() uses y itself.
  std::vector<std::uint64_t> planes;
  float plane_low = 0.0f;
  float plane_step = 0.0f;
};

// An estimate and the half-width of its interval (at the epsilon given to the estimate function).
struct Estimate {
  float distance;
  float bound;
};

class Quantizer {
 public:
  static constexpr float kDefaultEpsilon = 1.9f;

  // `center` has `dims` values (e.g. the data's mean), or is null for the origin.
  Quantizer(std::size_t dims, int bits, std::uint64_t seed, const float* center);

  std::size_t dims() const { return rotation_.dims(); }
  std::size_t padded() const { return rotation_.padded(); }
  int bits() const { return bits_; }
  std::size_t code_bytes() const { return padded() * static_cast<std::size_t>(bits_) / 8; }
  // Floats of scratch encode() needs.
  std::size_t scratch_floats() const { return 2 * padded(); }

  // Writes code_bytes() bytes of code for `vector` (dims values, finite).
  CodeFactors encode(const float* vector, std::uint8_t* code, float* scratch) const;
  // The same with another search for the scale (scale_search.h; benchmarks and tests compare the
  // former one, best_of_24_scales).
  using ScaleSearch = float (*)(const float* u, std::size_t n, int bits, float max_abs);
  CodeFactors encode(const float* vector, std::uint8_t* code, float* scratch,
                     ScaleSearch search) const;

  // The kernels used by encode() and the estimates: code_kernels() unless set (benchmarks and tests
  // compare the scalar table with AVX2's).
  void set_kernels(const CodeKernels& kernels) { kernels_ = &kernels; }

  void prepare(const float* query, bool centered, PreparedQuery& out) const;

  // Estimated <x, y>.
  float dot(const PreparedQuery& query, const std::uint8_t* code, const CodeFactors& f) const;

  // Squared Euclidean distance |o - q|^2 (query prepared centred).
  Estimate l2_squared(const PreparedQuery& query, const std::uint8_t* code, const CodeFactors& f,
                      float epsilon = kDefaultEpsilon) const;
  // Negative inner product -<o, q> (query prepared uncentred); for cosine distance pass normalised
  // vectors and add 1.
  Estimate negative_dot(const PreparedQuery& query, const std::uint8_t* code, const CodeFactors& f,
                        float epsilon = kDefaultEpsilon) const;

 private:
  Rotation rotation_;
  int bits_;
  std::vector<float> center_;  // empty: the origin
  const CodeKernels* kernels_;

  CodeFactors encode_with(const float* vector, std::uint8_t* code, float* scratch,
                          ScaleSearch search) const;
  float estimate_dot(const PreparedQuery& query, const std::uint8_t* code, const CodeFactors& f,
                     float* rounding) const;
  static float spread(const PreparedQuery& query, const CodeFactors& f, float rounding);
};

// sum_i level_i * y_i over `padded` coordinates of a code with `bits` bits a level (levels packed
// from the low-order bits of each byte up), with the kernels of code_kernels() (AVX2 when the CPU
// has it).
float level_dot(const std::uint8_t* code, int bits, const float* y, std::size_t padded);

}  // namespace embedding::quant
