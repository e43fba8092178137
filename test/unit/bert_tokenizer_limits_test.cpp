// BERT's basic tokenizer one character at a time: the same tokens as lower-casing and decomposing
// whole words with ICU (random texts full of context rules), and bounded work and memory on long
// words: a 10 MB word is one cut token, a run of punctuation stops early, interrupts are polled.
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/text/bert_chars.h"
#include "core/text/bert_tokenizer.h"
#include "core/text/utf8.h"
#include "probes.h"

namespace embedding::text {
namespace {

using Tokens = std::vector<std::string>;

// ---- The reference: whole words through ICU, as the tokenizer did before it streamed --------

std::u16string utf16(const std::u32string& cps) {
  std::u16string out;
  for (char32_t cp : cps) {
    UChar units[2];
    std::int32_t length = 0;
    U16_APPEND_UNSAFE(units, length, static_cast<UChar32>(cp));
    out.append(reinterpret_cast<const char16_t*>(units), length);
  }
  return out;
}

std::u32string utf32(const std::u16string& units) {
  std::u32string out;
  const auto* s = reinterpret_cast<const UChar*>(units.data());
  for (std::int32_t i = 0, n = static_cast<std::int32_t>(units.size()); i < n;) {
    UChar32 cp;
    U16_NEXT(s, i, n, cp);
    out.push_back(static_cast<char32_t>(cp));
  }
  return out;
}

std::u32string icu_lower(const std::u32string& cps) {
  const std::u16string in = utf16(cps);
  std::u16string out(in.size() * 3 + 1, u'\0');
  UErrorCode status = U_ZERO_ERROR;
  const std::int32_t n = u_strToLower(
      reinterpret_cast<UChar*>(out.data()), static_cast<std::int32_t>(out.size()),
      reinterpret_cast<const UChar*>(in.data()), static_cast<std::int32_t>(in.size()), "", &status);
  EXPECT_TRUE(U_SUCCESS(status));
  out.resize(n);
  return utf32(out);
}

std::u32string icu_strip_accents(const std::u32string& cps) {
  const std::u16string in = utf16(cps);
  std::u16string out(in.size() * 8 + 1, u'\0');
  UErrorCode status = U_ZERO_ERROR;
  const std::int32_t n =
      unorm2_normalize(unorm2_getNFDInstance(&status), reinterpret_cast<const UChar*>(in.data()),
                       static_cast<std::int32_t>(in.size()), reinterpret_cast<UChar*>(out.data()),
                       static_cast<std::int32_t>(out.size()), &status);
  EXPECT_TRUE(U_SUCCESS(status));
  out.resize(n);
  std::u32string kept;
  for (char32_t cp : utf32(out))
    if (u_charType(static_cast<UChar32>(cp)) != U_NON_SPACING_MARK) kept.push_back(cp);
  return kept;
}

Tokens reference_tokens(std::string_view text, const BertNormalization& o) {
  std::u32string cps;
  for (std::size_t pos = 0; pos < text.size();) {
    char32_t cp;
    pos += decode_utf8(text, pos, &cp);
    cps.push_back(cp == kInvalidCodePoint ? U'\uFFFD' : cp);
  }
  if (o.lowercase_text) cps = icu_lower(cps);
  Tokens out;
  std::u32string word;
  const auto flush = [&] {
    if (o.lowercase) word = icu_lower(word);
    if (o.strip_accents) word = icu_strip_accents(word);
    std::string piece;
    for (char32_t cp : word) {
      if (!bert::is_punctuation(cp)) {
        append_utf8(cp, piece);
        continue;
      }
      if (!piece.empty()) out.push_back(piece);
      piece.clear();
      append_utf8(cp, piece);
      out.push_back(piece);
      piece.clear();
    }
    if (!piece.empty()) out.push_back(piece);
    word.clear();
  };
  for (char32_t cp : cps) {
    if (cp == 0 || cp == 0xFFFD || bert::is_control(cp)) continue;
    if (bert::is_word_break(cp)) {
      flush();
    } else if (o.chinese_chars && bert::is_cjk(cp)) {
      flush();
      word.push_back(cp);
      flush();
    } else {
      word.push_back(cp);
    }
  }
  flush();
  return out;
}

// The tokenizer's one-character shortcuts (the simple case mapping, a character that does not
// decompose) against ICU's full mappings, for every code point.
TEST(BertChars, OneCharacterMappingsEqualIcuForEveryCodePoint) {
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    const std::u32string one(1, cp);
    std::u32string lowered, stripped;
    bert::append_lower(cp, false, lowered);
    ASSERT_EQ(lowered, icu_lower(one)) << "U+" << std::hex << static_cast<std::uint32_t>(cp);
    bert::append_nfd_without_marks(one, stripped);
    ASSERT_EQ(stripped, icu_strip_accents(one))
        << "U+" << std::hex << static_cast<std::uint32_t>(cp);
  }
}

TEST(BertBasicTokensStreaming, EqualsWholeWordsThroughIcu) {
  // Characters with context rules: sigma and the case-ignorable (' . : U+00AD U+0301 U+0345
  // U+00B7) or not (U+0001, space, '!') characters around it; decompositions and marks of every
  // kind (U+0F73 decomposes to non-starters, U+1D165 and U+1D16D are spacing marks that canonical
  // ordering swaps); İ (two characters in lower case), titlecase, CJK, separators and invalid
  // bytes.
  const std::vector<std::string> alphabet = {"A",
                                             "a",
                                             "Σ",
                                             "σ",
                                             "ς",
                                             ".",
                                             ":",
                                             "'",
                                             "!",
                                             "-",
                                             " ",
                                             "\t",
                                             "\x01",
                                             "\xCC\x81",
                                             "\xCD\x85",
                                             "\xC2\xAD",
                                             "\xC2\xB7",
                                             "É",
                                             "İ",
                                             "ǅ",
                                             "ß",
                                             "中",
                                             "\xE2\x80\xA8",
                                             "\xE0\xBD\xB3",
                                             "\xF0\x9D\x85\xA5",
                                             "\xF0\x9D\x85\xAD",
                                             "\xEF\xBF\xBD",
                                             "\xFF",
                                             "Ω",
                                             "\xCC\xA3"};
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1), length(0, 24);
  for (int trial = 0; trial < 4000; ++trial) {
    std::string text;
    for (std::size_t i = length(rng); i > 0; --i) text += alphabet[pick(rng)];
    const int bits = trial % 16;
    const BertNormalization options{(bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0,
                                    (bits & 8) != 0};
    ASSERT_EQ(bert_basic_tokens(text, options), reference_tokens(text, options))
        << "text \"" << text << "\", options " << bits;
  }
}

// ---- Limits ---------------------------------------------------------------------------------

constexpr std::size_t kTenMegabytes = 10u << 20;
constexpr std::size_t kOneMegabyte = 1u << 20;
// What a bounded tokenizer allocates at most at once (its buffers hold a few characters).
constexpr std::size_t kSmallBuffer = 64u << 10;

TEST(BertBasicTokensLimits, LongWordIsOneCutToken) {
  const std::string text = "Ab!" + std::string(kTenMegabytes, 'x') + "?xΣ. end";
  Tokens tokens;
  testing::AllocProbe probe;
  bert_basic_tokens(
      text, BertNormalization{},
      [&](std::string_view token) {
        tokens.emplace_back(token);
        return true;
      },
      kMaxInputCharsPerWord);
  EXPECT_LT(probe.largest(), kSmallBuffer);
  EXPECT_EQ(tokens, (Tokens{"ab", "!", std::string(101, 'x'), "?", "xς", ".", "end"}));
  std::vector<std::uint32_t> ids;
  wordpiece(
      tokens[2], [](std::string_view) { return std::optional<std::uint32_t>(5); }, 1, ids);
  EXPECT_EQ(ids, std::vector<std::uint32_t>{1});  // [UNK]: over max_input_chars_per_word
}

// 1 MB of one character, each option set: stops after three tokens having read little of it,
// with small buffers (whole-word processing held the word in UTF-32 and UTF-16 several times).
TEST(BertBasicTokensLimits, PunctuationRunStopsEarlyWithSmallBuffers) {
  for (const char* c : {"!", "É", "Σ."}) {
    const std::string one(c);
    std::string text;
    while (text.size() < kOneMegabyte) text += one;
    for (int bits = 0; bits < 16; ++bits) {
      const BertNormalization options{(bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0,
                                      (bits & 8) != 0};
      int seen = 0;
      testing::AllocProbe probe;
      bert_basic_tokens(
          text, options, [&](std::string_view) { return ++seen < 3; }, kMaxInputCharsPerWord);
      EXPECT_LT(probe.largest(), kSmallBuffer) << c << " options " << bits;
      EXPECT_LE(seen, 3);
    }
  }
}

TEST(BertBasicTokensLimits, LongWordPollsInterrupts) {
  for (const char* c : {"x", "É", "!", "'"}) {
    std::string text = "Σ";
    while (text.size() < kTenMegabytes) text += c;
    for (bool lowercase_text : {false, true}) {
      const embedding::testing::CancelAtPoll cancel(10);
      BertNormalization options;
      options.lowercase_text = lowercase_text;
      EXPECT_THROW(bert_basic_tokens(
                       text, options, [](std::string_view) { return true; }, kMaxInputCharsPerWord),
                   Error)
          << c;
    }
  }
}

}  // namespace
}  // namespace embedding::text
