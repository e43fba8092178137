// Word tokeniser modelled on the tokenisation of GloVe's training data (Stanford PTB tokenizer
// over lower-cased text), so that tokens match the vocabulary of GloVe-style models.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace embedding::text {

enum class TokenKind {
  kWord,         // letters/digits, possibly with inner apostrophes ("o'neill")
  kHyphenated,   // words joined by hyphens ("well-known"); see next_hyphen_part()
  kNumber,       // digits with inner '.' or ',' kept whole ("3.14", "1,000")
  kClitic,       // split-off clitic: "n't", "'s", "'re", "'ve", "'ll", "'d", "'m"
  kPunctuation,  // one punctuation or symbol character ("," "?" "$" "“" "…")
};

struct Token {
  std::string_view text;  // lower-cased; valid until the next call of Tokenizer::next()
  TokenKind kind;
  // The same token with the case it was written in (equal to text for clitics and
  // punctuation), for models whose vocabulary is case-sensitive.
  std::string_view original = {};
  // The token is (part of) a word longer than kMaxTokenBytes, which no vocabulary holds: it is
  // not looked up whole. Its text keeps what can still be found, the hyphen parts of a
  // hyphenated word (parts longer than kMaxTokenBytes left out); such a word comes in several
  // tokens, the second and later ones `continued`.
  bool cut = false;
  bool continued = false;
};

// The longest word the tokeniser hands over whole; vocabularies hold no longer words. Bounds
// its buffers whatever the text.
inline constexpr std::size_t kMaxTokenBytes = 64u << 10;

// Rules (each has a unit test):
// - Case: ASCII, Latin-1, basic Greek and Cyrillic capitals are lower-cased; every other byte,
//   including invalid UTF-8, passes through unchanged inside words.
// - Separators: ASCII whitespace and control characters, Unicode spaces (NBSP, U+2000..U+200B,
// ...).
// - Punctuation: every ASCII punctuation character, Latin-1 symbols, General Punctuation and
//   currency symbols are single-character tokens, except where the rules below keep them inside.
// - Clitics are split as in the Penn Treebank: "don't" -> "do" "n't", "can't" -> "ca" "n't",
//   "it's" -> "it" "'s", likewise 're 've 'll 'd 'm. U+2019 counts as an apostrophe there and the
//   clitic is written with an ASCII apostrophe. Other inner apostrophes stay ("o'neill").
// - Numbers: '.' and ',' between two digits stay inside the token ("3.14", "1,000").
// - Hyphens between word characters stay inside the token (kHyphenated); the caller looks the
//   whole token up first and falls back to its parts.
// - A word longer than kMaxTokenBytes is cut (see Token::cut). Long scans poll interrupts.
class Tokenizer {
 public:
  explicit Tokenizer(std::string_view text) : text_(text) {}

  // Produces the next token; false at the end of the text.
  bool next(Token* token);

 private:
  bool scan_word(Token* token, bool resume);
  bool try_clitic(std::size_t apostrophe_pos, std::size_t apostrophe_len, bool after_word);
  void bound_part();
  char last_char() const;

  std::string_view text_;
  std::size_t pos_ = 0;
  std::string buffer_;
  std::string original_;  // buffer_ before lower-casing
  std::string pending_;   // clitic split off the previous word, emitted next
  // A word longer than kMaxTokenBytes: cut_ while it lasts; resume_ when the next call goes on
  // with it; part_start_ is where its current hyphen part begins in buffer_, part_dropped_ when
  // that part is too long to keep (last_ is then its last character).
  bool cut_ = false;
  bool resume_ = false;
  std::size_t part_start_ = 0;
  bool part_dropped_ = false;
  char last_ = 0;
};

// Iterates over the parts of a hyphenated token: *pos starts at 0; returns false when done.
bool next_hyphen_part(std::string_view token, std::size_t* pos, std::string_view* part);

// The lower-casing the tokeniser applies, for looking single words up.
std::string fold_case(std::string_view word);

// All tokens of text (for tests and tools; the hot path uses Tokenizer directly).
std::vector<std::string> tokenize(std::string_view text);

}  // namespace embedding::text
