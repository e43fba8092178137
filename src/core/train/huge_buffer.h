// A zero-filled float buffer in anonymous memory that asks for transparent huge pages: the
// training matrices are read row by row at random, and with 4 KB pages most rows cost a TLB miss.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <new>
#include <utility>

namespace embedding::train {

class HugeBuffer {
 public:
  HugeBuffer() = default;
  explicit HugeBuffer(std::size_t count) : size_(count) {
    if (count == 0) return;
    constexpr std::size_t kHuge = std::size_t{2} << 20;
    bytes_ = (count * sizeof(float) + kHuge - 1) / kHuge * kHuge;
    void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    ::madvise(p, bytes_, MADV_HUGEPAGE);  // a hint: without it the pages are small, no harm
#endif
    data_ = static_cast<float*>(p);
  }
  HugeBuffer(HugeBuffer&& other) noexcept { *this = std::move(other); }
  HugeBuffer& operator=(HugeBuffer&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(bytes_, other.bytes_);
    return *this;
  }
  HugeBuffer(const HugeBuffer&) = delete;
  HugeBuffer& operator=(const HugeBuffer&) = delete;
  ~HugeBuffer() {
    if (data_ != nullptr) ::munmap(data_, bytes_);
  }

  float* data() { return data_; }
  const float* data() const { return data_; }
  std::size_t size() const { return size_; }
  float* begin() { return data_; }
  float* end() { return data_ + size_; }

 private:
  float* data_ = nullptr;
  std::size_t size_ = 0, bytes_ = 0;
};

}  // namespace embedding::train
