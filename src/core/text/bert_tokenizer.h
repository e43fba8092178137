// BERT's text pipeline for transformer encoders: the basic tokenizer (clean-up, CJK splitting,
// lower-casing, accent stripping, punctuation splitting; Unicode rules from ICU) and WordPiece.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace embedding::text {

struct BertNormalization {
  bool lowercase = true;        // full Unicode lower-casing of each word
  bool strip_accents = true;    // NFD, then every non-spacing mark (category Mn) removed
  bool chinese_chars = true;    // every CJK ideograph is a word of its own
  bool lowercase_text = false;  // the whole text lower-cased first, as Python's str.lower()
                                // (sentence-transformers' do_lower_case; final sigma included)
};

// The words of `text` (UTF-8; invalid bytes count as U+FFFD) by BERT's basic tokenizer:
// - the text is lower-cased first when lowercase_text;
// - U+0000, U+FFFD and control characters (categories Cc, Cf, Cn, Co, Cs; not tab, newline, CR)
//   are removed; tab, newline, CR and space separators (Zs) become spaces;
// - CJK ideographs (BERT's blocks) get spaces around them when chinese_chars;
// - the text is split at spaces and line/paragraph separators; each word is lower-cased and its
//   accents stripped as `options` say (in that order), then split into runs of
//   non-punctuation and single punctuation characters (ASCII !-/ :-@ [-` {-~, and categories P*).
// Words are handed to `emit` one at a time, in order; it returns false to stop early (so a long
// text is read only as far as its first words are needed). The text is read one character at a
// time and memory does not grow with it: a token longer than max_token_chars characters is
// handed over cut to its first max_token_chars + 1 (WordPiece's limit then makes it unknown).
// Polls interrupts.
void bert_basic_tokens(std::string_view text, const BertNormalization& options,
                       const std::function<bool(std::string_view)>& emit,
                       std::size_t max_token_chars = SIZE_MAX);
std::vector<std::string> bert_basic_tokens(std::string_view text, const BertNormalization& options);

// Looks a piece up in a vocabulary: its id, or nullopt.
using VocabLookup = std::function<std::optional<std::uint32_t>(std::string_view)>;

// BERT's max_input_chars_per_word: a longer word is unknown.
inline constexpr std::size_t kMaxInputCharsPerWord = 100;

// WordPiece: appends the ids of `word`'s pieces, longest match first from the left, with "##"
// before every piece but the first; the whole word becomes `unknown` when some position has no
// match or the word is longer than `max_chars` characters (counting stops there).
void wordpiece(std::string_view word, const VocabLookup& lookup, std::uint32_t unknown,
               std::vector<std::uint32_t>& out, std::size_t max_chars = kMaxInputCharsPerWord);

}  // namespace embedding::text
