// BERT's basic tokenizer and WordPiece (see bert_tokenizer.h). The character rules (classes, case
// mapping, decomposition: ICU, the Unicode library PostgreSQL itself links) are in bert_chars.
#include "core/text/bert_tokenizer.h"

#include "core/common/interrupt.h"
#include "core/text/bert_chars.h"
#include "core/text/utf8.h"

namespace embedding::text {
namespace {

// The basic tokenizer as a pipeline over the text's characters, one at a time, so that nothing
// grows with the length of a word: text lower-casing (sentence-transformers' do_lower_case) ->
// clean-up, word breaks and CJK -> word lower-casing -> decomposition without marks -> splitting
// at punctuation. Final_Sigma, the one context rule of lower-casing, looks ahead in the text.
class BasicTokenizer {
 public:
  BasicTokenizer(std::string_view text, const BertNormalization& options,
                 const std::function<bool(std::string_view)>& emit, std::size_t max_token_chars)
      : text_(text), options_(options), emit_(emit), max_token_chars_(max_token_chars) {}

  void run() {
    for (std::size_t pos = 0, count = 0; pos < text_.size() && !stopped_; ++count) {
      poll_interrupts_every(count);
      char32_t cp;
      pos += next_char(pos, &cp);
      if (!options_.lowercase_text) {
        clean(cp, pos);
        continue;
      }
      if (cp < 0x80) {  // no context, one character
        if (!bert::is_case_ignorable(cp)) text_cased_before_ = bert::is_cased(cp);
        clean(ascii_lower(cp), pos);
        continue;
      }
      // Python's str.lower() of the whole text: Final_Sigma's context is the raw text.
      const bool final_sigma = cp == 0x3A3 && text_cased_before_ && !cased_after(pos, false);
      if (!bert::is_case_ignorable(cp)) text_cased_before_ = bert::is_cased(cp);
      lowered_.clear();
      bert::append_lower(cp, final_sigma, lowered_);
      for (char32_t c : lowered_) clean(c, pos);
    }
    end_word();
  }

 private:
  std::size_t next_char(std::size_t pos, char32_t* cp) const {
    const std::size_t length = decode_utf8(text_, pos, cp);
    if (*cp == kInvalidCodePoint) *cp = U'\uFFFD';
    return length;
  }

  static char32_t ascii_lower(char32_t cp) { return cp >= U'A' && cp <= U'Z' ? cp + 32 : cp; }

  static bool removed(char32_t cp) { return cp == 0 || cp == 0xFFFD || bert::is_control(cp); }

  // Final_Sigma's look-ahead: whether the first character after pos that is not case-ignorable
  // is cased, in the whole text or (word_only) within the cleaned word.
  bool cased_after(std::size_t pos, bool word_only) const {
    for (std::size_t count = 1; pos < text_.size(); ++count) {
      poll_interrupts_every(count);
      char32_t cp;
      pos += next_char(pos, &cp);
      if (word_only) {
        if (removed(cp)) continue;
        if (bert::is_word_break(cp) || (options_.chinese_chars && bert::is_cjk(cp))) return false;
      }
      if (!bert::is_case_ignorable(cp)) return bert::is_cased(cp);
    }
    return false;
  }

  // The clean-up: removed characters vanish, word breaks end words, CJK ideographs stand alone.
  // `pos` is where the text continues after the character cp came from.
  void clean(char32_t cp, std::size_t pos) {
    if (removed(cp)) return;
    if (bert::is_word_break(cp)) {
      end_word();
    } else if (options_.chinese_chars && bert::is_cjk(cp)) {
      end_word();
      word_char(cp, pos);
      end_word();
    } else {
      word_char(cp, pos);
    }
  }

  // A character of the current word: lower-cased when asked (Final_Sigma within the word; after
  // text lower-casing no capital sigma is left), then on to the accents.
  void word_char(char32_t cp, std::size_t pos) {
    if (!options_.lowercase) return accent(cp);
    if (cp < 0x80) {
      if (!bert::is_case_ignorable(cp)) word_cased_before_ = bert::is_cased(cp);
      return accent(ascii_lower(cp));
    }
    const bool final_sigma = cp == 0x3A3 && word_cased_before_ && !cased_after(pos, true);
    if (!bert::is_case_ignorable(cp)) word_cased_before_ = bert::is_cased(cp);
    word_lowered_.clear();
    bert::append_lower(cp, final_sigma, word_lowered_);
    for (char32_t c : word_lowered_) accent(c);
  }

