// The analysis core against small hand-checked cases: PCA of a known covariance, k-means on
// separated blobs, the silhouette of a known labelling, Spearman with ties, NDCG/MRR, the model
// images and the SVG map.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "core/analysis/clustering.h"
#include "core/analysis/model_file.h"
#include "core/analysis/pca.h"
#include "core/analysis/retrieval.h"
#include "core/analysis/scatter_svg.h"
#include "core/analysis/tsne.h"
#include "core/common/error.h"
#include "core/models/evaluation.h"
#include "core/models/model_image.h"

namespace embedding::analysis {
namespace {

// Four points (+-3, 0) and (0, +-1), shifted by (5, 7): covariance diag(6, 2/3) (divisor n - 1).
std::vector<float> cross() { return {8, 7, 2, 7, 5, 8, 5, 6}; }

TEST(AnalysisPca, KnownCovarianceGivesItsAxesAndVariances) {
  const std::vector<float> rows = cross();
  const PcaModel m = pca_fit(rows.data(), 4, 2, 2, false);
  EXPECT_NEAR(m.mean[0], 5.0, 1e-6);
  EXPECT_NEAR(m.mean[1], 7.0, 1e-6);
  EXPECT_NEAR(m.variance[0], 6.0, 1e-6);
  EXPECT_NEAR(m.variance[1], 2.0 / 3.0, 1e-6);
  EXPECT_NEAR(m.total_variance, 6.0 + 2.0 / 3.0, 1e-6);
  EXPECT_NEAR(m.basis[0], 1.0, 1e-6);  // the x axis, sign made positive
  EXPECT_NEAR(m.basis[1], 0.0, 1e-6);
  EXPECT_NEAR(std::fabs(m.basis[3]), 1.0, 1e-6);
  float out[2];
  const float point[2] = {8, 7};
  pca_project(m, point, out);
  EXPECT_NEAR(out[0], 3.0, 1e-5);
  EXPECT_NEAR(out[1], 0.0, 1e-5);
  const PcaModel w = pca_fit(rows.data(), 4, 2, 1, true);
  pca_project(w, point, out);
  EXPECT_NEAR(out[0], 3.0 / std::sqrt(6.0), 1e-5);
}

TEST(AnalysisPca, SubspaceIterationMatchesTheExactFit) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  const std::size_t n = 2000, d = 40;
  std::vector<float> rows(n * d);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) rows[i * d + j] = normal(rng) * (j < 5 ? 10.0f - j : 0.3f);
  PcaOptions exact, iterative;
  exact.threads = iterative.threads = 2;
  iterative.exact_max_dims = 0;
  int steps = 0;
  iterative.progress = [&](const std::string& message) {
    steps += message.find("eigensolver step") != std::string::npos;
  };
  const PcaModel a = pca_fit(rows.data(), n, d, 5, false, exact);
  const PcaModel b = pca_fit(rows.data(), n, d, 5, false, iterative);
  EXPECT_GT(steps, 0);  // it did iterate, and said so
  EXPECT_NEAR(a.total_variance, b.total_variance, 1e-9 * a.total_variance);
  for (std::size_t c = 0; c < 5; ++c) {
    EXPECT_NEAR(a.variance[c], b.variance[c], 1e-7 * a.variance[c]);
    for (std::size_t j = 0; j < d; ++j)  // both signs fixed by the same convention
      EXPECT_NEAR(a.basis[c * d + j], b.basis[c * d + j], 1e-5) << c << ", " << j;
  }
}

TEST(AnalysisPca, RejectsBadSizes) {
  const std::vector<float> rows = cross();
  EXPECT_THROW(pca_fit(rows.data(), 4, 2, 3, false), Error);
  EXPECT_THROW(pca_fit(rows.data(), 1, 2, 1, false), Error);
  EXPECT_THROW(pca_fit(rows.data(), 4, 2, 0, false), Error);
}

// Three blobs of 50 points around (0,0), (10,0) and (0,10).
std::vector<float> blobs() {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.5f);
  const float centers[3][2] = {{0, 0}, {10, 0}, {0, 10}};
  std::vector<float> rows;
  for (const auto& c : centers)
    for (int i = 0; i < 50; ++i) {
      rows.push_back(c[0] + normal(rng));
      rows.push_back(c[1] + normal(rng));
    }
  return rows;
}

