// Nearest words by cosine similarity (brute force over the normalised rows with the SIMD dot
// kernel) and word analogies by 3CosAdd.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/models/model.h"

namespace embedding::models {

struct Neighbour {
  std::uint32_t id;  // word id (frequency rank - 1)
  float similarity;  // cosine similarity to the query
};

// The k rows most similar to query (any length; it is normalised here), best first; ties go to
// the more frequent word. Ids in exclude are skipped. row_limit > 0 searches only the row_limit
// most frequent words (the analogy protocol's restricted vocabulary). A zero or non-finite
// query gives no result. Throws kDataException when query.size() != model.dims().
std::vector<Neighbour> most_similar(const Model& model, std::span<const float> query, std::size_t k,
                                    std::span<const std::uint32_t> exclude = {},
                                    std::uint32_t row_limit = 0);

// Neighbours of a word, excluding the word itself. Throws kInvalidParameter for a bad id.
std::vector<Neighbour> most_similar_to_word(const Model& model, std::uint32_t word_id,
                                            std::size_t k, std::uint32_t row_limit = 0);

// "a is to b as c is to ?" by 3CosAdd: the rows closest to unit(b) - unit(a) + unit(c),
// excluding a, b and c ("man" : "king" :: "woman" : "queen").
std::vector<Neighbour> analogy(const Model& model, std::uint32_t a, std::uint32_t b,
                               std::uint32_t c, std::size_t k, std::uint32_t row_limit = 0);

}  // namespace embedding::models
