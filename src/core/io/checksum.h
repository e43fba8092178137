// Checksums of file bytes: FNV-1a 64 (the vocabulary hash index and the checksums of model and
// encoder files), byte-wise and in four lanes, each fixed forever by the file formats using it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace embedding::io {

// Where one section of a file of ours lies (model and encoder files share the table's entry form):
// byte offset, length, and the FNV-1a 64 of its bytes.
struct SectionEntry {
  std::uint64_t offset;
  std::uint64_t length;
  std::uint64_t checksum;
};

inline constexpr std::uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ull;
inline constexpr std::uint64_t kFnvPrime = 0x100000001b3ull;

// Byte-wise FNV-1a 64, continuing from `hash`. Tiny, byte-order independent, and fixed by its
// constants: what a model file's hash index and checksums use.
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

// fnv1a64 of a large buffer, polling for interrupts between 16 MiB steps.
std::uint64_t fnv1a64_polled(const std::byte* data, std::uint64_t length);

// FNV-1a's step on 64-bit little-endian words in four independent lanes (so the multiplications
// overlap, several times faster than byte-wise), the lanes and the tail bytes then folded together
// with byte-wise FNV-1a; polls for interrupts every 1 MiB. An encoder file's section checksum.
std::uint64_t fnv1a64_lanes(const std::byte* data, std::uint64_t length);

}  // namespace embedding::io
