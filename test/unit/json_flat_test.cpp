// The configuration readers of the sentence-transformers loader: JsonFlat (paths, depth, kinds,
// wanted paths with bounded memory and work) and parse_vocab (line endings, padding, limits).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/encoder/json_flat.h"
#include "core/encoder/st_loader.h"
#include "probes.h"

namespace embedding::encoder {
namespace {

using embedding::testing::code_of;

// ---- JsonFlat ------------------------------------------------------------------------------

TEST(JsonFlatTest, PathsDepthAndKinds) {
  const std::string text = R"({"a": {"b": 5, "c": "x\u00e9", "d": {"e": true, "f": {"g": 1}}},
    "list": [{"type": "T"}, 2, [3]], "n": null, "max": 4294967295, "big": 4294967296,
    "neg": -1, "frac": 1.5, "exp": 1e3, "long": 00000000001})";
  // A leading zero is not JSON: the whole document is refused.
  EXPECT_EQ(code_of([&] { JsonFlat(text, "c.json"); }), ErrorCode::kCorruptData);
  const std::string valid = text.substr(0, text.find(", \"long\"")) + "}";
  const JsonFlat json(valid, "c.json");
  EXPECT_EQ(json.uint("a/b"), 5u);
  EXPECT_EQ(json.string("a/c"), "x\xC3\xA9");
  EXPECT_EQ(json.boolean("a/d/e"), true);
  EXPECT_FALSE(json.has("a/d/f/g"));  // deeper than 3
  EXPECT_EQ(json.string("list/0/type"), "T");
  EXPECT_EQ(json.uint("list/1"), 2u);
  EXPECT_EQ(json.uint("list/2/0"), 3u);
  EXPECT_EQ(json.uint("max"), 4294967295u);
  EXPECT_EQ(json.number("frac"), 1.5);
  EXPECT_EQ(json.number("exp"), 1000.0);
  // Null and absent both read as nullopt, whatever the kind asked for.
  EXPECT_TRUE(json.has("n"));
  EXPECT_EQ(json.string("n"), std::nullopt);
  EXPECT_EQ(json.uint("n"), std::nullopt);
  EXPECT_EQ(json.boolean("n"), std::nullopt);
  EXPECT_EQ(json.number("missing"), std::nullopt);
  EXPECT_EQ(json.uint("a"), std::nullopt);  // an object is no value
  const ErrorCode corrupt = ErrorCode::kCorruptData;
  EXPECT_EQ(code_of([&] { json.uint("a/c"); }), corrupt);
  EXPECT_EQ(code_of([&] { json.uint("big"); }), corrupt);
  EXPECT_EQ(code_of([&] { json.uint("neg"); }), corrupt);
  EXPECT_EQ(code_of([&] { json.uint("frac"); }), corrupt);
  EXPECT_EQ(code_of([&] { json.uint("exp"); }), corrupt);
  EXPECT_EQ(code_of([&] { json.uint("a/d/e"); }), corrupt);
  EXPECT_EQ(code_of([&] { json.string("a/b"); }), corrupt);
  EXPECT_EQ(code_of([&] { json.boolean("a/c"); }), corrupt);
  EXPECT_EQ(code_of([&] { json.number("a/d/e"); }), corrupt);
  // A top-level array (modules.json), and a shallower limit.
  const JsonFlat modules(R"([{"type": "m.Transformer", "path": ""}, {"type": "m.Pooling"}])", "m");
  EXPECT_EQ(modules.string("0/type"), "m.Transformer");
  EXPECT_EQ(modules.string("0/path"), "");
  EXPECT_EQ(modules.string("1/type"), "m.Pooling");
  EXPECT_FALSE(modules.has("2/type"));
  const JsonFlat shallow(valid, "c.json", 2);
  EXPECT_EQ(shallow.uint("a/b"), 5u);
  EXPECT_FALSE(shallow.has("a/d/e"));
  EXPECT_FALSE(shallow.has("list/2/0"));
}

