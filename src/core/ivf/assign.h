// List assignment for ivfflat: the nearest of k centers for each row of a batch, by blocked
// matrix products (float and half rows) or per-pair hamming (bit strings), on several threads.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/vector/stored_distance.h"

namespace embedding::ivf {

// Labels n float rows (`dims` each, contiguous) with the nearest of k float centers: the
// smallest squared L2 distance, or the largest dot product when spherical; ties go to the lower
// index. Reads the old labels first (UINT32_MAX for none) and returns how many changed.
std::size_t assign_floats(const float* centers, std::size_t k, std::size_t dims, const float* rows,
                          std::size_t n, bool spherical, std::uint32_t* labels, int threads);

// Labels n stored rows (`row_stride` bytes apart, in the format `rank` reads) with the nearest
// of k stored centers (`center_stride` bytes apart) under `rank`: squared L2 or inner product
// for float32 and float16 (computed as assign_floats does), hamming for bit strings. Ties go to
// the lower index. Runs on `threads` threads; the caller's polls interrupts.
void assign_nearest(const VectorDistance& rank, const void* centers, std::size_t k,
                    std::size_t center_stride, const void* rows, std::size_t n,
                    std::size_t row_stride, std::uint32_t* labels, int threads);

}  // namespace embedding::ivf
