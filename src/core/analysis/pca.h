// Principal component analysis of float rows: the centred covariance's top eigenvectors (a full
// symmetric eigensolver, or subspace iteration at high dimension); projection with whitening.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace embedding::analysis {

struct PcaOptions {
  int threads = 1;  // the caller's thread included; only it polls interrupts
  // Up to this many dimensions the covariance goes to a full symmetric eigensolver (one
  // uninterruptible O(d^3) call: tens of milliseconds at 256); above, to subspace iteration,
  // which polls between steps.
  std::size_t exact_max_dims = 256;
  std::uint64_t seed = 1;
  // Progress lines (covariance rows, eigensolver steps), on the caller's thread.
  std::function<void(const std::string& message)> progress;
};

struct PcaModel {
  std::uint32_t dims = 0;        // input dimensions
  std::uint32_t components = 0;  // output dimensions
  bool whiten = false;           // outputs divided by sqrt(explained variance)
  std::vector<float> mean;       // dims
  std::vector<float> basis;      // components x dims, unit rows, by decreasing variance
  std::vector<double> variance;  // components: variance along each (divisor n - 1)
  double total_variance = 0.0;   // the sum over every dimension
  std::uint64_t samples = 0;
  // Not stored: the subspace iteration's final largest relative residual (0 for the exact
  // solver); above about 1e-6 the components may be inexact.
  double solver_residual = 0.0;
};

// Fits on n rows of `dims` floats (n >= 2, 1 <= components <= min(n, dims)). Each component's
// sign is fixed so that its largest-magnitude element is positive (our convention: compare
// with other libraries up to sign). Throws Error(kInvalidParameter) on bad sizes.
PcaModel pca_fit(const float* rows, std::size_t n, std::size_t dims, std::size_t components,
                 bool whiten, const PcaOptions& options = {});

// out[components] = basis * (x - mean), divided by sqrt(variance) when whitening.
void pca_project(const PcaModel& model, const float* x, float* out);

}  // namespace embedding::analysis
