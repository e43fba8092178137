// ListCodes (see list_codes.h).
#include "core/quant/list_codes.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/quant/rabitq.h"
#include "core/vector/half.h"

namespace embedding::quant {
namespace {

std::size_t factor_bytes(int bits) {
  return sizeof(float) + sizeof(std::uint16_t) * (bits == 1 ? 1 : 2);
}

// Level i of a code of `bits` bits a level, packed from the low-order bits of each byte up.
unsigned level_at(const std::uint8_t* code, std::size_t i, int bits) {
  const std::size_t bit = i * static_cast<std::size_t>(bits);
  return (code[bit / 8] >> (bit % 8)) & ((1u << bits) - 1u);
}

vec::Half ratio_of(float value, float norm) {
  return vec::float_to_half(norm > 0.0f ? value / norm : 0.0f);
}

}  // namespace

ListCodes::ListCodes(std::size_t padded, std::size_t capacity, int bits)
    : padded_(padded), capacity_(capacity), bits_(bits) {}

std::size_t ListCodes::bytes_for(std::size_t padded, std::size_t capacity, int bits) {
  const std::size_t blocks = (capacity + kBlockRows - 1) / kBlockRows;
  return blocks * static_cast<std::size_t>(bits) * (padded / 4) * 16 +
         capacity * factor_bytes(bits);
}

float* ListCodes::norms(std::uint8_t* area) const {
  return reinterpret_cast<float*>(area +
                                  blocks() * static_cast<std::size_t>(bits_) * groups() * 16);
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
std::uint16_t* ListCodes::errors(std::uint8_t* area) const { return ratios(area) + capacity_; }
const std::uint16_t* ListCodes::errors(const std::uint8_t* area) const {
  return errors(const_cast<std::uint8_t*>(area));
}

void ListCodes::put(std::uint8_t* area, std::size_t i, const std::uint8_t* slot) const {
  const std::size_t b = i / kBlockRows, row = i % kBlockRows, byte = row % 16;
  const int shift = row < 16 ? 0 : 4;
  const auto keep = static_cast<std::uint8_t>(0xF0u >> shift);
  for (int plane = 0; plane < bits_; ++plane) {
    std::uint8_t* cells = plane_at(area, b, plane);
    for (std::size_t g = 0; g < groups(); ++g) {
      unsigned nibble = 0;
      for (unsigned j = 0; j < 4; ++j)
        nibble |= ((level_at(slot, 4 * g + j, bits_) >> plane) & 1u) << j;
      std::uint8_t& cell = cells[16 * g + byte];
      cell = static_cast<std::uint8_t>((cell & keep) | (nibble << shift));
    }
  }
  CodeFactors f;
  std::memcpy(&f, slot + code_bytes(), sizeof f);
  std::memcpy(norms(area) + i, &f.norm, sizeof f.norm);
  const vec::Half scale = ratio_of(f.scale, f.norm);
  std::memcpy(ratios(area) + i, &scale, sizeof scale);
  if (bits_ > 1) {
    const vec::Half error = ratio_of(f.error, f.norm);
    std::memcpy(errors(area) + i, &error, sizeof error);
  }
}

void ListCodes::get(const std::uint8_t* area, std::size_t i, std::uint8_t* slot) const {
  const std::size_t b = i / kBlockRows, row = i % kBlockRows, byte = row % 16;
  const int shift = row < 16 ? 0 : 4;
  std::memset(slot, 0, code_bytes());
  for (int plane = 0; plane < bits_; ++plane) {
    const std::uint8_t* cells = block(area, b, plane);
    for (std::size_t g = 0; g < groups(); ++g) {
      const unsigned nibble = (cells[16 * g + byte] >> shift) & 0xFu;
      for (unsigned j = 0; j < 4; ++j) {
        const std::size_t bit =
            (4 * g + j) * static_cast<std::size_t>(bits_) + static_cast<std::size_t>(plane);
        slot[bit / 8] =
            static_cast<std::uint8_t>(slot[bit / 8] | (((nibble >> j) & 1u) << (bit % 8)));
      }
    }
  }
  CodeFactors f;
  std::memcpy(&f.norm, norms(area) + i, sizeof f.norm);
  vec::Half h;
  std::memcpy(&h, ratios(area) + i, sizeof h);
  f.scale = f.norm * vec::half_to_float(h);
  if (bits_ == 1) {
    f.error = one_bit_error(f.norm, f.scale, padded_);
  } else {
    std::memcpy(&h, errors(area) + i, sizeof h);
    f.error = f.norm * vec::half_to_float(h);
  }
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