  // Accent stripping, one decomposition segment at a time (a segment longer than
  // kMaxSegment, only ever a run of combining marks, is decomposed in parts).
  void accent(char32_t cp) {
    if (!options_.strip_accents) return split(cp);
    if (cp < 0x80) {  // a segment's start that does not decompose: on at once
      if (!segment_.empty()) flush_segment();
      return split(cp);
    }
    if (!segment_.empty() && (bert::starts_nfd_segment(cp) || segment_.size() >= kMaxSegment))
      flush_segment();
    segment_.push_back(cp);
  }

  void flush_segment() {
    stripped_.clear();
    bert::append_nfd_without_marks(segment_, stripped_);
    segment_.clear();
    for (char32_t c : stripped_) split(c);
  }

  // Punctuation splits the word; a run longer than max_token_chars_ keeps only its first
  // max_token_chars_ + 1 characters (enough to tell it is too long).
  void split(char32_t cp) {
    if (!bert::is_punctuation(cp)) {
      if (run_chars_++ <= max_token_chars_) append_utf8(cp, run_);
      return;
    }
    emit_run();
    append_utf8(cp, run_);
    emit_run();
  }

  void emit_run() {
    if (!run_.empty() && !stopped_ && !emit_(run_)) stopped_ = true;
    run_.clear();
    run_chars_ = 0;
  }

  void end_word() {
    if (!segment_.empty()) flush_segment();
    emit_run();
    word_cased_before_ = false;
  }

  static constexpr std::size_t kMaxSegment = 64;

  std::string_view text_;
  const BertNormalization& options_;
  const std::function<bool(std::string_view)>& emit_;
  std::size_t max_token_chars_;
  bool stopped_ = false;
  bool text_cased_before_ = false;  // Final_Sigma's look-behind in the text, and in the word
  bool word_cased_before_ = false;
  std::u32string lowered_, word_lowered_, segment_, stripped_;
  std::string run_;
  std::size_t run_chars_ = 0;
};

}  // namespace

void bert_basic_tokens(std::string_view text, const BertNormalization& options,
                       const std::function<bool(std::string_view)>& emit,
                       std::size_t max_token_chars) {
  BasicTokenizer(text, options, emit, max_token_chars).run();
}

std::vector<std::string> bert_basic_tokens(std::string_view text,
                                           const BertNormalization& options) {
  std::vector<std::string> tokens;
  bert_basic_tokens(text, options, [&](std::string_view token) {
    tokens.emplace_back(token);
    return true;
  });
  return tokens;
}

void wordpiece(std::string_view word, const VocabLookup& lookup, std::uint32_t unknown,
               std::vector<std::uint32_t>& out, std::size_t max_chars) {
  // Byte offsets of the characters (and of the end), so pieces end on character boundaries.
  std::vector<std::size_t> starts;
  for (std::size_t pos = 0; pos < word.size() && starts.size() <= max_chars;) {
    starts.push_back(pos);
    char32_t cp;
    pos += decode_utf8(word, pos, &cp);
  }
  if (starts.size() > max_chars) {
    out.push_back(unknown);
    return;
  }
  starts.push_back(word.size());
  const std::size_t first = out.size();
  std::string piece;
  for (std::size_t begin = 0; begin + 1 < starts.size();) {
    std::size_t end = starts.size() - 1;
    std::optional<std::uint32_t> id;
    for (; end > begin; --end) {
      piece.assign(begin == 0 ? "" : "##");
      piece.append(word.substr(starts[begin], starts[end] - starts[begin]));
      if ((id = lookup(piece))) break;
    }
    if (!id) {
      out.resize(first);
      out.push_back(unknown);
      return;
    }
    out.push_back(*id);
    begin = end;
  }
}

}  // namespace embedding::text
