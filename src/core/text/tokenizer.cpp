// GloVe/PTB-style tokeniser: one pass over the bytes with a table for ASCII and a small
// code-point classifier for the rest; tokens are lower-cased into a reused buffer.
#include "core/text/tokenizer.h"

#include <algorithm>
#include <array>
#include <cstdint>

#include "core/common/interrupt.h"
#include "core/text/utf8.h"

namespace embedding::text {
namespace {

enum class CharClass : std::uint8_t { kSpace, kLetter, kDigit, kPunct, kApostrophe, kHyphen };

constexpr std::array<CharClass, 128> make_ascii_table() {
  std::array<CharClass, 128> table{};
  for (int c = 0; c < 128; ++c) {
    CharClass cls = CharClass::kPunct;
    if (c <= 0x20 || c == 0x7F) {
      cls = CharClass::kSpace;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      cls = CharClass::kLetter;
    } else if (c >= '0' && c <= '9') {
      cls = CharClass::kDigit;
    } else if (c == '\'') {
      cls = CharClass::kApostrophe;
    } else if (c == '-') {
      cls = CharClass::kHyphen;
    }
    table[c] = cls;
  }
  return table;
}
constexpr std::array<CharClass, 128> kAsciiClass = make_ascii_table();

constexpr char32_t kRightSingleQuote = 0x2019;

bool is_word_class(CharClass cls) { return cls == CharClass::kLetter || cls == CharClass::kDigit; }

CharClass classify_code_point(char32_t cp) {
  if (cp == kInvalidCodePoint) return CharClass::kLetter;  // passed through inside words
  if (cp == 0x00A0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200B) || cp == 0x2028 ||
      cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF) {
    return CharClass::kSpace;
  }
  if (cp == kRightSingleQuote) return CharClass::kApostrophe;
  if (cp == 0x2010 || cp == 0x2011) return CharClass::kHyphen;
  if ((cp >= 0x00A1 && cp <= 0x00BF) || cp == 0x00D7 || cp == 0x00F7 ||
      (cp >= 0x2012 && cp <= 0x205E) || (cp >= 0x20A0 && cp <= 0x20CF) ||
      (cp >= 0x3001 && cp <= 0x3003) || (cp >= 0x3008 && cp <= 0x3011)) {
    return CharClass::kPunct;
  }
  return CharClass::kLetter;
}

char32_t fold_code_point(char32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp < 0x80) return cp;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 0x20;     // Latin-1
  if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 0x20;  // Greek
  if (cp >= 0x410 && cp <= 0x42F) return cp + 0x20;                 // Cyrillic А..Я
  if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;                 // Cyrillic Ѐ..Џ
  return cp;
}

struct CharInfo {
  CharClass cls;
  std::size_t length;
  char32_t code_point;  // kInvalidCodePoint for a byte that is not valid UTF-8
};

CharInfo char_at(std::string_view text, std::size_t pos) {
  const unsigned char byte = static_cast<unsigned char>(text[pos]);
  if (byte < 0x80) return {kAsciiClass[byte], 1, byte};
  char32_t cp;
  const std::size_t length = decode_utf8(text, pos, &cp);
  return {classify_code_point(cp), length, cp};
}

// Appends the lower-cased form of the character at text[pos].
void append_folded(std::string_view text, std::size_t pos, const CharInfo& info, std::string& out) {
  if (info.code_point < 0x80) {
    out.push_back(static_cast<char>(fold_code_point(info.code_point)));
  } else if (info.code_point == kInvalidCodePoint) {
    out.append(text.substr(pos, info.length));
  } else {
    append_utf8(fold_code_point(info.code_point), out);
  }
}

bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

}  // namespace

// Splits a clitic off at the apostrophe at apostrophe_pos when the letters after it form one
// and the clitic is not followed by more word characters. On success pending_ holds the clitic
// and pos_ points past it.
bool Tokenizer::try_clitic(std::size_t apostrophe_pos, std::size_t apostrophe_len,
                           bool after_word) {
  std::size_t end = apostrophe_pos + apostrophe_len;
  char letters[2];
  std::size_t count = 0;
  while (end < text_.size()) {
    const unsigned char byte = static_cast<unsigned char>(text_[end]);
    if (byte >= 0x80 || kAsciiClass[byte] != CharClass::kLetter) break;
    if (count == 2) return false;  // no clitic has more than two letters
    letters[count++] = ascii_lower(text_[end]);
    ++end;
  }
  if (count == 0) return false;
  if (end < text_.size() && is_word_class(char_at(text_, end).cls)) return false;
  const std::string_view clitic(letters, count);
  if (clitic == "s" || clitic == "re" || clitic == "ve" || clitic == "ll" || clitic == "d" ||
      clitic == "m") {
    pending_.assign("'").append(clitic);
  } else if (clitic == "t" && after_word && last_char() == 'n') {
    if (!part_dropped_) {
      buffer_.pop_back();
      original_.pop_back();
    }
    pending_.assign("n't");
  } else {
    return false;
  }
  pos_ = end;
  return true;
}

char Tokenizer::last_char() const {
  if (part_dropped_) return last_;
  return buffer_.empty() ? 0 : buffer_.back();
}

