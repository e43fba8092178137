// Small JSON configuration files read as flat maps: every scalar under its path of keys and
// array indexes joined by '/' ("normalizer/lowercase", "0/type"), down to a depth limit.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace embedding::encoder {

struct JsonValue {
  enum class Kind { kString, kNumber, kBool, kNull } kind;
  std::string text;  // the unescaped string, the number as written, "true"/"false", "null"
};

class JsonFlat {
 public:
  // At most this many values are kept (a configuration file has a few dozen), none longer
  // than kMaxValueBytes.
  static constexpr std::size_t kMaxValues = 10000;
  static constexpr std::size_t kMaxValueBytes = 64u << 10;

  // Parses the whole document (any syntax error throws Error(kCorruptData) naming `what` and the
  // byte offset); values deeper than max_depth are skipped. With wanted_paths, only the values
  // at or under them are kept and other containers are skipped unread (a tokenizer.json's
  // vocabulary); more values or a longer one throw Error(kProgramLimit). Polls interrupts.
  JsonFlat(std::string_view json, const std::string& what, std::size_t max_depth = 3,
           std::vector<std::string> wanted_paths = {});

  bool has(const std::string& path) const { return values_.count(path) != 0; }
  // The value at path, or nullopt when absent or null.
  std::optional<std::string> string(const std::string& path) const;
  std::optional<bool> boolean(const std::string& path) const;
  // An integer in [0, 2^32); a value of another kind or out of range throws kCorruptData.
  std::optional<std::uint32_t> uint(const std::string& path) const;
  std::optional<double> number(const std::string& path) const;

 private:
  const JsonValue* find(const std::string& path) const;
  [[noreturn]] void bad(const std::string& path, const char* expected) const;
  // Whether the value (or container) at path is or may hold a wanted value.
  bool wanted(const std::string& path, bool container) const;

  std::string what_;
  std::vector<std::string> wanted_;
  std::map<std::string, JsonValue> values_;
};

}  // namespace embedding::encoder