TEST(AnalysisKMeans, SeparatedBlobsGetOneClusterEach) {
  std::vector<float> rows = blobs();
  const ClusterFit fit = kmeans_fit(rows.data(), 150, 2, 3, 50, 1, false, 2);
  for (int b = 0; b < 3; ++b)
    for (int i = 0; i < 50; ++i) EXPECT_EQ(fit.labels[b * 50 + i], fit.labels[b * 50]);
  EXPECT_NE(fit.labels[0], fit.labels[50]);
  EXPECT_NE(fit.labels[0], fit.labels[100]);
  EXPECT_NE(fit.labels[50], fit.labels[100]);
  for (std::uint64_t size : fit.sizes) EXPECT_EQ(size, 50u);
  // Inertia: 150 points with variance 0.25 per axis, about 150 * 0.5.
  EXPECT_GT(fit.inertia, 40.0);
  EXPECT_LT(fit.inertia, 110.0);
  EXPECT_THROW(kmeans_fit(rows.data(), 150, 2, 151, 50, 1, false, 1), Error);
}

TEST(AnalysisKMeans, CosineNormalisesAndRejectsZeroRows) {
  std::vector<float> rows = {1, 0, 2, 0.1f, 0, 3, 0.1f, 5};
  const ClusterFit fit = kmeans_fit(rows.data(), 4, 2, 2, 10, 1, true, 1);
  EXPECT_EQ(fit.labels[0], fit.labels[1]);
  EXPECT_NE(fit.labels[0], fit.labels[2]);
  EXPECT_NEAR(std::hypot(fit.centers[0], fit.centers[1]), 1.0, 1e-5);
  std::vector<float> zero = {1, 0, 0, 0};
  EXPECT_THROW(kmeans_fit(zero.data(), 2, 2, 1, 10, 1, true, 1), Error);
}

TEST(AnalysisSilhouette, KnownLabellingByHand) {
  const std::vector<float> rows = {0, 1, 10, 11};
  const std::uint32_t labels[] = {0, 0, 1, 1};
  // Points 0 and 11: a = 1, b = 10.5; points 1 and 10: a = 1, b = 9.5.
  const double expected = (9.5 / 10.5 + 8.5 / 9.5) / 2;
  EXPECT_NEAR(silhouette(rows.data(), 4, 1, labels, 2, 2), expected, 1e-12);
  const std::uint32_t singleton[] = {0, 0, 0, 1};  // 11 alone scores 0
  const double a0 = 0.5 * (1 + 10), b0 = 11, a1 = 0.5 * (1 + 9), b1 = 10, a2 = 0.5 * (10 + 9),
               b2 = 1;
  const double mixed = ((b0 - a0) / b0 + (b1 - a1) / b1 + (b2 - a2) / a2 + 0) / 4;
  EXPECT_NEAR(silhouette(rows.data(), 4, 1, singleton, 2, 1), mixed, 1e-12);
  EXPECT_THROW(silhouette(rows.data(), 4, 1, labels, 1, 1), Error);
}

TEST(AnalysisSpearman, TiesGetAverageRanks) {
  const std::vector<double> x = {1, 2, 2, 3}, y = {1, 3, 2, 4};
  // Ranks x: 1, 2.5, 2.5, 4; y: 1, 3, 2, 4. Pearson of the ranks: 4.5 / sqrt(4.5 * 5).
  EXPECT_NEAR(models::spearman(x, y), 4.5 / std::sqrt(22.5), 1e-12);
}

TEST(AnalysisRetrieval, RecallMrrNdcgByHand) {
  const std::vector<RunRow> run = {{"q1", "x", 1}, {"q1", "a", 2}, {"q1", "b", 3}, {"q3", "z", 1}};
  const std::vector<Judgement> qrels = {
      {"q1", "a", 2}, {"q1", "b", 1}, {"q1", "y", 0}, {"q2", "c", 1}, {"q3", "w", 0}};
  const auto at3 = retrieval_scores(run, qrels, 3);
  ASSERT_EQ(at3.size(), 2u);  // q3 has nothing relevant
  EXPECT_EQ(at3[0].query, "q1");
  EXPECT_NEAR(at3[0].recall, 1.0, 1e-12);
  EXPECT_NEAR(at3[0].mrr, 0.5, 1e-12);
  const double dcg = 3 / std::log2(3.0) + 1 / std::log2(4.0), ideal = 3 + 1 / std::log2(3.0);
  EXPECT_NEAR(at3[0].ndcg, dcg / ideal, 1e-12);
  EXPECT_EQ(at3[1].query, "q2");  // not in the run: zeros
  EXPECT_EQ(at3[1].recall, 0.0);
  const QueryScores mean = mean_scores(at3);
  EXPECT_NEAR(mean.mrr, 0.25, 1e-12);
  const auto at2 = retrieval_scores(run, qrels, 2);
  EXPECT_NEAR(at2[0].recall, 0.5, 1e-12);
  EXPECT_NEAR(at2[0].ndcg, (3 / std::log2(3.0)) / ideal, 1e-12);
  EXPECT_THROW(retrieval_scores(run, {{"q", "d", 1}, {"q", "d", 2}}, 3), Error);
}

