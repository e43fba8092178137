// UTF-8 helpers shared by the tokeniser and the model loaders: decoding one code point
// and validating a whole string (model vocabularies must be valid UTF-8 without NUL).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace embedding::text {

// Decodes the code point starting at text[pos]. Returns its byte length (1..4) and stores the
// code point in *code_point; an invalid or truncated sequence returns 1 and kInvalidCodePoint,
// so callers can pass such bytes through unchanged.
inline constexpr char32_t kInvalidCodePoint = 0xFFFFFFFFu;
std::size_t decode_utf8(std::string_view text, std::size_t pos, char32_t* code_point) noexcept;

// True when text is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF)
// and contains no NUL byte (PostgreSQL text cannot hold one).
bool is_valid_utf8_text(std::string_view text) noexcept;

// Appends the UTF-8 encoding of code_point (must be <= U+10FFFF and not a surrogate).
void append_utf8(char32_t code_point, std::string& out);

// Text taken from a model file, made fit for an error message: invalid UTF-8 sequences and
// control characters become U+FFFD, and at most max_bytes are kept (cut at a character boundary,
// with "..." added), so a hostile file cannot put broken bytes or megabytes into the message.
std::string for_message(std::string_view text, std::size_t max_bytes = 80);

}  // namespace embedding::text
