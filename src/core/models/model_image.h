// The kinds of model file a database holds (word vectors, sentence encoders, and the fitted PCA
// and k-means models), told apart by their magic: one place that verifies a whole image and says
// what it is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace embedding::models {

enum class ModelKind { kWordVectors, kSentenceEncoder, kPca, kKMeans };

struct ModelSummary {
  ModelKind kind;
  std::uint32_t dims;            // the vectors embed() returns (PCA: components; k-means: input)
  std::uint32_t vocab_size;      // words, or WordPiece entries (PCA: input dims; k-means: k)
  std::uint32_t max_seq_length;  // sentence encoders; 0 for word vectors
};

// "word-vectors", "sentence-transformers", "pca" or "kmeans" (what embedding_models.kind shows;
// for the last three it is also the store's format column).
const char* kind_name(ModelKind kind);

// The kind bytes' magic names (no magic of the others: a word-vector file).
ModelKind model_kind(std::span<const std::byte> bytes);

// Whether embed() can use a model of this kind (PCA and k-means models cannot).
inline bool embeds_text(ModelKind kind) {
  return kind == ModelKind::kWordVectors || kind == ModelKind::kSentenceEncoder;
}

// Full O(size) verification of a model image of any kind. Throws Error(kCorruptData).
ModelSummary verify_model_image(std::span<const std::byte> bytes);

}  // namespace embedding::models
