// FNV-1a 64-bit hash: the vocabulary hash index and the section checksums of model files.
// Chosen because it is tiny, byte-order independent and fixed forever by its constants.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace embedding::models {

inline constexpr std::uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ull;
inline constexpr std::uint64_t kFnvPrime = 0x100000001b3ull;

inline std::uint64_t fnv1a64(const void* data, std::size_t length,
                             std::uint64_t hash = kFnvOffsetBasis) noexcept {
  const unsigned char* bytes = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < length; ++i) {
    hash ^= bytes[i];
    hash *= kFnvPrime;
  }
  return hash;
}

inline std::uint64_t fnv1a64(std::string_view text) noexcept {
  return fnv1a64(text.data(), text.size());
}

}  // namespace embedding::models
