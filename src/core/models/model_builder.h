// Building a model file image from loaded word vectors: normalised rows, norms, SIF weights,
// common component, hash index, checksums. Used by the converter tool and load_model().
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "core/models/sif.h"
#include "core/models/subwords.h"
#include "core/models/word_vectors.h"

namespace embedding::models {

struct BuildOptions {
  double sif_a = kDefaultSifA;
  double reference_sentence_length = kDefaultReferenceSentenceLength;
  // N-gram vectors for words outside the vocabulary (trained fastText-style models), or none.
  const SubwordVectors* subwords = nullptr;
};

// Returns the complete file image (it opens with Model::from_bytes and passes verify()).
// Throws kDataException for duplicate, empty or non-UTF-8 words and non-finite values,
// kInvalidParameter for inconsistent sizes, kProgramLimit beyond the format's limits.
std::vector<std::byte> build_model(const WordVectors& source, const BuildOptions& options = {});
// The same image written into a buffer the caller owns (for example a bytea's data, so that the
// image is never held twice): model_file_size() bytes, checked.
std::size_t model_file_size(const WordVectors& source, const BuildOptions& options = {});
void build_model_into(const WordVectors& source, const BuildOptions& options,
                      std::span<std::byte> file);

// Writes bytes to path through a temporary file in the same directory and rename(), so that
// readers never see a partial file. Throws Error(kIoError).
void write_file_atomically(const std::string& path, std::span<const std::byte> bytes);

}  // namespace embedding::models
