// Unit tests of the vector text and binary codecs: accepted forms, every rejection with its message
// and category, and exact float4 round trips of the formatter.
#include "core/vector/codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/common/error.h"

namespace embedding::vec {
namespace {

std::vector<float> parse(const std::string& text) {
  std::vector<float> out(text_capacity(text.c_str()));
  out.resize(parse_text(text.c_str(), out.data(), static_cast<int>(out.size())));
  return out;
}

std::string format(const std::vector<float>& v) {
  std::string out(v.size() * kMaxElementChars + 2, '\0');
  out.resize(format_text(v.data(), static_cast<int>(v.size()), out.data()));
  return out;
}

void expect_error(const std::string& text, ErrorCode code, const std::string& message,
                  const std::string& detail = "") {
  try {
    parse(text);
    FAIL() << "accepted " << text;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << text;
    EXPECT_EQ(e.what(), message) << text;
    EXPECT_EQ(e.detail(), detail) << text;
  }
}

TEST(CodecText, AcceptsPgvectorForms) {
  EXPECT_EQ(parse("[1,2,3]"), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(parse(" [ 1,  2 ,    3  ] "), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(parse("\t[\n1,\r2\f,\v3]\n"), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(parse("[1.,2.,3.]"), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(parse("[-1,2.5,-3e-2]"), (std::vector<float>{-1, 2.5f, -3e-2f}));
  EXPECT_EQ(parse("[1.5e+38,-1.5e38]"), (std::vector<float>{1.5e38f, -1.5e38f}));
}

TEST(CodecText, UnderflowFlushesToSignedZero) {
  auto v = parse("[1e-46,-1e-46]");
  EXPECT_EQ(v[0], 0.0f);
  EXPECT_FALSE(std::signbit(v[0]));
  EXPECT_TRUE(std::signbit(v[1]));
}

TEST(CodecText, RejectsMalformedLiteralsLikePgvector) {
  const std::string start = "Vector contents must start with \"[\".";
  expect_error("1,2,3", ErrorCode::kInvalidText, "invalid input syntax for type vector: \"1,2,3\"",
               start);
  expect_error("", ErrorCode::kInvalidText, "invalid input syntax for type vector: \"\"", start);
  for (const char* bad :
       {"[", "[ ", "[,", "[,]", "[1,]", "[1a]", "[1,,3]", "[1, ,3]", "[1,2,3", "[hello,1]"})
    expect_error(bad, ErrorCode::kInvalidText,
                 std::string("invalid input syntax for type vector: \"") + bad + "\"");
  expect_error("[1,2,3]9", ErrorCode::kInvalidText,
               "invalid input syntax for type vector: \"[1,2,3]9\"",
               "Junk after closing right brace.");
  expect_error("[]", ErrorCode::kDataException, "vector must have at least 1 dimension");
  expect_error("[ ]", ErrorCode::kDataException, "vector must have at least 1 dimension");
  expect_error("[NaN,1]", ErrorCode::kDataException, "NaN not allowed in vector");
  expect_error("[Infinity,1]", ErrorCode::kDataException, "infinite value not allowed in vector");
  expect_error("[-inf,1]", ErrorCode::kDataException, "infinite value not allowed in vector");
  expect_error("[1,4e38]", ErrorCode::kOutOfRange, "\"4e38\" is out of range for type vector");
}

TEST(CodecText, DimensionLimit) {
  std::string ok = "[1";
  for (int i = 1; i < kMaxDim; ++i) ok += ",1";
  EXPECT_EQ(parse(ok + "]").size(), static_cast<size_t>(kMaxDim));
  expect_error(ok + ",1]", ErrorCode::kProgramLimit,
               "vector cannot have more than 16000 dimensions");
}

TEST(CodecText, ExpectedDimensions) {
  EXPECT_NO_THROW(check_expected_dim(-1, 7));
  EXPECT_NO_THROW(check_expected_dim(3, 3));
  try {
    check_expected_dim(3, 4);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "expected 3 dimensions, not 4");
  }
}

TEST(CodecFormat, MatchesPostgresFloat4Style) {
  EXPECT_EQ(format({1, 2, 3}), "[1,2,3]");
  EXPECT_EQ(format({-0.03f, 2.5f}), "[-0.03,2.5]");
  EXPECT_EQ(format({123456789.0f, 100000, 1000000, 0.0001f, 0.00001f, 1234567}),
            "[1.2345679e+08,100000,1e+06,0.0001,1e-05,1.234567e+06]");
  EXPECT_EQ(format({1.5e38f, -1.5e-38f, 0.0f, -0.0f}), "[1.5e+38,-1.5e-38,0,-0]");
  EXPECT_EQ(format({std::numeric_limits<float>::denorm_min()}), "[1e-45]");
  EXPECT_EQ(format({0.1f, 123.456f, 99999.5f}), "[0.1,123.456,99999.5]");
}

TEST(CodecFormat, RoundTripsEveryFloatExactly) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<std::uint32_t> bits;
  std::vector<float> v;
  while (v.size() < static_cast<size_t>(kMaxDim)) {
    std::uint32_t b = bits(rng);
    float f;
    std::memcpy(&f, &b, sizeof f);
    if (std::isfinite(f)) v.push_back(f);
  }
  auto back = parse(format(v));
  ASSERT_EQ(back.size(), v.size());
  for (size_t i = 0; i < v.size(); ++i)
    ASSERT_EQ(std::memcmp(&back[i], &v[i], sizeof(float)), 0) << v[i];
}

TEST(CodecBinary, WireFormatIsNetworkOrder) {
  std::vector<float> v = {1, -2, 0.5f};
  std::vector<unsigned char> buf(binary_size(3));
  encode_binary(v.data(), 3, buf.data());
  const unsigned char expected[] = {0, 3, 0, 0, 0x3f, 0x80, 0, 0, 0xc0, 0, 0, 0, 0x3f, 0, 0, 0};
  ASSERT_EQ(buf.size(), sizeof expected);
  EXPECT_EQ(std::memcmp(buf.data(), expected, sizeof expected), 0);
  ASSERT_EQ(decode_binary_header(buf.data(), buf.size(), -1), 3);
  std::vector<float> back(3);
  decode_binary_elements(buf.data(), buf.size(), back.data(), 3);
  EXPECT_EQ(back, v);
}

TEST(CodecBinary, RejectsBadMessages) {
  const unsigned char short_header[] = {0, 1};
  EXPECT_THROW(decode_binary_header(short_header, 2, -1), Error);
  const unsigned char truncated[] = {0, 2, 0, 0, 0x3f, 0x80, 0, 0};
  EXPECT_THROW(decode_binary_header(truncated, sizeof truncated, -1), Error);
  const unsigned char unused[] = {0, 1, 0, 7, 0x3f, 0x80, 0, 0};
  try {
    decode_binary_header(unused, sizeof unused, -1);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "expected unused to be 0, not 7");
  }
  const unsigned char zero_dim[] = {0, 0, 0, 0};
  EXPECT_THROW(decode_binary_header(zero_dim, 4, -1), Error);
  const unsigned char negative_dim[] = {0xff, 0xff, 0, 0};
  EXPECT_THROW(decode_binary_header(negative_dim, 4, -1), Error);
  const unsigned char nan[] = {0, 1, 0, 0, 0x7f, 0xc0, 0, 0};
  ASSERT_EQ(decode_binary_header(nan, sizeof nan, 1), 1);
  float out;
  EXPECT_THROW(decode_binary_elements(nan, sizeof nan, &out, 1), Error);
  const unsigned char one[] = {0, 1, 0, 0, 0x3f, 0x80, 0, 0};
  EXPECT_THROW(decode_binary_header(one, sizeof one, 2), Error);  // typmod mismatch
}

}  // namespace
}  // namespace embedding::vec
