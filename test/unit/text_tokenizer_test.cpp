// Tokeniser rules (GloVe / Penn Treebank style): one test per rule.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/text/tokenizer.h"
#include "core/text/utf8.h"
#include "probes.h"

namespace embedding::text {
namespace {

using Tokens = std::vector<std::string>;

std::vector<TokenKind> kinds(std::string_view text) {
  std::vector<TokenKind> result;
  Tokenizer tokenizer(text);
  Token token;
  while (tokenizer.next(&token)) result.push_back(token.kind);
  return result;
}

TEST(Tokenizer, EmptyAndBlankTextHaveNoTokens) {
  EXPECT_EQ(tokenize(""), Tokens{});
  EXPECT_EQ(tokenize(" \t\r\n\x01 "), Tokens{});
  EXPECT_EQ(tokenize("\xc2\xa0\xe2\x80\x83\xe3\x80\x80"), Tokens{});  // NBSP, em space, ideographic
}

TEST(Tokenizer, LowerCasesAsciiAndLatin1GreekCyrillic) {
  EXPECT_EQ(tokenize("The QUICK bRoWn Fox"), (Tokens{"the", "quick", "brown", "fox"}));
  EXPECT_EQ(tokenize("CAFÉ ÀÞ"), (Tokens{"café", "àþ"}));
  EXPECT_EQ(tokenize("ΑΘΗΝΑ МОСКВА ЁЖ"), (Tokens{"αθηνα", "москва", "ёж"}));
  EXPECT_EQ(tokenize("ß 東京"), (Tokens{"ß", "東京"}));  // passed through unchanged
}

TEST(Tokenizer, InvalidUtf8PassesThroughInsideWords) {
  EXPECT_EQ(tokenize("ab\xff\xfe"
                     "cd e"),
            (Tokens{"ab\xff\xfe"
                    "cd",
                    "e"}));
  EXPECT_EQ(tokenize("x\xe2\x82"), (Tokens{"x\xe2\x82"}));  // truncated sequence at the end
}

TEST(Tokenizer, PunctuationBecomesSingleTokens) {
  EXPECT_EQ(tokenize("Hello, world!"), (Tokens{"hello", ",", "world", "!"}));
  EXPECT_EQ(tokenize("(a)[b]{c}"), (Tokens{"(", "a", ")", "[", "b", "]", "{", "c", "}"}));
  EXPECT_EQ(tokenize("wait..."), (Tokens{"wait", ".", ".", "."}));
  EXPECT_EQ(tokenize("$5 50%"), (Tokens{"$", "5", "50", "%"}));
  EXPECT_EQ(tokenize("\"quoted\""), (Tokens{"\"", "quoted", "\""}));
  EXPECT_EQ(tokenize("a_b"), (Tokens{"a", "_", "b"}));
  EXPECT_EQ(kinds("a,"), (std::vector<TokenKind>{TokenKind::kWord, TokenKind::kPunctuation}));
}

TEST(Tokenizer, UnicodePunctuationAndSymbols) {
  EXPECT_EQ(tokenize("“Yes”—no…"), (Tokens{"“", "yes", "”", "—", "no", "…"}));
  EXPECT_EQ(tokenize("€5 £3 ¥2"), (Tokens{"€", "5", "£", "3", "¥", "2"}));
  EXPECT_EQ(tokenize("¿qué?"), (Tokens{"¿", "qué", "?"}));
}

TEST(Tokenizer, SplitsNegationClitic) {
  EXPECT_EQ(tokenize("don't"), (Tokens{"do", "n't"}));
  EXPECT_EQ(tokenize("Can't WON'T isn't"), (Tokens{"ca", "n't", "wo", "n't", "is", "n't"}));
  EXPECT_EQ(tokenize("don’t"), (Tokens{"do", "n't"}));  // U+2019 apostrophe
  EXPECT_EQ(kinds("don't"), (std::vector<TokenKind>{TokenKind::kWord, TokenKind::kClitic}));
}

TEST(Tokenizer, SplitsOtherClitics) {
  EXPECT_EQ(tokenize("it's"), (Tokens{"it", "'s"}));
  EXPECT_EQ(tokenize("they're we've you'll I'd I'm"),
            (Tokens{"they", "'re", "we", "'ve", "you", "'ll", "i", "'d", "i", "'m"}));
  EXPECT_EQ(tokenize("John's car."), (Tokens{"john", "'s", "car", "."}));
  EXPECT_EQ(tokenize("IT'S"), (Tokens{"it", "'s"}));
  EXPECT_EQ(tokenize("it’s"), (Tokens{"it", "'s"}));
  EXPECT_EQ(tokenize("the 1990's"), (Tokens{"the", "1990", "'s"}));
}

TEST(Tokenizer, OtherApostrophesStayOrSplitAsQuotes) {
  EXPECT_EQ(tokenize("O'Neill rock'n'roll"), (Tokens{"o'neill", "rock'n'roll"}));
  EXPECT_EQ(tokenize("dogs' 'quote'"), (Tokens{"dogs", "'", "'", "quote", "'"}));
  EXPECT_EQ(tokenize("it'sa"), (Tokens{"it'sa"}));  // not a clitic: more letters follow
  EXPECT_EQ(tokenize("’tis"), (Tokens{"’", "tis"}));
}

TEST(Tokenizer, KeepsNumbersWhole) {
  EXPECT_EQ(tokenize("pi is 3.14, not 1,000."),
            (Tokens{"pi", "is", "3.14", ",", "not", "1,000", "."}));
  EXPECT_EQ(tokenize("1,000,000.50"), (Tokens{"1,000,000.50"}));
  EXPECT_EQ(tokenize("end.5 3."), (Tokens{"end", ".", "5", "3", "."}));
  EXPECT_EQ(tokenize("-3"), (Tokens{"-", "3"}));
  EXPECT_EQ(kinds("3.14 mp3"), (std::vector<TokenKind>{TokenKind::kNumber, TokenKind::kWord}));
}

TEST(Tokenizer, KeepsHyphenatedWordsWholeForLookUp) {
  EXPECT_EQ(tokenize("a well-known state-of-the-art idea"),
            (Tokens{"a", "well-known", "state-of-the-art", "idea"}));
  EXPECT_EQ(kinds("well-known"), (std::vector<TokenKind>{TokenKind::kHyphenated}));
  EXPECT_EQ(tokenize("x - y -- z- -w"), (Tokens{"x", "-", "y", "-", "-", "z", "-", "-", "w"}));
  EXPECT_EQ(tokenize("e\xe2\x80\x90mail"), (Tokens{"e-mail"}));  // U+2010 hyphen
  EXPECT_EQ(tokenize("mother-in-law's"), (Tokens{"mother-in-law", "'s"}));
}

TEST(Tokenizer, HyphenPartsIterateOverTheWords) {
  std::vector<std::string> parts;
  std::size_t pos = 0;
  std::string_view part;
  while (next_hyphen_part("state-of-the-art", &pos, &part)) parts.emplace_back(part);
  EXPECT_EQ(parts, (std::vector<std::string>{"state", "of", "the", "art"}));
  pos = 0;
  EXPECT_TRUE(next_hyphen_part("single", &pos, &part));
  EXPECT_EQ(part, "single");
  EXPECT_FALSE(next_hyphen_part("single", &pos, &part));
}

TEST(Tokenizer, FoldCaseMatchesTheTokeniser) {
  EXPECT_EQ(fold_case("Paris"), "paris");
  EXPECT_EQ(fold_case("ÉCOLE"), "école");
  EXPECT_EQ(fold_case("don't"), "don't");  // no splitting, only case
}

TEST(Utf8, ValidationIsStrict) {
  EXPECT_TRUE(is_valid_utf8_text("plain café 東京 😀"));
  EXPECT_FALSE(is_valid_utf8_text(std::string("a\0b", 3)));  // NUL
  EXPECT_FALSE(is_valid_utf8_text("\xc0\xaf"));              // overlong
  EXPECT_FALSE(is_valid_utf8_text("\xed\xa0\x80"));          // surrogate
  EXPECT_FALSE(is_valid_utf8_text("\xf4\x90\x80\x80"));      // > U+10FFFF
  EXPECT_FALSE(is_valid_utf8_text("\xe2\x82"));              // truncated
  EXPECT_FALSE(is_valid_utf8_text("\x80"));                  // stray continuation
}

TEST(ForMessage, ReplacesInvalidBytesAndControlsAndBoundsTheLength) {
  EXPECT_EQ(for_message("plain é"), "plain é");
  EXPECT_EQ(for_message("a\xFF\xC0\x80"
                        "b"),
            "a\uFFFD\uFFFD\uFFFDb");  // stray, overlong
  EXPECT_EQ(for_message(std::string_view("n\0l\n\x1B[31m", 9)), "n\uFFFDl\uFFFD\uFFFD[31m");
  EXPECT_EQ(for_message(std::string(1000, 'x'), 10), "xxxxxxxxxx...");
  // Cut at a character boundary: "é" is two bytes and does not fit in the last one.
  EXPECT_EQ(for_message("abcé", 4), "abc...");
  EXPECT_TRUE(is_valid_utf8_text(for_message("\xF4\x90\x80\x80 \xED\xA0\x80")));
}

}  // namespace
}  // namespace embedding::text

