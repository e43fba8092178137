// The codes of a neighbour list as a quantised hnsw index stores them after the list's ids: 1-bit
// codes transposed in blocks of 32 neighbours (RaBitQ's fast-scan layout), then the factors.
#pragma once

#include <cstddef>
#include <cstdint>

namespace embedding::quant {

// Neighbours a block holds: one table look-up a nibble serves all of them (code_kernels.h,
// block_sums).
constexpr std::size_t kBlockRows = 32;

// The layout for `capacity` neighbours of codes of `padded` coordinates (a multiple of 64, 1 bit
// each). Block b holds neighbours 32b to 32b + 31: for each 4 coordinates (a group; coordinate
// 4g + k is bit k of group g's nibble) 16 bytes, byte j holding neighbour j's nibble in its low
// half and neighbour j + 16's in its high half. After the blocks: each neighbour's |x| (float),
// then each neighbour's scale / |x| (a half: 6 bytes a neighbour instead of the slot's 12, since
// the 1-bit error factor follows from the two). A slot (slots.h) is code then CodeFactors.
class ListCodes {
 public:
  ListCodes(std::size_t padded, std::size_t capacity);

  static std::size_t bytes_for(std::size_t padded, std::size_t capacity);
  std::size_t bytes() const { return bytes_for(padded_, capacity_); }
  std::size_t capacity() const { return capacity_; }
  std::size_t groups() const { return padded_ / 4; }
  std::size_t code_bytes() const { return padded_ / 8; }

  // Neighbour i's slot into / out of `area` (bytes() bytes). get() gives the factors as put()
  // stored them, the scale rounded to a half's precision (about 5e-4) and the error recomputed.
  void put(std::uint8_t* area, std::size_t i, const std::uint8_t* slot) const;
  void get(const std::uint8_t* area, std::size_t i, std::uint8_t* slot) const;

  const std::uint8_t* block(const std::uint8_t* area, std::size_t b) const {
    return area + b * groups() * 16;
  }
  const float* norms(const std::uint8_t* area) const;
  const std::uint16_t* ratios(const std::uint8_t* area) const;

 private:
  std::size_t blocks() const { return (capacity_ + kBlockRows - 1) / kBlockRows; }
  float* norms(std::uint8_t* area) const;
  std::uint16_t* ratios(std::uint8_t* area) const;

  std::size_t padded_;
  std::size_t capacity_;
};

// The 1-bit error factor (CodeFactors::error) of a code of `padded` coordinates from its norm and
// scale, as Quantizer::encode computes it.
float one_bit_error(float norm, float scale, std::size_t padded);

}  // namespace embedding::quant