// Keeps the current hyphen part within kMaxTokenBytes: a longer one is dropped (no vocabulary
// holds it) and only its last character is remembered, for the rules that look at it.
void Tokenizer::bound_part() {
  if (!part_dropped_ && buffer_.size() - part_start_ <= kMaxTokenBytes) return;
  cut_ = part_dropped_ = true;
  last_ = buffer_.back();
  buffer_.resize(part_start_);
  original_.resize(part_start_);
}

bool Tokenizer::scan_word(Token* token, bool resume) {
  if (!resume) cut_ = false;
  resume_ = false;
  buffer_.clear();
  original_.clear();
  part_start_ = 0;
  part_dropped_ = false;
  bool hyphenated = resume;
  bool numeric = !resume && is_ascii_digit(text_[pos_]);
  for (std::uint64_t count = 1; pos_ < text_.size(); ++count) {
    poll_interrupts_every(count);
    const CharInfo info = char_at(text_, pos_);
    if (is_word_class(info.cls)) {
      numeric = numeric && info.cls == CharClass::kDigit;
      append_folded(text_, pos_, info, buffer_);
      original_.append(text_.substr(pos_, info.length));
      bound_part();
      pos_ += info.length;
      continue;
    }
    const std::size_t next = pos_ + info.length;
    if (info.cls == CharClass::kHyphen) {
      if (next < text_.size() && is_word_class(char_at(text_, next).cls)) {
        pos_ = next;
        if (buffer_.size() > kMaxTokenBytes) {
          // Too long to be found whole: hand over the parts so far, go on after the hyphen.
          cut_ = resume_ = true;
          *token = {buffer_, TokenKind::kHyphenated, original_, true, resume};
          return true;
        }
        buffer_.push_back('-');
        original_.push_back('-');
        part_start_ = buffer_.size();
        part_dropped_ = false;
        hyphenated = true;
        numeric = false;
        continue;
      }
      break;
    }
    if ((text_[pos_] == '.' || text_[pos_] == ',') && is_ascii_digit(last_char()) &&
        next < text_.size() && is_ascii_digit(text_[next])) {
      buffer_.push_back(text_[pos_]);
      original_.push_back(text_[pos_]);
      bound_part();
      pos_ = next;
      continue;
    }
    if (info.cls == CharClass::kApostrophe) {
      if (try_clitic(pos_, info.length, true)) break;
      if (next < text_.size() && is_word_class(char_at(text_, next).cls)) {
        buffer_.push_back('\'');
        original_.push_back('\'');
        bound_part();
        numeric = false;
        pos_ = next;
        continue;
      }
    }
    break;
  }
  if (buffer_.empty() && !cut_) {  // "n't" with nothing before it
    buffer_.swap(pending_);
    pending_.clear();
    *token = {buffer_, TokenKind::kClitic, buffer_};
    return true;
  }
  TokenKind kind = TokenKind::kWord;
  if (hyphenated) {
    kind = TokenKind::kHyphenated;
  } else if (numeric) {
    kind = TokenKind::kNumber;
  }
  *token = {buffer_, kind, original_, cut_, resume};
  return true;
}

bool Tokenizer::next(Token* token) {
  if (resume_) return scan_word(token, true);
  if (!pending_.empty()) {
    buffer_.swap(pending_);
    pending_.clear();
    *token = {buffer_, TokenKind::kClitic, buffer_};
    return true;
  }
  for (std::uint64_t count = 1; pos_ < text_.size(); ++count) {
    poll_interrupts_every(count);
    const CharInfo info = char_at(text_, pos_);
    switch (info.cls) {
      case CharClass::kSpace:
        pos_ += info.length;
        continue;
      case CharClass::kLetter:
      case CharClass::kDigit:
        return scan_word(token, false);
      case CharClass::kApostrophe:
        if (try_clitic(pos_, info.length, false)) {
          buffer_.swap(pending_);
          pending_.clear();
          *token = {buffer_, TokenKind::kClitic, buffer_};
          return true;
        }
        [[fallthrough]];
      case CharClass::kPunct:
      case CharClass::kHyphen:
        buffer_.assign(text_.substr(pos_, info.length));
        pos_ += info.length;
        *token = {buffer_, TokenKind::kPunctuation, buffer_};
        return true;
    }
  }
  return false;
}

bool next_hyphen_part(std::string_view token, std::size_t* pos, std::string_view* part) {
  while (*pos < token.size()) {
    const std::size_t end = std::min(token.find('-', *pos), token.size());
    const std::size_t start = *pos;
    *pos = end + 1;
    if (end > start) {
      *part = token.substr(start, end - start);
      return true;
    }
  }
  return false;
}

std::string fold_case(std::string_view word) {
  std::string out;
  out.reserve(word.size());
  for (std::size_t pos = 0; pos < word.size();) {
    const CharInfo info = char_at(word, pos);
    append_folded(word, pos, info, out);
    pos += info.length;
  }
  return out;
}

std::vector<std::string> tokenize(std::string_view text) {
  std::vector<std::string> tokens;
  Tokenizer tokenizer(text);
  Token token;
  while (tokenizer.next(&token)) tokens.emplace_back(token.text);
  return tokens;
}

}  // namespace embedding::text
