// The largest eigenpairs of a symmetric positive semi-definite matrix (a covariance) by subspace
// iteration with Rayleigh-Ritz steps: each step is a product on the worker team in row slices,
// so the caller's thread polls interrupts every few milliseconds, and a residual check ends it.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

namespace embedding::analysis {

struct TopEigenOptions {
  int threads = 1;
  int max_iterations = 1000;
  // Stop when every wanted pair's residual |A v - theta v| is at most this times the largest
  // eigenvalue (double precision reaches about 1e-13).
  double tolerance = 1e-10;
  unsigned seed = 1;
  // After each step (caller's thread): the step and the largest relative residual.
  std::function<void(int iteration, double residual)> progress;
};

struct TopEigen {
  std::vector<double> values;   // k, decreasing
  std::vector<double> vectors;  // k x dims, unit rows
  int iterations = 0;
  double residual = 0.0;  // the largest relative residual reached
};

// The k largest eigenpairs of the symmetric dims x dims matrix `a` (row-major, both halves).
TopEigen top_eigenpairs(const double* a, std::size_t dims, std::size_t k,
                        const TopEigenOptions& options);

}  // namespace embedding::analysis
