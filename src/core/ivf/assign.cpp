// List assignment (see assign.h): float and half rows meet the centers tile by tile in a matrix
// product (kernels' dot_block), bit strings one pair at a time.
#include "core/ivf/assign.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "core/common/interrupt.h"
#include "core/common/parallel.h"
#include "core/vector/kernels.h"

namespace embedding::ivf {
namespace {

// Rows per tile and centers per tile (the fastest of the sizes tried: test/bench/README.md,
// "Build choices"). The scores of one pair of tiles (1 MB) stay in the L2 cache, and one pair
// of tiles is short enough for the caller's thread to poll interrupts in between.
constexpr std::size_t kTileRows = 512;
constexpr std::size_t kTileCenters = 512;

// Float32 or float16 vectors `stride` bytes apart, read as contiguous float tiles.
struct FloatRows {
  const std::uint8_t* data;
  std::size_t stride;
  std::size_t dims;
  bool half;

  // Rows [first, first + count): in place when they are contiguous floats, else converted into
  // `buffer`.
  const float* tile(std::size_t first, std::size_t count, std::vector<float>& buffer) const {
    if (!half && stride == dims * sizeof(float))
      return reinterpret_cast<const float*>(data + first * stride);
    buffer.resize(count * dims);
    const kernels::KernelTable& table = kernels::active();
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint8_t* row = data + (first + i) * stride;
      if (half)
        table.half_to_float(reinterpret_cast<const vec::Half*>(row), buffer.data() + i * dims,
                            dims);
      else
        std::memcpy(buffer.data() + i * dims, row, dims * sizeof(float));
    }
    return buffer.data();
  }
};

// Labels rows [begin, end): per row tile, the best center over every center tile. The score is
// |c|^2 - 2 x.c (squared L2 less the row's own |x|^2, which does not change the order), or -x.c
// when spherical.
std::size_t label_float_slice(const FloatRows& rows, const FloatRows& centers, std::size_t k,
                              bool spherical, std::size_t begin, std::size_t end,
                              std::uint32_t* labels, const std::atomic<bool>& stop, bool poll) {
  const kernels::KernelTable& table = kernels::active();
  const std::size_t dims = rows.dims;
  std::vector<float> row_buffer, center_buffer, scratch(kTileRows * kTileCenters),
      norms(kTileCenters), best(kTileRows);
  std::vector<std::uint32_t> best_label(kTileRows);
  std::size_t changed = 0;
  for (std::size_t r0 = begin; r0 < end; r0 += kTileRows) {
    const std::size_t nr = std::min(kTileRows, end - r0);
    const float* x = rows.tile(r0, nr, row_buffer);
    std::fill(best.begin(), best.end(), std::numeric_limits<float>::infinity());
    std::fill(best_label.begin(), best_label.end(), 0);
    for (std::size_t c0 = 0; c0 < k; c0 += kTileCenters) {
      if (poll) poll_interrupts();
      if (stop.load(std::memory_order_relaxed)) return changed;
      const std::size_t nc = std::min(kTileCenters, k - c0);
      const float* c = centers.tile(c0, nc, center_buffer);
      if (!spherical)
        for (std::size_t j = 0; j < nc; ++j) norms[j] = table.dot(c + j * dims, c + j * dims, dims);
      table.nearest_block(x, nr, c, nc, dims, spherical ? nullptr : norms.data(),
                          spherical ? -1.0f : -2.0f, best.data(), best_label.data(),
                          static_cast<std::uint32_t>(c0), scratch.data());
    }
    for (std::size_t i = 0; i < nr; ++i) {
      changed += labels[r0 + i] != best_label[i];
      labels[r0 + i] = best_label[i];
    }
  }
  return changed;
}

std::size_t assign_float_rows(const FloatRows& rows, const FloatRows& centers, std::size_t k,
                              std::size_t n, bool spherical, std::uint32_t* labels, int threads) {
  return parallel_slices(
      n, threads,
      [&](std::size_t begin, std::size_t end, const std::atomic<bool>& stop, bool poll) {
        return label_float_slice(rows, centers, k, spherical, begin, end, labels, stop, poll);
      },
      kTileRows);
}

}  // namespace

std::size_t assign_floats(const float* centers, std::size_t k, std::size_t dims, const float* rows,
                          std::size_t n, bool spherical, std::uint32_t* labels, int threads) {
  const FloatRows r{reinterpret_cast<const std::uint8_t*>(rows), dims * sizeof(float), dims, false};
  const FloatRows c{reinterpret_cast<const std::uint8_t*>(centers), dims * sizeof(float), dims,
                    false};
  return assign_float_rows(r, c, k, n, spherical, labels, threads);
}

void assign_nearest(const VectorDistance& rank, const void* centers, std::size_t k,
                    std::size_t center_stride, const void* rows, std::size_t n,
                    std::size_t row_stride, std::uint32_t* labels, int threads) {
  const auto* c = static_cast<const std::uint8_t*>(centers);
  const auto* r = static_cast<const std::uint8_t*>(rows);
  const bool floats = rank.format() == Format::kFloat32 || rank.format() == Format::kFloat16;
  const bool l2 = rank.metric() == Metric::kL2;
  const bool dot = rank.metric() == Metric::kInnerProduct || rank.metric() == Metric::kCosine;
  if (floats && (l2 || dot)) {
    const bool half = rank.format() == Format::kFloat16;
    const std::size_t dims = rank.dimensions();
    assign_float_rows(FloatRows{r, row_stride, dims, half}, FloatRows{c, center_stride, dims, half},
                      k, n, dot, labels, threads);
    return;
  }
  parallel_slices(
      n, threads,
      [&](std::size_t begin, std::size_t end, const std::atomic<bool>& stop, bool poll) {
        for (std::size_t i = begin; i < end; ++i) {
          if ((i & 255) == 0) {
            if (poll) poll_interrupts();
            if (stop.load(std::memory_order_relaxed)) break;
          }
          std::size_t best = 0;
          float best_distance = 0;
          for (std::size_t list = 0; list < k; ++list) {
            const float d = rank(r + i * row_stride, c + list * center_stride);
            if (list == 0 || d < best_distance) best = list, best_distance = d;
          }
          labels[i] = static_cast<std::uint32_t>(best);
        }
        return std::size_t{0};
      });
}

}  // namespace embedding::ivf
