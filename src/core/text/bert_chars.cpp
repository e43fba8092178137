// BERT's character rules (see bert_chars.h). Each rule is written once, on ICU; ASCII, the bulk
// of most texts, is answered from a table filled by the same rules on first use.
#include "core/text/bert_chars.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <array>
#include <cstdint>

#include "core/common/error.h"

namespace embedding::text::bert {
namespace {

[[noreturn]] void icu_failed(const char* what, UErrorCode status) {
  throw Error(ErrorCode::kInternal, std::string(what) + " failed: " + u_errorName(status));
}

const UNormalizer2* nfd() {
  UErrorCode status = U_ZERO_ERROR;
  const UNormalizer2* instance = unorm2_getNFDInstance(&status);
  if (U_FAILURE(status)) icu_failed("unorm2_getNFDInstance", status);
  return instance;
}

bool icu_control(char32_t cp) {
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

// Tab, newline, CR and Zs are BERT's whitespace; line and paragraph separators also end words
// (Python's str.split() and Rust's char::is_whitespace split there once the clean-up has run).
bool icu_word_break(char32_t cp) {
  if (cp == U' ' || cp == U'\t' || cp == U'\n' || cp == U'\r') return true;
  const auto type = u_charType(static_cast<UChar32>(cp));
  return type == U_SPACE_SEPARATOR || type == U_LINE_SEPARATOR || type == U_PARAGRAPH_SEPARATOR;
}

bool icu_punctuation(char32_t cp) {
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

bool icu_case_ignorable(char32_t cp) {
  return u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_CASE_IGNORABLE);
}

bool icu_cased(char32_t cp) { return u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_CASED); }

enum Flag : std::uint8_t {  // one bit each
  kControl = 1 << 0,
  kWordBreak = 1 << 1,
  kPunctuation = 1 << 2,
  kCaseIgnorable = 1 << 3,
  kCased = 1 << 4,
};

// The rules above for ASCII, computed once (a function-local static: no global constructor).
const std::array<std::uint8_t, 128>& ascii() {
  static const std::array<std::uint8_t, 128> table = [] {
    std::array<std::uint8_t, 128> t{};
    for (char32_t c = 0; c < 128; ++c)
      t[c] = (icu_control(c) ? kControl : 0) | (icu_word_break(c) ? kWordBreak : 0) |
             (icu_punctuation(c) ? kPunctuation : 0) |
             (icu_case_ignorable(c) ? kCaseIgnorable : 0) | (icu_cased(c) ? kCased : 0);
    return t;
  }();
  return table;
}

void append_utf16(char32_t cp, std::u16string& out) {
  if (cp >= 0x10000) {
    out.push_back(static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10)));
    out.push_back(static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF)));
  } else {
    out.push_back(static_cast<char16_t>(cp));
  }
}

}  // namespace

bool is_control(char32_t cp) { return cp < 128 ? ascii()[cp] & kControl : icu_control(cp); }
bool is_word_break(char32_t cp) { return cp < 128 ? ascii()[cp] & kWordBreak : icu_word_break(cp); }
bool is_punctuation(char32_t cp) {
  return cp < 128 ? ascii()[cp] & kPunctuation : icu_punctuation(cp);
}
bool is_case_ignorable(char32_t cp) {
  return cp < 128 ? ascii()[cp] & kCaseIgnorable : icu_case_ignorable(cp);
}
bool is_cased(char32_t cp) { return cp < 128 ? ascii()[cp] & kCased : icu_cased(cp); }

bool is_cjk(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

void append_lower(char32_t cp, bool final_sigma, std::u32string& out) {
  if (cp < 128) {
    out.push_back(cp >= U'A' && cp <= U'Z' ? cp + 32 : cp);
    return;
  }
  if (cp == 0x3A3) {
    out.push_back(final_sigma ? 0x3C2 : 0x3C3);
    return;
  }
  // Outside Final_Sigma the root locale's full mapping has no context, and it is the simple
  // one-character mapping but for U+0130 (a unit test checks every code point).
  if (cp != 0x130) {
    out.push_back(static_cast<char32_t>(u_tolower(static_cast<UChar32>(cp))));
    return;
  }
  std::u16string in;  // short: no allocation
  append_utf16(cp, in);
  UChar lowered[8];
  UErrorCode status = U_ZERO_ERROR;
  const std::int32_t length = u_strToLower(lowered, 8, reinterpret_cast<const UChar*>(in.data()),
                                           static_cast<std::int32_t>(in.size()), "", &status);
  if (U_FAILURE(status)) icu_failed("u_strToLower", status);
  for (std::int32_t i = 0; i < length;) {
    UChar32 c;
    U16_NEXT(lowered, i, length, c);
    out.push_back(static_cast<char32_t>(c));
  }
}

bool starts_nfd_segment(char32_t cp) {
  return cp < 0xC0 || unorm2_hasBoundaryBefore(nfd(), static_cast<UChar32>(cp));
}

void append_nfd_without_marks(const std::u32string& segment, std::u32string& out) {
  // Below U+00C0 nothing decomposes and nothing is a mark. A character alone is its full
  // decomposition mapping (a unit test checks every code point against unorm2_normalize).
  const auto keep = [&](UChar32 c) {
    if (c < 0xC0 || u_charType(c) != U_NON_SPACING_MARK) out.push_back(static_cast<char32_t>(c));
  };
  if (segment.size() == 1) {
    const UChar32 c = static_cast<UChar32>(segment[0]);
    UChar decomposition[32];
    UErrorCode status = U_ZERO_ERROR;
    const std::int32_t length =
        c < 0xC0 ? -1 : unorm2_getDecomposition(nfd(), c, decomposition, 32, &status);
    if (U_SUCCESS(status)) {  // else (a mapping over 32 units) as a segment, below
      if (length < 0) return keep(c);
      for (std::int32_t i = 0; i < length;) {
        UChar32 d;
        U16_NEXT(decomposition, i, length, d);
        keep(d);
      }
      return;
    }
  }
  std::u16string in;
  for (char32_t cp : segment) append_utf16(cp, in);
  const auto run = [&](UChar* dest, std::int32_t capacity, UErrorCode* status) {
    return unorm2_normalize(nfd(), reinterpret_cast<const UChar*>(in.data()),
                            static_cast<std::int32_t>(in.size()), dest, capacity, status);
  };
  UErrorCode status = U_ZERO_ERROR;
  const std::int32_t needed = run(nullptr, 0, &status);
  if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status))
    icu_failed("unorm2_normalize", status);
  std::u16string decomposed(static_cast<std::size_t>(needed), u'\0');
  status = U_ZERO_ERROR;
  run(reinterpret_cast<UChar*>(decomposed.data()), needed, &status);
  if (U_FAILURE(status)) icu_failed("unorm2_normalize", status);
  for (std::int32_t i = 0; i < needed;) {
    UChar32 c;
    U16_NEXT(decomposed.data(), i, needed, c);
    keep(c);
  }
}

}  // namespace embedding::text::bert
