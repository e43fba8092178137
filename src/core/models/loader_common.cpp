// Shared loader helpers: strict number parsing (std::from_chars, correctly rounded) and the
// duplicate / invalid-word clean-up applied by every loader.
#include "core/models/loader_common.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/common/error.h"
#include "core/models/model_format.h"
#include "core/text/utf8.h"

namespace embedding::models::detail {

void corrupt_input(SourceFormat format, const std::string& message, const std::string& hint) {
  throw Error(ErrorCode::kCorruptData,
              std::string("invalid ") + source_format_name(format) + " input: " + message, hint);
}

bool parse_float(std::string_view field, float* value) {
  const char* end = field.data() + field.size();
  const auto result = std::from_chars(field.data(), end, *value);
  return result.ec == std::errc() && result.ptr == end && std::isfinite(*value);
}

bool parse_unsigned(std::string_view field, std::uint64_t* value) {
  const char* end = field.data() + field.size();
  const auto result = std::from_chars(field.data(), end, *value);
  return result.ec == std::errc() && result.ptr == end && !field.empty();
}

void check_claimed_size(SourceFormat format, std::uint64_t words, std::uint64_t dims,
                        std::uint64_t min_bytes_per_word, std::size_t input_size) {
  if (dims == 0) corrupt_input(format, "word vectors have 0 dimensions");
  if (dims > kMaxModelDims) {
    throw Error(
        ErrorCode::kProgramLimit,
        "word vectors must have between 1 and " + std::to_string(kMaxModelDims) + " dimensions",
        "the input has " + std::to_string(dims));
  }
  if (words > kMaxModelVocab) {
    throw Error(ErrorCode::kProgramLimit, "too many words for a model",
                "the input claims " + std::to_string(words));
  }
  if (words * min_bytes_per_word > input_size) {
    corrupt_input(format, "header claims " + std::to_string(words) + " words of " +
                              std::to_string(dims) + " dimensions but the input has only " +
                              std::to_string(input_size) + " bytes (truncated?)");
  }
}

void finish_word_vectors(SourceFormat format, WordVectors* vectors) {
  const std::size_t dims = vectors->dims;
  std::vector<bool> keep(vectors->words.size(), false);
  {
    // The views point into the words, which are not touched until the set is gone.
    std::unordered_set<std::string_view> seen;
    seen.reserve(vectors->words.size());
    for (std::size_t i = 0; i < vectors->words.size(); ++i) {
      const std::string& word = vectors->words[i];
      if (word.empty() || !text::is_valid_utf8_text(word)) {
        ++vectors->skipped_invalid;
      } else if (!seen.insert(word).second) {
        ++vectors->skipped_duplicates;
      } else {
        keep[i] = true;
      }
    }
  }
  std::size_t kept = 0;
  for (std::size_t i = 0; i < vectors->words.size(); ++i) {
    if (!keep[i]) continue;
    if (kept != i) {
      std::copy_n(vectors->values.begin() + i * dims, dims, vectors->values.begin() + kept * dims);
      vectors->words[kept] = std::move(vectors->words[i]);
    }
    ++kept;
  }
  if (kept == 0) corrupt_input(format, "no usable word vectors");
  vectors->words.resize(kept);
  vectors->values.resize(kept * dims);
}

}  // namespace embedding::models::detail
