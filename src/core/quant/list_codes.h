// Codes of up to a few hundred rows laid out for the block kernels: a quantised hnsw index's
// neighbour lists (after the ids), and any other store of codes in groups of 32 rows.
#pragma once

#include <cstddef>
#include <cstdint>

namespace embedding::quant {

// Rows a block holds: one table look-up a nibble serves all of them (code_kernels.h,
// block_sums).
constexpr std::size_t kBlockRows = 32;

// The layout for `capacity` rows of codes of `padded` coordinates (a multiple of 64) with `bits`
// bits each (1, 2, 4 or 8; the level of coordinate i is sum_b 2^b bit_b(i)). Block k holds rows
// 32k to 32k + 31 as `bits` planes, plane b after plane b - 1: for each 4 coordinates (a group;
// coordinate 4g + j is bit j of group g's nibble) 16 bytes, byte r holding row r's nibble of
// plane b in its low half and row r + 16's in its high half (RaBitQ's fast-scan layout). After
// the blocks: each row's |x| (float), then each row's scale / |x| (a half), then with more than
// one bit each row's error / |x| (a half; with one bit the error follows from the norm and the
// scale): 6 or 8 bytes a row instead of a slot's 12. A slot (slots.h) is code then CodeFactors.
class ListCodes {
 public:
  ListCodes(std::size_t padded, std::size_t capacity, int bits = 1);

  static std::size_t bytes_for(std::size_t padded, std::size_t capacity, int bits = 1);
  std::size_t bytes() const { return bytes_for(padded_, capacity_, bits_); }
  std::size_t capacity() const { return capacity_; }
  int bits() const { return bits_; }
  std::size_t groups() const { return padded_ / 4; }
  std::size_t code_bytes() const { return padded_ * static_cast<std::size_t>(bits_) / 8; }

  // Row i's slot into / out of `area` (bytes() bytes). get() gives the factors as put() stored
  // them: the scale (and a multi-bit error) rounded to a half's precision (about 5e-4), a 1-bit
  // error recomputed.
  void put(std::uint8_t* area, std::size_t i, const std::uint8_t* slot) const;
  void get(const std::uint8_t* area, std::size_t i, std::uint8_t* slot) const;

  // Plane `plane` of block `b` (groups() * 16 bytes).
  const std::uint8_t* block(const std::uint8_t* area, std::size_t b, int plane = 0) const {
    return area +
           (b * static_cast<std::size_t>(bits_) + static_cast<std::size_t>(plane)) * groups() * 16;
  }
  const float* norms(const std::uint8_t* area) const;
  const std::uint16_t* ratios(const std::uint8_t* area) const;
  // error / |x| of each row (bits() > 1 only).
  const std::uint16_t* errors(const std::uint8_t* area) const;

 private:
  std::size_t blocks() const { return (capacity_ + kBlockRows - 1) / kBlockRows; }
  std::uint8_t* plane_at(std::uint8_t* area, std::size_t b, int plane) const {
    return const_cast<std::uint8_t*>(block(area, b, plane));
  }
  float* norms(std::uint8_t* area) const;
  std::uint16_t* ratios(std::uint8_t* area) const;
  std::uint16_t* errors(std::uint8_t* area) const;

  std::size_t padded_;
  std::size_t capacity_;
  int bits_;
};

// The 1-bit error factor (CodeFactors::error) of a code of `padded` coordinates from its norm and
// scale, as Quantizer::encode computes it.
float one_bit_error(float norm, float scale, std::size_t padded);

}  // namespace embedding::quant
