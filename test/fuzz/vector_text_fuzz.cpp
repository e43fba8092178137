// libFuzzer target: the vector text parser and formatter. Any input must either parse or throw
// embedding::Error; whatever parses must format and parse back to identical bits.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/vector/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  text = text.c_str();  // PostgreSQL hands the parser a NUL-terminated cstring
  namespace vec = embedding::vec;
  std::vector<float> v(vec::text_capacity(text.c_str()));
  int dim;
  try {
    dim = vec::parse_text(text.c_str(), v.data(), static_cast<int>(v.size()));
  } catch (const embedding::Error&) {
    return 0;
  }
  if (dim < 1 || dim > vec::kMaxDim) __builtin_trap();
  std::string out(dim * vec::kMaxElementChars + 3, '\0');
  out.resize(vec::format_text(v.data(), dim, out.data()));
  std::vector<float> back(vec::text_capacity(out.c_str()));
  int dim2 = vec::parse_text(out.c_str(), back.data(), static_cast<int>(back.size()));
  if (dim2 != dim || std::memcmp(back.data(), v.data(), sizeof(float) * dim) != 0) __builtin_trap();
  return 0;
}
