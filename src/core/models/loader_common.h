// Pieces shared by the external-format loaders (internal header): number parsing, error
// messages and the final clean-up of loaded vocabularies.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/models/loaders.h"
#include "core/models/word_vectors.h"

namespace embedding::models::detail {

[[noreturn]] void corrupt_input(SourceFormat format, const std::string& message,
                                const std::string& hint = {});

// Parses a whole field as a finite float; false when it is not one.
bool parse_float(std::string_view field, float* value);
// Parses a whole field as a decimal unsigned integer; false when it is not one.
bool parse_unsigned(std::string_view field, std::uint64_t* value);

// Checks a header's claimed size against the input length (each word needs at least
// min_bytes_per_word bytes), so a lying header cannot make us reserve huge amounts of memory.
void check_claimed_size(SourceFormat format, std::uint64_t words, std::uint64_t dims,
                        std::uint64_t min_bytes_per_word, std::size_t input_size);

// Drops repeated words (keeping the first) and words that are not valid UTF-8 text, compacting
// the values; throws kCorruptData when no word is left.
void finish_word_vectors(SourceFormat format, WordVectors* vectors);

}  // namespace embedding::models::detail

namespace embedding::models::detail {

// The per-format parsers behind load_word_vectors().
WordVectors load_text_vectors(std::string_view bytes, SourceFormat format);
WordVectors load_word2vec_binary(std::string_view bytes);
WordVectors load_wink_json(std::string_view bytes);

}  // namespace embedding::models::detail