// A tokenizer.json with a huge vocabulary and long strings: only the wanted values are kept, the
// rest is skipped with small buffers and interrupts polled; too many values are a program limit.
TEST(JsonFlatTest, WantedPathsBoundMemoryAndWork) {
  std::string text = R"({"normalizer": {"type": "BertNormalizer", "lowercase": false},
    "added_tokens": [{"content": ")" +
                     std::string(4u << 20, 'y') + R"("}],
    "model": {"type": "WordPiece", "vocab": {)";
  for (int i = 0; i < 200000; ++i) text += (i ? ",\"w" : "\"w") + std::to_string(i) + "\": 1";
  text += "}}}";
  {
    embedding::testing::AllocProbe probe;
    const JsonFlat json(text, "tokenizer.json", 3, {"normalizer", "model/type"});
    EXPECT_LT(probe.largest(), 64u << 10);
    EXPECT_EQ(json.string("normalizer/type"), "BertNormalizer");
    EXPECT_EQ(json.boolean("normalizer/lowercase"), false);
    EXPECT_EQ(json.string("model/type"), "WordPiece");
    EXPECT_FALSE(json.has("model/vocab/w1"));
    EXPECT_FALSE(json.has("added_tokens/0/content"));
  }
  EXPECT_EQ(code_of([&] { JsonFlat(text, "tokenizer.json"); }), ErrorCode::kProgramLimit);
  EXPECT_EQ(code_of([&] { JsonFlat(text, "tokenizer.json", 3, {"added_tokens"}); }),
            ErrorCode::kProgramLimit);  // a 4 MB value
  const embedding::testing::CancelAtPoll cancel(10);
  EXPECT_EQ(code_of([&] { JsonFlat(text, "tokenizer.json", 3, {"model/type"}); }),
            ErrorCode::kCancelled);
}

// ---- parse_vocab ---------------------------------------------------------------------------

TEST(ParseVocabTest, LinesEndingsPaddingAndLimits) {
  using V = std::vector<std::string>;
  EXPECT_EQ(parse_vocab("a\nb\r\nc", 5, "v"), (V{"a", "b", "c", "", ""}));
  EXPECT_EQ(parse_vocab("a\nb\n", 2, "v"), (V{"a", "b"}));  // a final newline ends the last line
  EXPECT_EQ(parse_vocab("a\n\n\r\nb", 4, "v"), (V{"a", "", "", "b"}));
  EXPECT_EQ(parse_vocab("a\r\r\nx\ry\r", 3, "v"), (V{"a\r", "x\ry", ""}));  // one \r only
  EXPECT_EQ(parse_vocab("\n", 1, "v"), (V{""}));
  EXPECT_EQ(parse_vocab("", 3, "v"), (V{"", "", ""}));
  EXPECT_EQ(parse_vocab("##é\n中", 2, "v"), (V{"##é", "中"}));
  const auto message = [](std::string_view text, std::uint32_t size) -> std::string {
    try {
      parse_vocab(text, size, "dir/vocab.txt");
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kCorruptData);
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(message("a\nb\xFF\nc", 10), "dir/vocab.txt: line 2 is not valid UTF-8 text");
  EXPECT_EQ(message(std::string_view("a\nb\nc\0", 6), 10),
            "dir/vocab.txt: line 3 is not valid UTF-8 text");
  EXPECT_EQ(message("\xC0\x80", 10), "dir/vocab.txt: line 1 is not valid UTF-8 text");  // overlong
  EXPECT_EQ(message("a\nb\nc", 2), "dir/vocab.txt has 3 entries for vocab_size 2");
  EXPECT_EQ(message("a", 0), "dir/vocab.txt has 1 entries for vocab_size 0");
  // Lines past vocab_size are not kept: 10 million empty lines cost no string objects.
  const std::string empty_lines(10'000'000, '\n');
  embedding::testing::AllocProbe probe;
  EXPECT_EQ(message(empty_lines, 3), "dir/vocab.txt has 10000000 entries for vocab_size 3");
  EXPECT_LT(probe.largest(), 64u << 10);
}

}  // namespace
}  // namespace embedding::encoder
