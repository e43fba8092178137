// The byte images of fitted PCA and k-means models, as the model store holds them: a small
// header (magic, kind, sizes) and the arrays, every field checked when read back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/analysis/pca.h"

namespace embedding::analysis {

enum class AnalysisKind : std::uint32_t { kPca = 1, kKMeans = 2 };

struct KMeansModel {
  std::uint32_t dims = 0;
  std::uint32_t k = 0;
  bool spherical = false;            // metric 'cosine': inputs are normalised before assignment
  std::vector<float> centers;        // k x dims
  std::vector<std::uint64_t> sizes;  // rows per cluster at fit time
  double inertia = 0.0;
  std::uint64_t samples = 0;
};

// Whether bytes start with the analysis models' magic.
bool is_analysis_image(std::span<const std::byte> bytes);
// The kind an analysis image holds (header checked). Throws Error(kCorruptData).
AnalysisKind analysis_kind(std::span<const std::byte> bytes);

std::vector<std::byte> pca_image(const PcaModel& model);
std::vector<std::byte> kmeans_image(const KMeansModel& model);

// Read back and verified in full (sizes, finite values). Throw Error(kCorruptData), or
// Error(kInvalidParameter) when the image is of the other kind.
PcaModel read_pca(std::span<const std::byte> bytes);
KMeansModel read_kmeans(std::span<const std::byte> bytes);

// The nearest center to x (a copy of x is normalised first when spherical; a zero vector is
// an error then). 0-based.
std::uint32_t kmeans_assign(const KMeansModel& model, const float* x);

}  // namespace embedding::analysis
