// Text and binary codecs of the `vector` type, byte-for-byte compatible with pgvector:
// the '[1,2,3]' literal (same accepted whitespace, same rejections and messages) and the wire
// format.
#pragma once

#include <cstddef>
#include <cstdint>

namespace embedding::vec {

inline constexpr int kMaxDim = 16000;
// Longest text of one float4 element ("-1.17549435e-38") plus a separator.
inline constexpr std::size_t kMaxElementChars = 16;

// Throws Error unless 1 <= dim <= kMaxDim (pgvector's messages).
void check_dim(long dim);
// typmod < 0 means "any dimension".
void check_expected_dim(int typmod, long dim);
// Throws on NaN or infinity.
void check_element(float value);

// Upper bound on the number of elements a literal can hold (commas + 1, capped at kMaxDim + 1), so
// the caller can allocate before parsing.
int text_capacity(const char* literal);
// Parses a pgvector literal into out[0..capacity). Returns the number of dimensions.
int parse_text(const char* literal, float* out, int capacity);
// Shortest text that reads back to the same float4, in PostgreSQL's float4out style. Returns
// length.
std::size_t format_float(float value, char* out);
// Writes '[x,y,...]' (no terminator); out needs n * kMaxElementChars + 2 bytes. Returns length.
std::size_t format_text(const float* x, int n, char* out);

// Wire format: int16 dim, int16 unused (0), dim float4, network byte order.
// Returns the dimension read from the header after checking it (and the unused field).
int decode_binary_header(const unsigned char* data, std::size_t len, int typmod);
// Decodes the elements after the 4-byte header; len must cover them. Checks each element.
void decode_binary_elements(const unsigned char* data, std::size_t len, float* out, int dim);
inline std::size_t binary_size(int dim) { return 4 + 4 * static_cast<std::size_t>(dim); }
void encode_binary(const float* x, int dim, unsigned char* out);

}  // namespace embedding::vec
