// Subspace iteration with Rayleigh-Ritz (see top_eigen.h): a block of w = max(2k, k + 16) vectors
// is multiplied by the matrix, orthonormalised and rotated onto the Ritz vectors each step; the
// wanted k converge at the rate lambda_{w+1} / lambda_k, fast for covariances of embeddings,
// whose spectra fall off. O(dims^2 w) a step, against O(dims^3) for a full eigensolver.
#include "core/analysis/top_eigen.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "core/common/error.h"
#include "core/common/interrupt.h"
#include "core/common/parallel.h"

namespace embedding::analysis {
namespace {

using MatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Rows of A per slice of the product: 32 rows of a 1,536-wide matrix by 128 columns is
// about 6M multiply-adds, a few milliseconds between polls.
constexpr std::size_t kSliceRows = 32;

// y = A q, in row slices on the worker team.
void multiply(const Eigen::Map<const MatrixD>& a, const MatrixD& q, MatrixD& y, int threads) {
  const std::size_t rows = static_cast<std::size_t>(a.rows());
  parallel_slices(
      rows, threads,
      [&](std::size_t begin, std::size_t end, const std::atomic<bool>& stop, bool poll) {
        for (std::size_t b = begin; b < end && !stop; b += kSliceRows) {
          if (poll) poll_interrupts();
          const auto r = static_cast<Eigen::Index>(std::min(kSliceRows, end - b));
          const auto at = static_cast<Eigen::Index>(b);
          y.middleRows(at, r).noalias() = a.middleRows(at, r) * q;
        }
        return std::size_t{0};
      },
      kSliceRows);
}

MatrixD orthonormal(const MatrixD& y) {
  Eigen::HouseholderQR<MatrixD> qr(y);
  return qr.householderQ() * MatrixD::Identity(y.rows(), y.cols());
}

}  // namespace

TopEigen top_eigenpairs(const double* a_data, std::size_t dims, std::size_t k,
                        const TopEigenOptions& options) {
  if (k < 1 || k > dims)
    throw Error(ErrorCode::kInvalidParameter, "top_eigenpairs: k must be between 1 and dims");
  const auto d = static_cast<Eigen::Index>(dims);
  const Eigen::Map<const MatrixD> a(a_data, d, d);
  const auto w = static_cast<Eigen::Index>(std::min(dims, std::max(2 * k, k + 16)));
  const auto wanted = static_cast<Eigen::Index>(k);
  std::mt19937_64 rng(options.seed);
  std::normal_distribution<double> normal;
  MatrixD q(d, w);
  for (Eigen::Index i = 0; i < q.size(); ++i) q.data()[i] = normal(rng);
  q = orthonormal(q);
  MatrixD y(d, w);
  TopEigen out;
  Eigen::VectorXd theta;
  MatrixD ritz, image;
  double best = std::numeric_limits<double>::infinity();
  int best_at = 0;
  for (int iteration = 1;; ++iteration) {
    multiply(a, q, y, options.threads);
    poll_interrupts();
    // Rayleigh-Ritz: the eigenpairs of Q^T A Q, largest first.
    MatrixD t = q.transpose() * y;
    t = 0.5 * (t + t.transpose()).eval();
    Eigen::SelfAdjointEigenSolver<MatrixD> small(t);
    if (small.info() != Eigen::Success)
      throw Error(ErrorCode::kDataException,
                  "the eigensolver's projected problem did not converge");
    const MatrixD s = small.eigenvectors().rowwise().reverse();
    theta = small.eigenvalues().reverse();
    ritz = q * s;   // Ritz vectors
    image = y * s;  // A times them
    const double scale = std::max(std::fabs(theta(0)), 1e-300);
    double residual = 0.0;
    for (Eigen::Index c = 0; c < wanted; ++c)
      residual = std::max(residual, (image.col(c) - theta(c) * ritz.col(c)).norm() / scale);
    out.iterations = iteration;
    out.residual = residual;
    if (options.progress) options.progress(iteration, residual);
    // Rounding sets a floor under the residual (about 1e-13): stop once a small residual no
    // longer halves in 10 steps. (A flat spectrum converges slowly, but well above that floor.)
    if (residual < 0.5 * best) best = residual, best_at = iteration;
    if (residual <= options.tolerance || iteration >= options.max_iterations || w == d ||
        (residual < 1e3 * options.tolerance && iteration - best_at >= 10))
      break;
    poll_interrupts();
    q = orthonormal(image);
  }
  out.values.resize(k);
  out.vectors.resize(k * dims);
  for (std::size_t c = 0; c < k; ++c) {
    out.values[c] = theta(static_cast<Eigen::Index>(c));
    const Eigen::VectorXd v = ritz.col(static_cast<Eigen::Index>(c)).normalized();
    for (std::size_t j = 0; j < dims; ++j)
      out.vectors[c * dims + j] = v(static_cast<Eigen::Index>(j));
  }
  return out;
}

}  // namespace embedding::analysis