namespace embedding::text {
namespace {

// A word longer than kMaxTokenBytes comes cut: a plain one as one token whose text is left out,
// a hyphenated one in pieces of whole parts (a part too long itself left out); the rules after
// the word (clitics) still apply, and the scan polls interrupts.
TEST(Tokenizer, LongWordsAreCut) {
  struct Seen {
    std::string text;
    TokenKind kind;
    bool cut, continued;
  };
  const auto scan = [](std::string_view text) {
    std::vector<Seen> seen;
    Tokenizer tokenizer(text);
    Token token;
    while (tokenizer.next(&token))
      seen.push_back({std::string(token.text), token.kind, token.cut, token.continued});
    return seen;
  };
  const std::string x(kMaxTokenBytes + 1, 'x');
  auto seen = scan("a " + x + "n't b");
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[1].text, "");
  EXPECT_TRUE(seen[1].cut);
  EXPECT_FALSE(seen[1].continued);
  EXPECT_EQ(seen[2].text, "n't");
  EXPECT_FALSE(seen[2].cut);
  EXPECT_EQ(seen[3].text, "b");
  EXPECT_EQ(scan(std::string(kMaxTokenBytes, 'y'))[0].cut, false);

  std::string hyphenated;
  std::size_t parts = 0;
  while (hyphenated.size() < 3 * kMaxTokenBytes) hyphenated += "Ab-", ++parts;
  seen = scan(hyphenated + x + "-end.");
  ASSERT_GE(seen.size(), 4u);
  std::string joined;
  for (std::size_t i = 0; i + 1 < seen.size(); ++i) {
    EXPECT_EQ(seen[i].kind, TokenKind::kHyphenated);
    EXPECT_TRUE(seen[i].cut);
    EXPECT_EQ(seen[i].continued, i > 0);
    EXPECT_LE(seen[i].text.size(), 2 * kMaxTokenBytes + 1);
    joined += seen[i].text + "-";
  }
  EXPECT_EQ(seen.back().text, ".");
  std::string expected;
  for (std::size_t i = 0; i < parts; ++i) expected += "ab-";
  EXPECT_EQ(joined, expected + "-end-");  // the long part left out
}

TEST(Tokenizer, LongWordPollsInterrupts) {
  const std::string word(10u << 20, 'x');
  const embedding::testing::CancelAtPoll cancel(10);
  EXPECT_THROW(tokenize(word), Error);
}

}  // namespace
}  // namespace embedding::text
