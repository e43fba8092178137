// PCA (see pca.h): the mean and the covariance are summed over row blocks on the worker team
// (float matrix products within a block, double across blocks), then Eigen's symmetric
// eigensolver, or above a few hundred dimensions subspace iteration (top_eigen.h).
#include "core/analysis/pca.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <string>

#include "core/analysis/top_eigen.h"
#include "core/common/error.h"
#include "core/common/interrupt.h"
#include "core/common/parallel.h"
#include "core/vector/kernels.h"

namespace embedding::analysis {
namespace {

using MatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

std::vector<double> column_means(const float* rows, std::size_t n, std::size_t dims, int threads) {
  std::vector<double> mean(dims, 0.0);
  std::mutex merge;
  parallel_slices(
      n, threads,
      [&](std::size_t begin, std::size_t end, const std::atomic<bool>& stop, bool poll) {
        std::vector<double> sum(dims, 0.0);
        for (std::size_t i = begin; i < end && !stop; ++i) {
          if (poll) poll_interrupts_every<10>(i - begin);
          const float* x = rows + i * dims;
          for (std::size_t j = 0; j < dims; ++j) sum[j] += x[j];
        }
        std::lock_guard<std::mutex> lock(merge);
        for (std::size_t j = 0; j < dims; ++j) mean[j] += sum[j];
        return std::size_t{0};
      },
      4096);
  for (double& m : mean) m /= static_cast<double>(n);
  return mean;
}

// Rows per covariance block, and the dimensions of one strip of the covariance: one strip's
// product (at most 128 x 1,536 x 1,024 multiply-adds at 1,536 dimensions) takes a few
// milliseconds, so the polling thread comes back often.
constexpr std::size_t kBlockRows = 1024;
constexpr std::size_t kStripDims = 128;
constexpr std::size_t kTransposeRows = 16;  // rows centred and transposed together (64 bytes)

// The sum over rows of (x - mean)(x - mean)^T, both halves filled. Each block of rows is centred
// and transposed, then each strip of 128 covariance rows gets its part left of the diagonal in
// one float matrix product (the kernels' GEMM), summed in double across blocks; the upper half
// is the lower's mirror.
MatrixD scatter_matrix(const float* rows, std::size_t n, std::size_t dims,
                       const std::vector<float>& mean, const PcaOptions& options) {
  const std::size_t blocks = (n + kBlockRows - 1) / kBlockRows;
  MatrixD total = MatrixD::Zero(dims, dims);
  std::mutex merge;
  const kernels::KernelTable& table = kernels::active();
  parallel_slices(
      blocks, options.threads,
      [&](std::size_t begin, std::size_t end, const std::atomic<bool>& stop, bool poll) {
        if (begin >= end) return std::size_t{0};
        MatrixD sum = MatrixD::Zero(dims, dims);
        std::vector<float> part(kStripDims * dims);
        std::vector<float> transposed(dims * kBlockRows);  // dims x r: the centred block
        for (std::size_t b = begin; b < end && !stop; ++b) {
          if (poll) {
            poll_interrupts();
            if (options.progress && b > begin)
              options.progress("covariance: about " +
                               std::to_string(std::min(
                                   n, (b - begin) * kBlockRows *
                                          static_cast<std::size_t>(std::max(1, options.threads)))) +
                               " of " + std::to_string(n) + " rows");
          }
          const std::size_t first = b * kBlockRows, r = std::min(kBlockRows, n - first);
          // A few rows at a time, so that each write fills a cache line of the transpose.
          for (std::size_t i0 = 0; i0 < r; i0 += kTransposeRows) {
            const std::size_t count = std::min(kTransposeRows, r - i0);
            const float* x = rows + (first + i0) * dims;
            for (std::size_t j = 0; j < dims; ++j)
              for (std::size_t i = 0; i < count; ++i)
                transposed[j * r + i0 + i] = x[i * dims + j] - mean[j];
          }
          for (std::size_t i0 = 0; i0 < dims; i0 += kStripDims) {
            if (poll) poll_interrupts();
            if (stop.load(std::memory_order_relaxed)) return std::size_t{0};
            const std::size_t ni = std::min(kStripDims, dims - i0), width = i0 + ni;
            table.gemm(ni, width, r, transposed.data() + i0 * r, r, transposed.data(), r, true,
                       part.data(), width, false);
            for (std::size_t i = 0; i < ni; ++i)
              for (std::size_t j = 0; j <= i0 + i; ++j) sum(i0 + i, j) += part[i * width + j];
          }
        }
        std::lock_guard<std::mutex> lock(merge);
        total += sum;
        return std::size_t{0};
      },
      1);
  for (std::size_t i = 0; i < dims; ++i)
    for (std::size_t j = i + 1; j < dims; ++j) total(i, j) = total(j, i);
  return total;
}

// Top `components` eigenpairs of the scatter matrix, by decreasing eigenvalue: Eigen's
// symmetric eigensolver up to exact_max_dims (O(d^3) in one call, tens of milliseconds there),
// subspace iteration above (top_eigen.h: interruptible, O(d^2 k) a step).
void fit_components(const float* rows, std::size_t n, std::size_t dims, PcaModel& model,
                    const PcaOptions& options) {
  const MatrixD scatter = scatter_matrix(rows, n, dims, model.mean, options);
  poll_interrupts();
  model.total_variance = scatter.trace() / static_cast<double>(n - 1);
  if (dims <= options.exact_max_dims) {
    Eigen::SelfAdjointEigenSolver<MatrixD> solver(scatter);
    if (solver.info() != Eigen::Success)
      throw Error(ErrorCode::kDataException, "the covariance eigensolver did not converge");
    for (std::size_t c = 0; c < model.components; ++c) {
      const Eigen::Index at = static_cast<Eigen::Index>(dims - 1 - c);  // ascending order
      model.variance[c] = std::max(0.0, solver.eigenvalues()(at)) / static_cast<double>(n - 1);
      for (std::size_t j = 0; j < dims; ++j)
        model.basis[c * dims + j] = static_cast<float>(solver.eigenvectors()(j, at));
    }
    return;
  }
  TopEigenOptions eigen;
  eigen.threads = options.threads;
  eigen.seed = static_cast<unsigned>(options.seed);
  if (options.progress)
    eigen.progress = [&](int iteration, double residual) {
      char text[96];
      std::snprintf(text, sizeof text, "eigensolver step %d, largest residual %.1e", iteration,
                    residual);
      options.progress(text);
    };
  const TopEigen top = top_eigenpairs(scatter.data(), dims, model.components, eigen);
  model.solver_residual = top.residual;
  for (std::size_t c = 0; c < model.components; ++c) {
    model.variance[c] = std::max(0.0, top.values[c]) / static_cast<double>(n - 1);
    for (std::size_t j = 0; j < dims; ++j)
      model.basis[c * dims + j] = static_cast<float>(top.vectors[c * dims + j]);
  }
}

}  // namespace

PcaModel pca_fit(const float* rows, std::size_t n, std::size_t dims, std::size_t components,
                 bool whiten, const PcaOptions& options) {
  if (n < 2) throw Error(ErrorCode::kInvalidParameter, "PCA needs at least 2 rows");
  if (components < 1 || components > std::min(n, dims))
    throw Error(ErrorCode::kInvalidParameter, "components must be between 1 and " +
                                                  std::to_string(std::min(n, dims)) +
                                                  " (the smaller of the rows and the dimensions)");
  PcaModel model;
  model.dims = static_cast<std::uint32_t>(dims);
  model.components = static_cast<std::uint32_t>(components);
  model.whiten = whiten;
  model.samples = n;
  const std::vector<double> mean = column_means(rows, n, dims, options.threads);
  model.mean.assign(mean.begin(), mean.end());
  model.basis.assign(components * dims, 0.0f);
  model.variance.assign(components, 0.0);
  fit_components(rows, n, dims, model, options);
  // A deterministic sign: the largest-magnitude element of each component is positive.
  for (std::size_t c = 0; c < components; ++c) {
    float* v = model.basis.data() + c * dims;
    const float* top =
        std::max_element(v, v + dims, [](float a, float b) { return std::fabs(a) < std::fabs(b); });
    if (*top < 0)
      for (std::size_t j = 0; j < dims; ++j) v[j] = -v[j];
  }
  return model;
}

void pca_project(const PcaModel& model, const float* x, float* out) {
  const std::size_t dims = model.dims;
  std::vector<float> centred(dims);
  for (std::size_t j = 0; j < dims; ++j) centred[j] = x[j] - model.mean[j];
  const kernels::KernelTable& table = kernels::active();
  for (std::size_t c = 0; c < model.components; ++c) {
    float v = table.dot(model.basis.data() + c * dims, centred.data(), dims);
    // A component without variance has nothing to scale: it stays 0 rather than infinite.
    if (model.whiten)
      v = model.variance[c] > 0.0 ? static_cast<float>(v / std::sqrt(model.variance[c])) : 0.0f;
    out[c] = v;
  }
}

}  // namespace embedding::analysis
