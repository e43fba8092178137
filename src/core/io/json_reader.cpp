// JSON pull parser: an explicit container stack (no recursion, bounded depth) and a grammar
// state, so malformed input of any shape ends in an Error rather than a crash.
#include "core/io/json_reader.h"

#include "core/common/error.h"
#include "core/common/interrupt.h"
#include "core/text/utf8.h"

namespace embedding::io {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void JsonReader::fail(const std::string& message) const {
  throw Error(ErrorCode::kCorruptData,
              "invalid JSON at byte " + std::to_string(pos_) + ": " + message);
}

void JsonReader::skip_whitespace() {
  while (pos_ < input_.size()) {
    const char c = input_[pos_];
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') break;
    ++pos_;
  }
}

void JsonReader::parse_string() {
  ++pos_;  // opening quote
  const std::size_t start = pos_;
  // Fast path: no escapes, the text is a view of the input.
  while (pos_ < input_.size()) {
    const char c = input_[pos_];
    if (c == '"') {
      text_ = input_.substr(start, pos_ - start);
      ++pos_;
      return;
    }
    if (c == '\\') break;
    if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
    ++pos_;
  }
  scratch_.assign(input_.substr(start, pos_ - start));
  while (pos_ < input_.size()) {
    const char c = input_[pos_];
    if (c == '"') {
      text_ = scratch_;
      ++pos_;
      return;
    }
    if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
    if (c != '\\') {
      scratch_.push_back(c);
      ++pos_;
      continue;
    }
    if (pos_ + 1 >= input_.size()) break;
    const char escape = input_[pos_ + 1];
    pos_ += 2;
    switch (escape) {
      case '"':
      case '\\':
      case '/':
        scratch_.push_back(escape);
        break;
      case 'b':
        scratch_.push_back('\b');
        break;
      case 'f':
        scratch_.push_back('\f');
        break;
      case 'n':
        scratch_.push_back('\n');
        break;
      case 'r':
        scratch_.push_back('\r');
        break;
      case 't':
        scratch_.push_back('\t');
        break;
      case 'u': {
        const auto read_hex4 = [&]() -> char32_t {
          if (input_.size() - pos_ < 4) fail("truncated \\u escape");
          char32_t value = 0;
          for (int i = 0; i < 4; ++i) {
            const int digit = hex_value(input_[pos_ + i]);
            if (digit < 0) fail("bad hex digit in \\u escape");
            value = value * 16 + static_cast<char32_t>(digit);
          }
          pos_ += 4;
          return value;
        };
        char32_t code_point = read_hex4();
        if (code_point >= 0xDC00 && code_point <= 0xDFFF) fail("unpaired low surrogate");
        if (code_point >= 0xD800 && code_point <= 0xDBFF) {
          if (input_.size() - pos_ < 2 || input_[pos_] != '\\' || input_[pos_ + 1] != 'u') {
            fail("unpaired high surrogate");
          }
          pos_ += 2;
          const char32_t low = read_hex4();
          if (low < 0xDC00 || low > 0xDFFF) fail("bad low surrogate");
          code_point = 0x10000 + ((code_point - 0xD800) << 10) + (low - 0xDC00);
        }
        text::append_utf8(code_point, scratch_);
        break;
      }
      default:
        fail("bad escape sequence");
    }
  }
  fail("unterminated string");
}

void JsonReader::parse_number() {
  const std::size_t start = pos_;
  const auto digits = [&] {
    const std::size_t first = pos_;
    while (pos_ < input_.size() && is_digit(input_[pos_])) ++pos_;
    return pos_ - first;
  };
  if (input_[pos_] == '-') ++pos_;
  if (pos_ < input_.size() && input_[pos_] == '0') {
    ++pos_;
  } else if (digits() == 0) {
    fail("bad number");
  }
  if (pos_ < input_.size() && input_[pos_] == '.') {
    ++pos_;
    if (digits() == 0) fail("bad number fraction");
  }
  if (pos_ < input_.size() && (input_[pos_] == 'e' || input_[pos_] == 'E')) {
    ++pos_;
    if (pos_ < input_.size() && (input_[pos_] == '+' || input_[pos_] == '-')) ++pos_;
    if (digits() == 0) fail("bad number exponent");
  }
  text_ = input_.substr(start, pos_ - start);
}

JsonReader::Event JsonReader::parse_literal(std::string_view word, Event event) {
  if (input_.substr(pos_, word.size()) != word) fail("unexpected character");
  pos_ += word.size();
  text_ = word;
  after_value();
  return event;
}

JsonReader::Event JsonReader::begin_container(bool object) {
  if (stack_.size() >= kMaxDepth) fail("nesting too deep");
  ++pos_;
  stack_.push_back(object);
  expect_ = object ? Expect::kKeyOrEnd : Expect::kValueOrEnd;
  return object ? Event::kBeginObject : Event::kBeginArray;
}

JsonReader::Event JsonReader::end_container(bool object) {
  ++pos_;
  stack_.pop_back();
  after_value();
  return object ? Event::kEndObject : Event::kEndArray;
}

void JsonReader::after_value() { expect_ = stack_.empty() ? Expect::kDone : Expect::kCommaOrEnd; }

JsonReader::Event JsonReader::next() {
  poll_interrupts_every(++events_);
  for (;;) {
    skip_whitespace();
    if (expect_ == Expect::kDone) {
      if (pos_ != input_.size()) fail("trailing characters after the JSON value");
      return Event::kEnd;
    }
    if (pos_ >= input_.size()) fail("unexpected end of input");
    const char c = input_[pos_];
    switch (expect_) {
      case Expect::kCommaOrEnd:
        if (c == ',') {
          ++pos_;
          expect_ = stack_.back() ? Expect::kKey : Expect::kValue;
          continue;
        }
        if (c == (stack_.back() ? '}' : ']')) return end_container(stack_.back());
        fail(stack_.back() ? "expected ',' or '}'" : "expected ',' or ']'");
      case Expect::kKeyOrEnd:
        if (c == '}') return end_container(true);
        [[fallthrough]];
      case Expect::kKey:
        if (c != '"') fail("expected a member name");
        parse_string();
        skip_whitespace();
        if (pos_ >= input_.size() || input_[pos_] != ':') fail("expected ':'");
        ++pos_;
        expect_ = Expect::kValue;
        return Event::kKey;
      case Expect::kValueOrEnd:
        if (c == ']') return end_container(false);
        [[fallthrough]];
      case Expect::kValue:
        switch (c) {
          case '{':
            return begin_container(true);
          case '[':
            return begin_container(false);
          case '"':
            parse_string();
            after_value();
            return Event::kString;
          case 't':
            return parse_literal("true", Event::kTrue);
          case 'f':
            return parse_literal("false", Event::kFalse);
          case 'n':
            return parse_literal("null", Event::kNull);
          default:
            if (c == '-' || is_digit(c)) {
              parse_number();
              after_value();
              return Event::kNumber;
            }
            fail("unexpected character");
        }
      case Expect::kDone:
        break;
    }
    fail("internal parser state");
  }
}

void JsonReader::skip_value(Event first) {
  if (first != Event::kBeginObject && first != Event::kBeginArray) return;
  const std::size_t depth = stack_.size() - 1;
  while (stack_.size() > depth) next();
}

}  // namespace embedding::io
