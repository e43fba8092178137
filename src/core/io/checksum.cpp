// The checksums of large buffers (checksum.h): they poll for interrupts, since a backend checks a
// model of hundreds of megabytes before its first use.
#include "core/io/checksum.h"

#include <algorithm>
#include <cstring>

#include "core/common/interrupt.h"

namespace embedding::io {

std::uint64_t fnv1a64_polled(const std::byte* data, std::uint64_t length) {
  constexpr std::uint64_t kStep = std::uint64_t{16} << 20;
  std::uint64_t hash = kFnvOffsetBasis;
  for (std::uint64_t done = 0; done < length; done += kStep) {
    poll_interrupts();
    hash = fnv1a64(data + done, std::min(kStep, length - done), hash);
  }
  return hash;
}

std::uint64_t fnv1a64_lanes(const std::byte* data, std::uint64_t length) {
  std::uint64_t lanes[4] = {kFnvOffsetBasis, kFnvOffsetBasis ^ 1, kFnvOffsetBasis ^ 2,
                            kFnvOffsetBasis ^ 3};
  std::uint64_t i = 0;
  for (std::uint64_t step = 0; i + 32 <= length; i += 32, ++step) {
    if ((step & 0x7FFF) == 0) poll_interrupts();  // every 1 MiB
    for (int lane = 0; lane < 4; ++lane) {
      std::uint64_t word;
      std::memcpy(&word, data + i + 8 * lane, 8);
      lanes[lane] = (lanes[lane] ^ word) * kFnvPrime;
    }
  }
  const std::uint64_t hash = fnv1a64(lanes, sizeof lanes);
  return fnv1a64(data + i, length - i, hash);
}

}  // namespace embedding::io
