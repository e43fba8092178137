// PCA (see pca.h): the mean and the covariance are summed over row blocks on the worker team
// (float matrix products within a block, double across blocks), then Eigen's symmetric
// eigensolver; large dimensions go through a randomised SVD of the centred rows instead.
#include "core/analysis/pca.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <mutex>
#include <random>
#include <string>

#include "core/common/error.h"
#include "core/common/interrupt.h"
#include "core/common/parallel.h"
#include "core/vector/kernels.h"

namespace embedding::analysis {
namespace {

using MatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

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

// Rows per covariance block: about 2^29 multiply-adds, so the polling thread comes back in tens
// of milliseconds whatever the dimension.
std::size_t block_rows(std::size_t dims) {
  return std::clamp<std::size_t>((std::size_t{1} << 29) / (dims * dims), 64, 4096);
}

// The sum over rows of (x - mean)(x - mean)^T, lower and upper halves both filled.
MatrixD scatter_matrix(const float* rows, std::size_t n, std::size_t dims,
                       const std::vector<float>& mean, int threads) {
  const std::size_t block = block_rows(dims);
  const std::size_t blocks = (n + block - 1) / block;
  MatrixD total = MatrixD::Zero(dims, dims);
  std::mutex merge;
  const kernels::KernelTable& table = kernels::active();
  parallel_slices(
      blocks, threads,
      [&](std::size_t begin, std::size_t end, const std::atomic<bool>& stop, bool poll) {
        if (begin >= end) return std::size_t{0};
        MatrixD sum = MatrixD::Zero(dims, dims);
        MatrixF part(dims, dims);
        std::vector<float> transposed(dims * block);  // dims x r, the centred block transposed
        for (std::size_t b = begin; b < end && !stop; ++b) {
          if (poll) poll_interrupts();
          const std::size_t first = b * block, r = std::min(block, n - first);
          for (std::size_t i = 0; i < r; ++i) {
            const float* x = rows + (first + i) * dims;
            for (std::size_t j = 0; j < dims; ++j) transposed[j * r + i] = x[j] - mean[j];
          }
          table.gemm(dims, dims, r, transposed.data(), r, transposed.data(), r, true, part.data(),
                     dims, false);
          sum += part.cast<double>();
        }
        std::lock_guard<std::mutex> lock(merge);
        total += sum;
        return std::size_t{0};
      },
      1);
  return total;
}

// Top `components` eigenpairs of the scatter matrix, by decreasing eigenvalue.
void exact_fit(const float* rows, std::size_t n, std::size_t dims, PcaModel& model,
               const PcaOptions& options) {
  const MatrixD scatter = scatter_matrix(rows, n, dims, model.mean, options.threads);
  poll_interrupts();
  model.total_variance = scatter.trace() / static_cast<double>(n - 1);
  Eigen::SelfAdjointEigenSolver<MatrixD> solver(scatter);
  if (solver.info() != Eigen::Success)
    throw Error(ErrorCode::kDataException, "the covariance eigensolver did not converge");
  for (std::size_t c = 0; c < model.components; ++c) {
    const Eigen::Index at = static_cast<Eigen::Index>(dims - 1 - c);  // ascending order
    model.variance[c] = std::max(0.0, solver.eigenvalues()(at)) / static_cast<double>(n - 1);
    for (std::size_t j = 0; j < dims; ++j)
      model.basis[c * dims + j] = static_cast<float>(solver.eigenvectors()(j, at));
  }
}

// Randomised SVD of the centred rows X (n x d): Q spans X^T applied to a Gaussian sketch,
// refined by power iterations with re-orthonormalisation, then the small matrix X Q is
// decomposed exactly. X is never formed: products subtract the mean on the fly.
void randomized_fit(const float* rows, std::size_t n, std::size_t dims, PcaModel& model,
                    const PcaOptions& options) {
  const std::size_t width = std::min(dims, model.components + std::size_t{10});
  const Eigen::Map<const MatrixF> x(rows, n, dims);
  const Eigen::Map<const Eigen::RowVectorXf> mean(model.mean.data(), dims);
  std::mt19937_64 rng(options.seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  MatrixF q(dims, width);
  for (Eigen::Index i = 0; i < q.size(); ++i) q.data()[i] = normal(rng);
  double total = 0.0;
  for (std::size_t i = 0; i < n; ++i) total += (x.row(i) - mean).cast<double>().squaredNorm();
  model.total_variance = total / static_cast<double>(n - 1);
  MatrixF xq(n, width);
  const auto centred_product = [&](const MatrixF& basis) {  // X Q, in row blocks
    const Eigen::RowVectorXf shift = mean * basis;
    parallel_slices(
        n, options.threads,
        [&](std::size_t begin, std::size_t end, const std::atomic<bool>&, bool poll) {
          for (std::size_t b = begin; b < end; b += 4096) {
            if (poll) poll_interrupts();
            const std::size_t r = std::min<std::size_t>(4096, end - b);
            xq.middleRows(b, r).noalias() = x.middleRows(b, r) * basis;
            xq.middleRows(b, r).rowwise() -= shift;
          }
          return std::size_t{0};
        },
        4096);
  };
  for (int iteration = 0; iteration <= options.power_iterations; ++iteration) {
    centred_product(q);
    const Eigen::RowVectorXf column_sums = xq.colwise().sum();
    MatrixF back = x.transpose() * xq;  // X^T (X Q) with the mean's share removed
    back.noalias() -= mean.transpose() * column_sums;
    poll_interrupts();
    Eigen::HouseholderQR<MatrixF> qr(back);
    q = qr.householderQ() * MatrixF::Identity(dims, width);
  }
  centred_product(q);
  // X Q = U S W^T: the right singular vectors of X are Q W.
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(xq.cast<double>(), Eigen::ComputeThinV);
  const Eigen::MatrixXd v = q.cast<double>() * svd.matrixV();
  for (std::size_t c = 0; c < model.components; ++c) {
    const double s = svd.singularValues()(static_cast<Eigen::Index>(c));
    model.variance[c] = s * s / static_cast<double>(n - 1);
    for (std::size_t j = 0; j < dims; ++j)
      model.basis[c * dims + j] = static_cast<float>(v(j, static_cast<Eigen::Index>(c)));
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
  if (dims <= options.exact_max_dims)
    exact_fit(rows, n, dims, model, options);
  else
    randomized_fit(rows, n, dims, model, options);
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
