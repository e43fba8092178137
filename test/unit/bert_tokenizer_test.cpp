// BERT's basic tokenizer and WordPiece: each rule (clean-up, whitespace, CJK, lower-casing,
// accents, punctuation, the 100-character limit, longest match first, early stop).
#include "core/text/bert_tokenizer.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace embedding::text {
namespace {

using Tokens = std::vector<std::string>;

TEST(BertBasicTokens, CleansSplitsAndLowercases) {
  const BertNormalization uncased;
  EXPECT_EQ(bert_basic_tokens("Hello, World!", uncased), (Tokens{"hello", ",", "world", "!"}));
  // Control characters and U+FFFD vanish; tab, newline, NBSP and U+2028 separate words.
  EXPECT_EQ(bert_basic_tokens("a\x01"
                              "b\xEF\xBF\xBD"
                              "c\td\ne\xC2\xA0"
                              "f\xE2\x80\xA8g",
                              uncased),
            (Tokens{"abc", "d", "e", "f", "g"}));
  EXPECT_EQ(bert_basic_tokens(" \t\n ", uncased), Tokens{});
  EXPECT_EQ(bert_basic_tokens("", uncased), Tokens{});
  // Invalid UTF-8 counts as U+FFFD and is removed.
  EXPECT_EQ(bert_basic_tokens("ab\xFF"
                              "cd",
                              uncased),
            (Tokens{"abcd"}));
}

TEST(BertBasicTokens, AccentsCaseAndPunctuation) {
  BertNormalization cased{false, false, true};
  EXPECT_EQ(bert_basic_tokens("Café déjà-vu", cased), (Tokens{"Café", "déjà", "-", "vu"}));
  BertNormalization lower_keep_accents{true, false, true};
  EXPECT_EQ(bert_basic_tokens("Café ÉTÉ", lower_keep_accents), (Tokens{"café", "été"}));
  const BertNormalization uncased;
  EXPECT_EQ(bert_basic_tokens("Café ÉTÉ Ñandú", uncased), (Tokens{"cafe", "ete", "nandu"}));
  // Unicode punctuation (categories P*) and ASCII symbols split; other symbols do not.
  EXPECT_EQ(bert_basic_tokens("“quoted”… ¿qué? $5 a+b 3°", uncased),
            (Tokens{"“", "quoted", "”", "…", "¿", "que", "?", "$", "5", "a", "+", "b", "3°"}));
}

TEST(BertBasicTokens, CjkIdeographsStandAlone) {
  const BertNormalization uncased;
  EXPECT_EQ(bert_basic_tokens("我爱abc北京", uncased), (Tokens{"我", "爱", "abc", "北", "京"}));
  // Hiragana is not in BERT's CJK blocks; accent stripping takes the dakuten off "が" (NFD gives
  // "か" and a non-spacing mark), as BERT's does.
  EXPECT_EQ(bert_basic_tokens("ひらがな漢", uncased), (Tokens{"ひらかな", "漢"}));
  BertNormalization no_cjk{true, true, false};
  EXPECT_EQ(bert_basic_tokens("我爱abc", no_cjk), (Tokens{"我爱abc"}));
}

TEST(BertBasicTokens, StopsWhenAsked) {
  int seen = 0;
  bert_basic_tokens("one two three four", BertNormalization{},
                    [&](std::string_view) { return ++seen < 2; });
  EXPECT_EQ(seen, 2);
}

TEST(BertBasicTokens, LowerCasesTheTextFirst) {
  const BertNormalization text_only{false, false, true, true};
  EXPECT_EQ(bert_basic_tokens("HeLLo ÀÉÎ", text_only), (Tokens{"hello", "àéî"}));
  // Final sigma, as Python's str.lower() of the whole text: before the clean-up (U+0001 is
  // neither cased nor case-ignorable, so "Σ" before it ends a word) and across '.', which is
  // case-ignorable. Lower-casing words after the clean-up sees "ΑΣΒ" instead.
  const std::string greek = "ΟΔΟΣ ΟΔΟΣ. Σ ΑΣ\x01Β";
  EXPECT_EQ(bert_basic_tokens(greek, text_only), (Tokens{"οδος", "οδος", ".", "σ", "αςβ"}));
  const BertNormalization words_only{true, false, true, false};
  EXPECT_EQ(bert_basic_tokens(greek, words_only), (Tokens{"οδος", "οδος", ".", "σ", "ασβ"}));
}

TEST(WordPiece, LongestMatchFirstAndUnknown) {
  const std::map<std::string, std::uint32_t, std::less<>> vocab = {
      {"un", 1}, {"##aff", 3}, {"##able", 4}, {"é", 6}, {"##é", 7}, {"unaf", 8}};
  const VocabLookup lookup = [&](std::string_view piece) -> std::optional<std::uint32_t> {
    auto it = vocab.find(piece);
    if (it == vocab.end()) return std::nullopt;
    return it->second;
  };
  std::vector<std::uint32_t> ids;
  wordpiece("unable", lookup, 0, ids);
  EXPECT_EQ(ids, (std::vector<std::uint32_t>{1, 4}));
  ids.clear();
  // Greedy: "unaf" is the longest first piece, "##fable" then has no match, and WordPiece does
  // not back off to "un" + "##aff" + ...: the word is unknown.
  wordpiece("unaffable", lookup, 0, ids);
  EXPECT_EQ(ids, (std::vector<std::uint32_t>{0}));
  ids.clear();
  wordpiece("unx", lookup, 0, ids);
  EXPECT_EQ(ids, (std::vector<std::uint32_t>{0}));
  ids = {9};
  wordpiece("éé", lookup, 0, ids);  // pieces end on character boundaries
  EXPECT_EQ(ids, (std::vector<std::uint32_t>{9, 6, 7}));
  ids.clear();
  wordpiece(std::string(101, 'a'), lookup, 0, ids);
  EXPECT_EQ(ids, (std::vector<std::uint32_t>{0}));
}

}  // namespace
}  // namespace embedding::text
