// External-format loaders (word2vec text/binary, GloVe, fastText .vec, wink JSON) and the JSON
// pull parser: the same toy vectors from every format, and malformed input -> kCorruptData.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/io/json_reader.h"
#include "core/io/mapped_file.h"
#include "core/models/loaders.h"
#include "core/models/model.h"
#include "core/models/model_builder.h"
#include "core/text/utf8.h"

namespace embedding::models {
namespace {

std::string fixture(const char* name) {
  return io::read_file(std::string(EMB_SOURCE_DIR "/test/data/") + name);
}

const std::vector<std::string> kToyWords = {"the",        "man", "woman", "king",  "queen",
                                            "cat",        "dog", "blue",  "green", "café",
                                            "well-known", "do",  "n't",   "'s"};

ErrorCode load_error(std::string_view bytes, SourceFormat format) {
  try {
    load_word_vectors(bytes, format);
  } catch (const Error& error) {
    return error.code();
  }
  return ErrorCode::kInternal;  // loaded
}

std::string load_message(std::string_view bytes, SourceFormat format) {
  try {
    load_word_vectors(bytes, format);
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

TEST(ModelLoaders, EveryFormatLoadsTheSameToyVectors) {
  const WordVectors reference =
      load_word_vectors(fixture("models_toy.w2v.txt"), SourceFormat::kWord2vecText);
  EXPECT_EQ(reference.words, kToyWords);
  ASSERT_EQ(reference.dims, 4u);
  ASSERT_EQ(reference.values.size(), 14u * 4);
  EXPECT_EQ(reference.values[4 * 3 + 0], 1.0f);   // king
  EXPECT_EQ(reference.values[4 * 1 + 3], 0.05f);  // man
  EXPECT_EQ(reference.values[4 * 9 + 2], -0.4f);  // café
  const std::vector<std::byte> reference_file = build_model(reference);
  const struct {
    const char* file;
    SourceFormat format;
  } cases[] = {{"models_toy.w2v.bin", SourceFormat::kWord2vecBinary},
               {"models_toy.glove.txt", SourceFormat::kGloveText},
               {"models_toy.vec", SourceFormat::kFasttextVec},
               {"models_toy.wink.json", SourceFormat::kWinkJson}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    const WordVectors loaded = load_word_vectors(fixture(c.file), c.format);
    EXPECT_EQ(loaded.words, reference.words);
    EXPECT_EQ(loaded.dims, reference.dims);
    EXPECT_EQ(loaded.values, reference.values);
    EXPECT_EQ(build_model(loaded), reference_file);
  }
}

TEST(ModelLoaders, LoadsFromAFileByPath) {
  const WordVectors loaded = load_word_vectors_file(EMB_SOURCE_DIR "/test/data/models_toy.w2v.bin",
                                                    SourceFormat::kWord2vecBinary);
  EXPECT_EQ(loaded.words, kToyWords);
  EXPECT_THROW(load_word_vectors_file("/nonexistent/file", SourceFormat::kGloveText), Error);
}

TEST(ModelLoaders, FormatNames) {
  EXPECT_EQ(parse_source_format("word2vec"), SourceFormat::kWord2vecText);
  EXPECT_EQ(parse_source_format("word2vec-binary"), SourceFormat::kWord2vecBinary);
  EXPECT_EQ(parse_source_format("glove"), SourceFormat::kGloveText);
  EXPECT_EQ(parse_source_format("fasttext"), SourceFormat::kFasttextVec);
  EXPECT_EQ(parse_source_format("wink"), SourceFormat::kWinkJson);
  EXPECT_FALSE(parse_source_format("GloVe").has_value());
  EXPECT_FALSE(parse_source_format("").has_value());
}

TEST(ModelLoaders, DuplicatesKeepTheFirstAndInvalidWordsAreDropped) {
  const WordVectors loaded =
      load_word_vectors("4 2\na 1 2\nb 3 4\na 5 6\nbad\xff 7 8\n", SourceFormat::kWord2vecText);
  EXPECT_EQ(loaded.words, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(loaded.values, (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(loaded.skipped_duplicates, 1u);
  EXPECT_EQ(loaded.skipped_invalid, 1u);
}

TEST(ModelLoaders, Word2vecTextErrors) {
  const auto f = SourceFormat::kWord2vecText;
  EXPECT_EQ(load_error("", f), ErrorCode::kCorruptData);
  EXPECT_EQ(load_error("2 2\na 1 2\n", f), ErrorCode::kCorruptData);           // truncated
  EXPECT_EQ(load_error("1 2\na 1 2\nb 3 4\n", f), ErrorCode::kCorruptData);    // too many
  EXPECT_EQ(load_error("1 2\na 1\n", f), ErrorCode::kCorruptData);             // too few values
  EXPECT_EQ(load_error("1 2\na 1 2 3\n", f), ErrorCode::kCorruptData);         // too many values
  EXPECT_EQ(load_error("1 2\na 1 x\n", f), ErrorCode::kCorruptData);           // not a number
  EXPECT_EQ(load_error("1 2\na 1 nan\n", f), ErrorCode::kCorruptData);         // NaN
  EXPECT_EQ(load_error("1 2\na 1 1e39\n", f), ErrorCode::kCorruptData);        // overflow
  EXPECT_EQ(load_error("one 2\na 1 2\n", f), ErrorCode::kCorruptData);         // bad header
  EXPECT_EQ(load_error("1 0\na\n", f), ErrorCode::kCorruptData);               // zero dims
  EXPECT_EQ(load_error("1 16001\na 1\n", f), ErrorCode::kProgramLimit);        // too many dims
  EXPECT_EQ(load_error("1000000000 100\na 1\n", f), ErrorCode::kCorruptData);  // lying header
  EXPECT_NE(load_message("2 2\na 1 2\nb 3 y\n", f).find("line 3"), std::string::npos);
  // CRLF line ends, tabs and blank lines are tolerated.
  const WordVectors loaded = load_word_vectors("2 2\r\na\t1 2\r\n\r\nb 3 4\r\n", f);
  EXPECT_EQ(loaded.words, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(loaded.values, (std::vector<float>{1, 2, 3, 4}));
}

TEST(ModelLoaders, FasttextVecNeedsItsHeaderLine) {
  const auto f = SourceFormat::kFasttextVec;
  EXPECT_EQ(load_word_vectors("1 3\nword 0.5 -1 2\n", f).values, (std::vector<float>{0.5, -1, 2}));
  EXPECT_EQ(load_error("word 0.5 -1 2\n", f), ErrorCode::kCorruptData);
}

TEST(ModelLoaders, GloveTakesDimsFromTheFirstLineAndAllowsSpacesInWords) {
  const auto f = SourceFormat::kGloveText;
  const WordVectors loaded = load_word_vectors("a 1 2 3\n. . . 4 5 6\nb 7 8 9", f);
  EXPECT_EQ(loaded.dims, 3u);
  EXPECT_EQ(loaded.words, (std::vector<std::string>{"a", ". . .", "b"}));
  EXPECT_EQ(loaded.values, (std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(load_error("a 1 2 3\nb 4 5\n", f), ErrorCode::kCorruptData);
  EXPECT_EQ(load_error("a\n", f), ErrorCode::kCorruptData);
  EXPECT_EQ(load_error("\n\n", f), ErrorCode::kCorruptData);
  EXPECT_EQ(load_error("a 1 2 3\nb 4 5 inf\n", f), ErrorCode::kCorruptData);
}

TEST(ModelLoaders, Word2vecBinaryTruncatedAnywhereIsCorruptData) {
  const std::string bytes = fixture("models_toy.w2v.bin");
  const auto f = SourceFormat::kWord2vecBinary;
  // Every prefix that cuts into a word or a vector fails; only the final "\n" is optional.
  for (std::size_t length = 0; length + 1 < bytes.size(); ++length) {
    EXPECT_EQ(load_error(bytes.substr(0, length), f), ErrorCode::kCorruptData) << length;
  }
  EXPECT_EQ(load_word_vectors(bytes.substr(0, bytes.size() - 1), f).words, kToyWords);
  EXPECT_EQ(load_error(bytes + "x", f), ErrorCode::kCorruptData);  // trailing garbage
  std::string nan_vector = "1 1\na ";
  const float nan = NAN;
  nan_vector.append(reinterpret_cast<const char*>(&nan), 4);
  EXPECT_EQ(load_error(nan_vector, f), ErrorCode::kCorruptData);
  EXPECT_EQ(load_error("100000000 300\na ", f), ErrorCode::kCorruptData);  // lying header
}

TEST(ModelLoaders, WinkJsonChecksItsStructure) {
  const auto f = SourceFormat::kWinkJson;
  const std::string good = fixture("models_toy.wink.json");
  // Every truncation of the document is an error.
  for (std::size_t length = 0; length < good.size() - 1; ++length) {
    EXPECT_EQ(load_error(good.substr(0, length), f), ErrorCode::kCorruptData) << length;
  }
  const auto doc = [](const std::string& body) { return "{" + body + "}"; };
  const std::string header = R"("l2NormIndex":2,"wordIndex":3,"size":2,"dimensions":2,)";
  const WordVectors two = load_word_vectors(
      doc(header + R"("vectors":{"b":[0,2,2,1],"a":[3,4,5,0]},"extra":[{"x":[]}])"), f);
  EXPECT_EQ(two.words, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(two.values, (std::vector<float>{3, 4, 0, 2}));
  // Wrong norm, index out of range or repeated, wrong lengths, words that disagree.
  EXPECT_EQ(load_error(doc(header + R"("vectors":{"b":[0,2,3,1],"a":[3,4,5,0]})"), f),
            ErrorCode::kCorruptData);
  EXPECT_EQ(load_error(doc(header + R"("vectors":{"b":[0,2,2,2],"a":[3,4,5,0]})"), f),
            ErrorCode::kCorruptData);
  EXPECT_EQ(load_error(doc(header + R"("vectors":{"b":[0,2,2,0],"a":[3,4,5,0]})"), f),
            ErrorCode::kCorruptData);
  EXPECT_EQ(load_error(doc(header + R"("vectors":{"b":[0,2,2,1],"a":[3,4,5]})"), f),
            ErrorCode::kCorruptData);
  EXPECT_EQ(load_error(doc(header + R"("vectors":{"b":[0,2,2,1]})"), f), ErrorCode::kCorruptData);
  EXPECT_EQ(
      load_error(doc(header + R"("words":["a","c"],"vectors":{"b":[0,2,2,1],"a":[3,4,5,0]})"), f),
      ErrorCode::kCorruptData);
  EXPECT_EQ(
      load_error(doc(R"("vectors":{"b":[0,2,2,1]},)" + header.substr(0, header.size() - 1)), f),
      ErrorCode::kCorruptData);  // header fields after the vectors
  EXPECT_EQ(load_error(doc(header + R"("vectors":{"b":[0,2,2,1],"a":[3,4,5,0]})") + "x", f),
            ErrorCode::kCorruptData);
  EXPECT_EQ(load_error("[]", f), ErrorCode::kCorruptData);
  EXPECT_EQ(load_error(R"({"size":1e999999999})", f), ErrorCode::kCorruptData);
  EXPECT_EQ(load_error(doc(R"("l2NormIndex":2,"wordIndex":3,"size":100000000,"dimensions":2,)"
                           R"("vectors":{}")"),
                       f),
            ErrorCode::kCorruptData);  // lying size
}

std::vector<std::string> json_events(std::string_view input) {
  io::JsonReader reader(input);
  std::vector<std::string> events;
  for (;;) {
    const auto event = reader.next();
    switch (event) {
      case io::JsonReader::Event::kBeginObject:
        events.push_back("{");
        break;
      case io::JsonReader::Event::kEndObject:
        events.push_back("}");
        break;
      case io::JsonReader::Event::kBeginArray:
        events.push_back("[");
        break;
      case io::JsonReader::Event::kEndArray:
        events.push_back("]");
        break;
      case io::JsonReader::Event::kKey:
        events.push_back("k:" + std::string(reader.text()));
        break;
      case io::JsonReader::Event::kString:
        events.push_back("s:" + std::string(reader.text()));
        break;
      case io::JsonReader::Event::kNumber:
        events.push_back("n:" + std::string(reader.text()));
        break;
      case io::JsonReader::Event::kTrue:
        events.push_back("true");
        break;
      case io::JsonReader::Event::kFalse:
        events.push_back("false");
        break;
      case io::JsonReader::Event::kNull:
        events.push_back("null");
        break;
      case io::JsonReader::Event::kEnd:
        return events;
    }
  }
}

TEST(JsonReader, EventsAndEscapes) {
  EXPECT_EQ(
      json_events(
          R"( {"a\"b": [1, -2.5e+3, "x\u00e9\ud83d\ude00\n", true, false, null, {}], "c":[]} )"),
      (std::vector<std::string>{"{", "k:a\"b", "[", "n:1", "n:-2.5e+3",
                                "s:x\xc3\xa9\xf0\x9f\x98\x80\n", "true", "false", "null", "{", "}",
                                "]", "k:c", "[", "]", "}"}));
  EXPECT_EQ(json_events("0"), (std::vector<std::string>{"n:0"}));
}

TEST(JsonReader, SyntaxErrorsAreCorruptData) {
  for (const char* bad :
       {"",      "{",       "[1,]",      "[1 2]",       "{\"a\" 1}",   "{\"a\":1,}",
        "{1:2}", "[01]",    "[1.]",      "[.5]",        "[-]",         "[1e]",
        "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"a\nb\"",
        "[tru]", "[]]",     "{}{}",      "[1]x",        "{\"a\":}"}) {
    try {
      json_events(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::kCorruptData) << bad;
    }
  }
  std::string deep(io::JsonReader::kMaxDepth + 1, '[');
  EXPECT_THROW(json_events(deep + std::string(io::JsonReader::kMaxDepth + 1, ']')), Error);
  std::string ok_depth(io::JsonReader::kMaxDepth, '[');
  EXPECT_EQ(json_events(ok_depth + std::string(io::JsonReader::kMaxDepth, ']')).size(),
            2 * io::JsonReader::kMaxDepth);
}

TEST(JsonReader, SkipValueSkipsNestedContainers) {
  io::JsonReader reader(R"({"skip":{"a":[1,{"b":[]}],"c":"}"},"keep":7})");
  ASSERT_EQ(reader.next(), io::JsonReader::Event::kBeginObject);
  ASSERT_EQ(reader.next(), io::JsonReader::Event::kKey);
  reader.skip_value(reader.next());
  ASSERT_EQ(reader.next(), io::JsonReader::Event::kKey);
  EXPECT_EQ(reader.text(), "keep");
  ASSERT_EQ(reader.next(), io::JsonReader::Event::kNumber);
  EXPECT_EQ(reader.text(), "7");
  EXPECT_EQ(reader.next(), io::JsonReader::Event::kEndObject);
  EXPECT_EQ(reader.next(), io::JsonReader::Event::kEnd);
}

TEST(LoaderErrors, TextFromTheFileIsValidUtf8AndBounded) {
  const std::string bad_value = "\xFF\xFE" + std::string(5000, '9') + "x";
  for (const SourceFormat format : {SourceFormat::kGloveText, SourceFormat::kFasttextVec}) {
    const std::string input = (format == SourceFormat::kGloveText ? "" : "1 2\n") +
                              std::string("word 1.0 ") + bad_value + "\n";
    try {
      load_word_vectors(input, format);
      ADD_FAILURE() << "a bad value was accepted";
    } catch (const Error& error) {
      EXPECT_TRUE(text::is_valid_utf8_text(error.what())) << error.what();
      EXPECT_LT(std::string(error.what()).size(), 200u);
    }
  }
}

}  // namespace
}  // namespace embedding::models
