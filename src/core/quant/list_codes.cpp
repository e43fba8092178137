// ListCodes (see list_codes.h).
#include "core/quant/list_codes.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/quant/rabitq.h"
#include "core/vector/half.h"

namespace embedding::quant {

ListCodes::ListCodes(std::size_t padded, std::size_t capacity)
    : padded_(padded), capacity_(capacity) {}

std::size_t ListCodes::bytes_for(std::size_t padded, std::size_t capacity) {
  const std::size_t blocks = (capacity + kBlockRows - 1) / kBlockRows;
  return blocks * (padded / 4) * 16 + capacity * (sizeof(float) + sizeof(std::uint16_t));
}

float* ListCodes::norms(std::uint8_t* area) const {
  return reinterpret_cast<float*>(area + blocks() * groups() * 16);
}
const float* ListCodes::norms(const std::uint8_t* area) const {
  return norms(const_cast<std::uint8_t*>(area));
}
std::uint16_t* ListCodes::ratios(std::uint8_t* area) const {
  return reinterpret_cast<std::uint16_t*>(norms(area) + capacity_);
}
const std::uint16_t* ListCodes::ratios(const std::uint8_t* area) const {
  return ratios(const_cast<std::uint8_t*>(area));
}

void ListCodes::put(std::uint8_t* area, std::size_t i, const std::uint8_t* slot) const {
  std::uint8_t* b = area + (i / kBlockRows) * groups() * 16;
  const std::size_t row = i % kBlockRows, byte = row % 16;
  const int shift = row < 16 ? 0 : 4;
  const auto keep = static_cast<std::uint8_t>(0xF0u >> shift);
  for (std::size_t g = 0; g < groups(); ++g) {
    const unsigned nibble = (slot[g / 2] >> (4 * (g % 2))) & 0xFu;
    std::uint8_t& cell = b[16 * g + byte];
    cell = static_cast<std::uint8_t>((cell & keep) | (nibble << shift));
  }
  CodeFactors f;
  std::memcpy(&f, slot + code_bytes(), sizeof f);
  std::memcpy(norms(area) + i, &f.norm, sizeof f.norm);
  const float ratio = f.norm > 0.0f ? f.scale / f.norm : 0.0f;
  const vec::Half h = vec::float_to_half(ratio);
  std::memcpy(ratios(area) + i, &h, sizeof h);
}

void ListCodes::get(const std::uint8_t* area, std::size_t i, std::uint8_t* slot) const {
  const std::uint8_t* b = block(area, i / kBlockRows);
  const std::size_t row = i % kBlockRows, byte = row % 16;
  const int shift = row < 16 ? 0 : 4;
  std::memset(slot, 0, code_bytes());
  for (std::size_t g = 0; g < groups(); ++g) {
    const unsigned nibble = (b[16 * g + byte] >> shift) & 0xFu;
    slot[g / 2] = static_cast<std::uint8_t>(slot[g / 2] | (nibble << (4 * (g % 2))));
  }
  CodeFactors f;
  std::memcpy(&f.norm, norms(area) + i, sizeof f.norm);
  vec::Half h;
  std::memcpy(&h, ratios(area) + i, sizeof h);
  f.scale = f.norm * vec::half_to_float(h);
  f.error = one_bit_error(f.norm, f.scale, padded_);
  std::memcpy(slot + code_bytes(), &f, sizeof f);
}

float one_bit_error(float norm, float scale, std::size_t padded) {
  if (!(norm > 0.0f) || !(scale > 0.0f)) return 0.0f;
  // 1 bit: |g| = sqrt(P) / 2, so cos = <g, u> / |g| = (norm / scale) * 2 / sqrt(P).
  const double p = static_cast<double>(padded);
  const double cosine = std::clamp(2.0 * norm / (scale * std::sqrt(p)), 1e-6, 1.0);
  return static_cast<float>(norm * std::sqrt(std::max(0.0, 1.0 - cosine * cosine)) /
                            (cosine * std::sqrt(p - 1.0)));
}

}  // namespace embedding::quant
