// JsonFlat (see json_flat.h) on the validating pull parser of core/io/json_reader.h.
#include "core/encoder/json_flat.h"

#include <cerrno>
#include <cstdlib>
#include <utility>
#include <vector>

#include "core/common/error.h"
#include "core/io/json_reader.h"

namespace embedding::encoder {

using io::JsonReader;
using Event = JsonReader::Event;

JsonFlat::JsonFlat(std::string_view json, const std::string& what, std::size_t max_depth,
                   std::vector<std::string> wanted_paths)
    : what_(what), wanted_(std::move(wanted_paths)) {
  try {
    JsonReader reader(json);
    // The path of the value being read: one entry per open container (the current key, or the
    // array index as text), and whether that container is an array.
    std::vector<std::string> path;
    std::vector<bool> in_array;
    std::vector<std::size_t> index;
    const auto joined = [&]() {
      std::string out;
      for (std::size_t i = 0; i < path.size(); ++i) out += (i ? "/" : "") + path[i];
      return out;
    };
    // Before a value inside an array: its index becomes the last path element.
    const auto next_element = [&]() {
      if (!in_array.empty() && in_array.back()) path.back() = std::to_string(index.back()++);
    };
    for (Event e = reader.next(); e != Event::kEnd; e = reader.next()) {
      switch (e) {
        case Event::kKey:
          path.back() = std::string(reader.text());
          break;
        case Event::kBeginObject:
        case Event::kBeginArray:
          next_element();
          if (path.size() >= max_depth || !wanted(joined(), true)) {
            reader.skip_value(e);
            break;
          }
          path.emplace_back();
          in_array.push_back(e == Event::kBeginArray);
          index.push_back(0);
          break;
        case Event::kEndObject:
        case Event::kEndArray:
          path.pop_back();
          in_array.pop_back();
          index.pop_back();
          break;
        default: {
          next_element();
          std::string at = joined();
          if (!wanted(at, false)) break;
          if (values_.size() >= kMaxValues && !values_.count(at))
            throw Error(ErrorCode::kProgramLimit,
                        "more than " + std::to_string(kMaxValues) + " values");
          if (reader.text().size() > kMaxValueBytes)
            throw Error(ErrorCode::kProgramLimit, "\"" + at + "\" is longer than " +
                                                      std::to_string(kMaxValueBytes) + " bytes");
          JsonValue value{JsonValue::Kind::kNull, std::string(reader.text())};
          if (e == Event::kString) value.kind = JsonValue::Kind::kString;
          if (e == Event::kNumber) value.kind = JsonValue::Kind::kNumber;
          if (e == Event::kTrue || e == Event::kFalse) {
            value.kind = JsonValue::Kind::kBool;
            value.text = e == Event::kTrue ? "true" : "false";
          }
          values_[std::move(at)] = std::move(value);
        }
      }
    }
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kCancelled) throw;
    throw Error(e.code() == ErrorCode::kProgramLimit ? e.code() : ErrorCode::kCorruptData,
                what + ": " + e.what());
  }
}

bool JsonFlat::wanted(const std::string& path, bool container) const {
  if (wanted_.empty() || path.empty()) return true;
  const auto under = [](std::string_view path, std::string_view prefix) {
    return path.size() > prefix.size() && path.starts_with(prefix) && path[prefix.size()] == '/';
  };
  for (const std::string& w : wanted_)
    if (path == w || under(path, w) || (container && under(w, path))) return true;
  return false;
}

const JsonValue* JsonFlat::find(const std::string& path) const {
  auto it = values_.find(path);
  if (it == values_.end() || it->second.kind == JsonValue::Kind::kNull) return nullptr;
  return &it->second;
}

void JsonFlat::bad(const std::string& path, const char* expected) const {
  throw Error(ErrorCode::kCorruptData, what_ + ": \"" + path + "\" must be " + expected);
}

std::optional<std::string> JsonFlat::string(const std::string& path) const {
  const JsonValue* v = find(path);
  if (v == nullptr) return std::nullopt;
  if (v->kind != JsonValue::Kind::kString) bad(path, "a string");
  return v->text;
}

std::optional<bool> JsonFlat::boolean(const std::string& path) const {
  const JsonValue* v = find(path);
  if (v == nullptr) return std::nullopt;
  if (v->kind != JsonValue::Kind::kBool) bad(path, "true or false");
  return v->text == "true";
}

std::optional<double> JsonFlat::number(const std::string& path) const {
  const JsonValue* v = find(path);
  if (v == nullptr) return std::nullopt;
  if (v->kind != JsonValue::Kind::kNumber) bad(path, "a number");
  return std::strtod(v->text.c_str(), nullptr);
}

std::optional<std::uint32_t> JsonFlat::uint(const std::string& path) const {
  const JsonValue* v = find(path);
  if (v == nullptr) return std::nullopt;
  if (v->kind != JsonValue::Kind::kNumber ||
      v->text.find_first_not_of("0123456789") != std::string::npos || v->text.size() > 10)
    bad(path, "a whole number");
  const unsigned long long value = std::strtoull(v->text.c_str(), nullptr, 10);
  if (value > 0xFFFFFFFFull) bad(path, "below 2^32");
  return static_cast<std::uint32_t>(value);
}

}  // namespace embedding::encoder
