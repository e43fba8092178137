// Text and binary codecs of the `vector` and `halfvec` types, byte-for-byte compatible with
// pgvector: the '[1,2,3]' literal (same accepted whitespace, same rejections and messages, which
// name the type) and the wire formats.
#pragma once

#include <cstddef>
#include <cstdint>

namespace embedding::vec {

inline constexpr int kMaxDim = 16000;

// The element type of a vector type: float4 (`vector`), IEEE half (`halfvec`), or the float4
// elements of `sparsevec` when they arrive densely (array casts). Messages name the SQL type;
// the dense types allow 16,000 dimensions, sparsevec 1e9 (sparse.h).
enum class Element { kFloat32, kFloat16, kSparse };
const char* type_name(Element element);
// Longest text of one float4 element ("-1.17549435e-38") plus a separator.
inline constexpr std::size_t kMaxElementChars = 16;

// Throws Error unless 1 <= dim <= kMaxDim (pgvector's messages).
void check_dim(long dim, Element element = Element::kFloat32);
// typmod < 0 means "any dimension".
void check_expected_dim(int typmod, long dim);
// Throws on NaN or infinity.
void check_element(float value, Element element = Element::kFloat32);

// float -> half as pgvector's Float4ToHalf: nearest half; a finite value beyond the largest
// half is out of range ("\"70000\" is out of range for type halfvec"); inf and NaN pass through
// (check_element reports them).
std::uint16_t to_half(float value);

// Upper bound on the number of elements a literal can hold (commas + 1, capped at kMaxDim + 1), so
// the caller can allocate before parsing.
int text_capacity(const char* literal);
// Parses a pgvector literal into out[0..capacity). Returns the number of dimensions. For
// kFloat16 each element is rounded to the nearest half (out holds the rounded value, exactly
// representable as a half) and a value beyond the largest half is out of range.
int parse_text(const char* literal, float* out, int capacity, Element element = Element::kFloat32);
// Shortest text that reads back to the same float4, in PostgreSQL's float4out style. Returns
// length.
std::size_t format_float(float value, char* out);
// Writes '[x,y,...]' (no terminator); out needs n * kMaxElementChars + 2 bytes. Returns length.
std::size_t format_text(const float* x, int n, char* out);

// Wire format: int16 dim, int16 unused (0), dim float4 (halfvec: dim IEEE halfs as uint16),
// network byte order. Returns the dimension read from the header after checking it (and the
// unused field).
int decode_binary_header(const unsigned char* data, std::size_t len, int typmod,
                         Element element = Element::kFloat32);
// Decodes the elements after the 4-byte header; len must cover them. Checks each element.
void decode_binary_elements(const unsigned char* data, std::size_t len, float* out, int dim);
inline std::size_t binary_size(int dim, Element element = Element::kFloat32) {
  return 4 + (element == Element::kFloat16 ? 2 : 4) * static_cast<std::size_t>(dim);
}
void encode_binary(const float* x, int dim, unsigned char* out);
// halfvec's elements: checked (NaN, infinity) as they are decoded.
void decode_binary_halfs(const unsigned char* data, std::size_t len, std::uint16_t* out, int dim);
void encode_binary_halfs(const std::uint16_t* x, int dim, unsigned char* out);

}  // namespace embedding::vec
