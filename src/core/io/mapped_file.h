// The two ways the extension gets at a file's bytes: reading a file someone else may change
// (read_file, into memory) and mapping a file the extension wrote itself (MappedFile).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>

namespace embedding::io {

enum class Symlinks { kFollow, kRefuse };

// Read-only memory mapping of a whole file (RAII). Only for files the extension wrote itself
// (the model cache, replaced only by rename): a mapped file that shrinks under us turns the next
// read of a lost page into SIGBUS, which kills the backend and restarts every session.
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

// What identifies one version of a file (what read_file saw unchanged from start to end).
struct FileVersion {
  dev_t device = 0;
  ino_t inode = 0;
  std::uint64_t size = 0;
  std::int64_t change_ns = 0;  // ctime: any write, truncation or metadata change moves it
};

// Reads a whole regular file into memory with pread, polling for interrupts between 4 MiB
// steps; never blocks on a FIFO or device (refused). A file that shrinks, grows or is otherwise
// changed while it is read is an Error(kIoError) saying so, never a crash or a torn image.
// Throws kIoError (cannot open, not a regular file), kProgramLimit (larger than limit).
std::string read_file(const std::string& path, Symlinks symlinks = Symlinks::kFollow,
                      std::size_t limit = std::numeric_limits<std::size_t>::max(),
                      FileVersion* version = nullptr);

}  // namespace embedding::io
