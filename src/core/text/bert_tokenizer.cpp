// BERT's basic tokenizer and WordPiece (see bert_tokenizer.h). Character classes, case mapping
// and decomposition come from ICU (libicu, the Unicode library PostgreSQL itself links).
#include "core/text/bert_tokenizer.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include "core/common/error.h"
#include "core/text/utf8.h"

namespace embedding::text {
namespace {

using CodePoints = std::u32string;

CodePoints decode(std::string_view text) {
  CodePoints out;
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    char32_t cp;
    pos += decode_utf8(text, pos, &cp);
    out.push_back(cp == kInvalidCodePoint ? U'\uFFFD' : cp);
  }
  return out;
}

std::string encode(const CodePoints& cps) {
  std::string out;
  out.reserve(cps.size());
  for (char32_t cp : cps) append_utf8(cp, out);
  return out;
}

std::u16string to_utf16(const CodePoints& cps) {
  std::u16string out;
  out.reserve(cps.size());
  for (char32_t cp : cps) {
    if (cp >= 0x10000) {
      out.push_back(static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
  }
  return out;
}

CodePoints from_utf16(const char16_t* s, std::int32_t length) {
  CodePoints out;
  for (std::int32_t i = 0; i < length;) {
    UChar32 cp;
    U16_NEXT(s, i, length, cp);
    out.push_back(static_cast<char32_t>(cp));
  }
  return out;
}

[[noreturn]] void icu_failed(const char* what, UErrorCode status) {
  throw Error(ErrorCode::kInternal, std::string(what) + " failed: " + u_errorName(status));
}

// Runs an ICU string transformation (preflight, then the real call) on cps.
template <class Transform>
CodePoints transform(const CodePoints& cps, const char* what, Transform run) {
  const std::u16string in = to_utf16(cps);
  UErrorCode status = U_ZERO_ERROR;
  const std::int32_t needed = run(nullptr, 0, reinterpret_cast<const UChar*>(in.data()),
                                  static_cast<std::int32_t>(in.size()), &status);
  if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status)) icu_failed(what, status);
  std::u16string out(static_cast<std::size_t>(needed), u'\0');
  status = U_ZERO_ERROR;
  run(reinterpret_cast<UChar*>(out.data()), needed, reinterpret_cast<const UChar*>(in.data()),
      static_cast<std::int32_t>(in.size()), &status);
  if (U_FAILURE(status)) icu_failed(what, status);
  return from_utf16(out.data(), needed);
}

CodePoints lower(const CodePoints& cps) {
  return transform(
      cps, "u_strToLower",
      [](UChar* dest, std::int32_t capacity, const UChar* src, std::int32_t length,
         UErrorCode* status) { return u_strToLower(dest, capacity, src, length, "", status); });
}

CodePoints strip_accents(const CodePoints& cps) {
  UErrorCode status = U_ZERO_ERROR;
  const UNormalizer2* nfd = unorm2_getNFDInstance(&status);
  if (U_FAILURE(status)) icu_failed("unorm2_getNFDInstance", status);
  CodePoints decomposed = transform(
      cps, "unorm2_normalize",
      [nfd](UChar* dest, std::int32_t capacity, const UChar* src, std::int32_t length,
            UErrorCode* st) { return unorm2_normalize(nfd, src, length, dest, capacity, st); });
  CodePoints out;
  for (char32_t cp : decomposed)
    if (u_charType(static_cast<UChar32>(cp)) != U_NON_SPACING_MARK) out.push_back(cp);
  return out;
}

bool is_control(char32_t cp) {
  if (cp == U'\t' || cp == U'\n' || cp == U'\r') return false;
  switch (u_charType(static_cast<UChar32>(cp))) {
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_UNASSIGNED:
    case U_PRIVATE_USE_CHAR:
    case U_SURROGATE:
      return true;
    default:
      return false;
  }
}

bool is_whitespace(char32_t cp) {
  return cp == U' ' || cp == U'\t' || cp == U'\n' || cp == U'\r' ||
         u_charType(static_cast<UChar32>(cp)) == U_SPACE_SEPARATOR;
}

// Where words end: a space, or a line or paragraph separator (what Python's str.split() and
// Rust's char::is_whitespace also split at, once the clean-up has run).
bool is_separator(char32_t cp) {
  if (cp == U' ') return true;
  const auto type = u_charType(static_cast<UChar32>(cp));
  return type == U_SPACE_SEPARATOR || type == U_LINE_SEPARATOR || type == U_PARAGRAPH_SEPARATOR;
}

bool is_punctuation(char32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
      (cp >= 123 && cp <= 126))
    return true;
  switch (u_charType(static_cast<UChar32>(cp))) {
    case U_DASH_PUNCTUATION:
    case U_START_PUNCTUATION:
    case U_END_PUNCTUATION:
    case U_CONNECTOR_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
    case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
      return true;
    default:
      return false;
  }
}

// BERT's "Chinese character" blocks (CJK Unified Ideographs and their extensions and
// compatibility blocks; not Hangul, Hiragana or Katakana).
bool is_cjk(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

}  // namespace

void bert_basic_tokens(std::string_view text, const BertNormalization& options,
                       const std::function<bool(std::string_view)>& emit) {
  CodePoints word;
  std::string piece;
  // Ends the current word: lower-cases it and strips its accents as asked, then emits its runs
  // of non-punctuation and its punctuation characters one by one.
  const auto flush = [&]() {
    if (word.empty()) return true;
    if (options.lowercase) word = lower(word);
    if (options.strip_accents) word = strip_accents(word);
    piece.clear();
    for (char32_t cp : word) {
      if (!is_punctuation(cp)) {
        append_utf8(cp, piece);
        continue;
      }
      if (!piece.empty() && !emit(piece)) return false;
      piece.clear();
      append_utf8(cp, piece);
      if (!emit(piece)) return false;
      piece.clear();
    }
    word.clear();
    return piece.empty() || emit(piece);
  };
  for (std::size_t pos = 0; pos < text.size();) {
    char32_t cp;
    pos += decode_utf8(text, pos, &cp);
    if (cp == kInvalidCodePoint) cp = U'\uFFFD';
    if (cp == 0 || cp == 0xFFFD || is_control(cp)) continue;
    if (is_whitespace(cp) || is_separator(cp)) {
      if (!flush()) return;
    } else if (options.chinese_chars && is_cjk(cp)) {
      if (!flush()) return;
      word.push_back(cp);
      if (!flush()) return;
    } else {
      word.push_back(cp);
    }
  }
  flush();
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

std::string lower_case_text(std::string_view text) { return encode(lower(decode(text))); }

void wordpiece(std::string_view word, const VocabLookup& lookup, std::uint32_t unknown,
               std::vector<std::uint32_t>& out, std::size_t max_chars) {
  // Byte offsets of the characters (and of the end), so pieces end on character boundaries.
  std::vector<std::size_t> starts;
  for (std::size_t pos = 0; pos < word.size();) {
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
