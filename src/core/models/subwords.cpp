// Character n-grams of a word and their buckets (see subwords.h): character boundaries come from
// the UTF-8 decoder, so an n-gram never splits a character.
#include "core/models/subwords.h"

#include <string>

#include "core/text/utf8.h"

namespace embedding::models {

std::uint32_t subword_hash(std::string_view ngram) noexcept {
  std::uint32_t hash = 2166136261u;
  for (const char c : ngram) {
    hash ^= static_cast<std::uint8_t>(c);
    hash *= 16777619u;
  }
  return hash;
}

void subword_buckets(std::string_view word, std::uint32_t min_n, std::uint32_t max_n,
                     std::uint32_t buckets, std::vector<std::uint32_t>* out) {
  if (buckets == 0 || min_n == 0 || min_n > max_n) return;
  std::string marked;
  marked.reserve(word.size() + 2);
  marked.push_back('<');
  marked.append(word);
  marked.push_back('>');
  // starts[i]: byte offset of character i; starts.back() is the end.
  std::vector<std::size_t> starts;
  starts.reserve(marked.size() + 1);
  for (std::size_t pos = 0; pos < marked.size();) {
    starts.push_back(pos);
    char32_t code_point;
    const std::size_t length = text::decode_utf8(marked, pos, &code_point);
    pos += length == 0 ? 1 : length;
  }
  const std::size_t chars = starts.size();
  starts.push_back(marked.size());
  for (std::size_t i = 0; i < chars; ++i) {
    for (std::size_t n = min_n; n <= max_n && i + n <= chars; ++n) {
      const std::string_view ngram(marked.data() + starts[i], starts[i + n] - starts[i]);
      out->push_back(subword_hash(ngram) % buckets);
    }
  }
}

}  // namespace embedding::models
