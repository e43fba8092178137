// A small validating pull parser for JSON (RFC 8259): it returns one event at a time and never
// builds a document tree, so a 300 MB model file is read in a single pass with little memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace embedding::io {

class JsonReader {
 public:
  enum class Event {
    kBeginObject,
    kEndObject,
    kBeginArray,
    kEndArray,
    kKey,     // an object member name; text() is the unescaped name
    kString,  // text() is the unescaped value
    kNumber,  // text() is the number exactly as written (valid JSON number syntax)
    kTrue,
    kFalse,
    kNull,
    kEnd,  // the single top-level value is complete and only whitespace follows
  };

  static constexpr std::size_t kMaxDepth = 256;

  explicit JsonReader(std::string_view input) : input_(input) {}

  // The next event. Throws Error(kCorruptData) with the byte offset on any syntax error. Polls
  // interrupts every few thousand events (skip_value() included).
  Event next();
  // Valid until the next call of next().
  std::string_view text() const { return text_; }
  // Skips the rest of a value whose first event was `first` (a no-op for scalars).
  void skip_value(Event first);
  std::size_t offset() const { return pos_; }

 private:
  enum class Expect { kValue, kValueOrEnd, kKey, kKeyOrEnd, kCommaOrEnd, kDone };

  [[noreturn]] void fail(const std::string& message) const;
  void skip_whitespace();
  void parse_string();
  void parse_number();
  Event parse_literal(std::string_view word, Event event);
  Event begin_container(bool object);
  Event end_container(bool object);
  void after_value();

  std::string_view input_;
  std::size_t pos_ = 0;
  Expect expect_ = Expect::kValue;
  std::vector<bool> stack_;  // true = object, false = array
  std::string_view text_;
  std::string scratch_;  // unescaped strings
  std::uint64_t events_ = 0;
};

}  // namespace embedding::io
