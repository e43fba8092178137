// Read-only memory mapping of a whole file (RAII), used to open model files in O(1) and to
// parse large source files without copying them into the heap.
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace embedding::models {

enum class Symlinks { kFollow, kRefuse };

class MappedFile {
 public:
  // Maps path read-only and shared, so every backend uses the same page-cache pages. Opening
  // never blocks (a FIFO or device is refused by fstat before any read) and, with
  // Symlinks::kRefuse, a symbolic link as the last path component is refused.
  // Throws Error(kIoError) when the file cannot be opened or mapped or is not a regular file.
  explicit MappedFile(const std::string& path, Symlinks symlinks = Symlinks::kFollow);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const std::byte> bytes() const { return {data_, size_}; }

 private:
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

// Reads a whole (small) file into a string; throws Error(kIoError).
std::string read_text_file(const std::string& path);

}  // namespace embedding::models