TEST(AnalysisModelFile, ImagesRoundTripAndCorruptionIsCaught) {
  const std::vector<float> rows = cross();
  const PcaModel m = pca_fit(rows.data(), 4, 2, 1, true);
  const std::vector<std::byte> image = pca_image(m);
  const PcaModel back = read_pca(image);
  EXPECT_EQ(back.basis, m.basis);
  EXPECT_EQ(back.variance, m.variance);
  EXPECT_TRUE(back.whiten);
  const models::ModelSummary summary = models::verify_model_image(image);
  EXPECT_EQ(summary.kind, models::ModelKind::kPca);
  EXPECT_FALSE(models::embeds_text(summary.kind));
  EXPECT_THROW(read_kmeans(image), Error);
  std::vector<std::byte> cut(image.begin(), image.end() - 1);
  EXPECT_THROW(read_pca(cut), Error);
  std::vector<std::byte> nan = image;
  const float bad = NAN;
  std::memcpy(nan.data() + 40, &bad, sizeof bad);
  EXPECT_THROW(read_pca(nan), Error);

  KMeansModel k{2, 2, false, {0, 0, 10, 10}, {3, 4}, 1.5, 7};
  const KMeansModel kb = read_kmeans(kmeans_image(k));
  EXPECT_EQ(kb.centers, k.centers);
  EXPECT_EQ(kb.sizes, k.sizes);
  const float near_second[2] = {9, 8};
  EXPECT_EQ(kmeans_assign(kb, near_second), 1u);
  EXPECT_EQ(models::verify_model_image(kmeans_image(k)).kind, models::ModelKind::kKMeans);
}

TEST(AnalysisMap, SvgEscapesLabelsAndColoursGroups) {
  const std::vector<float> rows = cross();
  const std::vector<float> xy = map_coordinates(rows.data(), 4, 2, 1);
  EXPECT_NEAR(std::fabs(xy[0]), 3.0, 1e-5);
  const std::string svg =
      scatter_svg(xy, {"<a&b>", "c\x01", "d", "e"}, {"one", "one", "two", "two"});
  EXPECT_NE(svg.find("<title>&lt;a&amp;b&gt;</title>"), std::string::npos);
  EXPECT_NE(svg.find("<title>c</title>"), std::string::npos);
  EXPECT_NE(svg.find("#1f77b4"), std::string::npos);
  EXPECT_NE(svg.find("#ff7f0e"), std::string::npos);
  EXPECT_EQ(svg.rfind("</svg>\n"), svg.size() - 7);
}

TEST(AnalysisTsne, SeparatedBlobsStaySeparated) {
  // Three blobs of 30 points in 10 dimensions, centers 20 apart, spread 1.
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  const std::size_t per = 30, d = 10, n = 3 * per;
  std::vector<float> rows(n * d);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) rows[i * d + j] = normal(rng) + (j == i / per ? 20.0f : 0);
  TsneOptions options;
  options.threads = 2;
  options.iterations = 300;
  const std::vector<float> xy = tsne_coordinates(rows.data(), n, d, options);
  // Every point's nearest neighbour on the map is in its own blob.
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t best = i;
    float best_d = INFINITY;
    for (std::size_t j = 0; j < n; ++j) {
      const float dx = xy[2 * i] - xy[2 * j], dy = xy[2 * i + 1] - xy[2 * j + 1];
      if (j != i && dx * dx + dy * dy < best_d) best_d = dx * dx + dy * dy, best = j;
    }
    EXPECT_EQ(best / per, i / per) << "point " << i;
  }
  EXPECT_EQ(tsne_coordinates(rows.data(), n, d, options), xy);  // deterministic
}

}  // namespace
}  // namespace embedding::analysis
