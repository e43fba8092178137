// The two kinds of model file a database holds (word vectors, sentence encoders), told apart by
// their magic: one place that verifies a whole image and says what it is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace embedding::models {

enum class ModelKind { kWordVectors, kSentenceEncoder };

struct ModelSummary {
  ModelKind kind;
  std::uint32_t dims;            // the vectors embed() returns
  std::uint32_t vocab_size;      // words, or WordPiece entries
  std::uint32_t max_seq_length;  // sentence encoders; 0 for word vectors
};

// "word-vectors" or "sentence-transformers" (what embedding_models.kind shows).
const char* kind_name(ModelKind kind);

// Whether bytes start with a sentence encoder's magic (otherwise: a word-vector file).
ModelKind model_kind(std::span<const std::byte> bytes);

// Full O(size) verification of a model image of either kind. Throws Error(kCorruptData).
ModelSummary verify_model_image(std::span<const std::byte> bytes);

}  // namespace embedding::models
