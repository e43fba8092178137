// UTF-8 decoding and validation (RFC 3629): strict about overlongs, surrogates and range,
// because vocabularies end up as PostgreSQL text values.
#include "core/text/utf8.h"

#include <string>

namespace embedding::text {

std::size_t decode_utf8(std::string_view text, std::size_t pos, char32_t* code_point) noexcept {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(pos);
  *code_point = kInvalidCodePoint;
  if (lead < 0x80) {
    *code_point = lead;
    return 1;
  }
  std::size_t length;
  char32_t value;
  char32_t minimum;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, value = lead & 0x1F, minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, value = lead & 0x0F, minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, value = lead & 0x07, minimum = 0x10000;
  } else {
    return 1;
  }
  if (pos + length > text.size()) return 1;
  for (std::size_t i = 1; i < length; ++i) {
    const unsigned char next = byte(pos + i);
    if ((next & 0xC0) != 0x80) return 1;
    value = (value << 6) | (next & 0x3F);
  }
  if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 1;
  *code_point = value;
  return length;
}

bool is_valid_utf8_text(std::string_view text) noexcept {
  std::size_t pos = 0;
  while (pos < text.size()) {
    const unsigned char lead = static_cast<unsigned char>(text[pos]);
    if (lead == 0) return false;
    if (lead < 0x80) {
      ++pos;
      continue;
    }
    char32_t code_point;
    const std::size_t length = decode_utf8(text, pos, &code_point);
    if (code_point == kInvalidCodePoint) return false;
    pos += length;
  }
  return true;
}

void append_utf8(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace embedding::text

namespace embedding::text {

std::string for_message(std::string_view text, std::size_t max_bytes) {
  constexpr char32_t kReplacement = 0xFFFD;
  std::string out;
  for (std::size_t pos = 0; pos < text.size();) {
    char32_t code_point;
    const std::size_t length = decode_utf8(text, pos, &code_point);
    if (code_point == kInvalidCodePoint || code_point < 0x20 || code_point == 0x7F)
      code_point = kReplacement;  // also control characters: no line breaks or escapes in logs
    std::string piece;
    append_utf8(code_point, piece);
    if (out.size() + piece.size() > max_bytes) return out + "...";
    out += piece;
    pos += length;
  }
  return out;
}

}  // namespace embedding::text
