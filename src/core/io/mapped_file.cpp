// POSIX file access for models: mmap of the extension's own files (an empty file maps to an
// empty span, since mmap cannot map zero bytes) and pread of everyone else's.
#include "core/io/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/common/error.h"
#include "core/common/interrupt.h"

namespace embedding::io {
namespace {

[[noreturn]] void io_error(const std::string& what, const std::string& path, int error_number) {
  throw Error(ErrorCode::kIoError, what + " \"" + path + "\": " + std::strerror(error_number));
}

// Closes the descriptor when the scope ends, however it ends.
struct Descriptor {
  int fd;
  ~Descriptor() { ::close(fd); }
};

// Opens path for reading without blocking (no FIFO or device: fstat refuses them before any
// read) and returns the descriptor with the file's status.
int open_regular(const std::string& path, Symlinks symlinks, struct stat* info) {
  const int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY |
                    (symlinks == Symlinks::kRefuse ? O_NOFOLLOW : 0);
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) io_error("could not open file", path, errno);
  if (::fstat(fd, info) != 0) {
    const int error_number = errno;
    ::close(fd);
    io_error("could not stat file", path, error_number);
  }
  if (!S_ISREG(info->st_mode)) {
    ::close(fd);
    throw Error(ErrorCode::kIoError, "\"" + path + "\" is not a regular file");
  }
  return fd;
}

FileVersion version_of(const struct stat& info) {
  return {info.st_dev, info.st_ino, static_cast<std::uint64_t>(info.st_size),
          std::int64_t{info.st_ctim.tv_sec} * 1000000000 + info.st_ctim.tv_nsec};
}

[[noreturn]] void changed(const std::string& path) {
  throw Error(ErrorCode::kIoError, "file \"" + path + "\" changed while it was being read",
              "Load it again once nothing writes to it.");
}

}  // namespace

MappedFile::MappedFile(const std::string& path, Symlinks symlinks) {
  struct stat info;
  const Descriptor file{open_regular(path, symlinks, &info)};  // the mapping keeps it alive
  size_ = static_cast<std::size_t>(info.st_size);
  if (size_ > 0) {
    void* address = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, file.fd, 0);
    if (address == MAP_FAILED) io_error("could not map file", path, errno);
    data_ = static_cast<const std::byte*>(address);
  }
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
}

std::string read_file(const std::string& path, Symlinks symlinks, std::size_t limit,
                      FileVersion* version) {
  struct stat info;
  const Descriptor file{open_regular(path, symlinks, &info)};
  const FileVersion before = version_of(info);
  if (before.size > limit)
    throw Error(ErrorCode::kProgramLimit,
                "file \"" + path + "\" is larger than " + std::to_string(limit >> 20) + " MB");
  constexpr std::size_t kStep = std::size_t{4} << 20;
  std::string content(before.size, '\0');
  for (std::size_t done = 0; done < content.size();) {
    poll_interrupts();
    const ssize_t got = ::pread(file.fd, content.data() + done,
                                std::min(kStep, content.size() - done), static_cast<off_t>(done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) io_error("could not read file", path, errno);
    if (got == 0) changed(path);  // it shrank
    done += static_cast<std::size_t>(got);
  }
  // Nothing past the end, and the same size and change time as at the start: a concurrent
  // truncation, rewrite in place (cp) or append moves at least one of them (ctime has the
  // kernel's coarse clock, so callers still verify what they parse: a torn image fails that).
  char extra;
  const ssize_t more = ::pread(file.fd, &extra, 1, static_cast<off_t>(content.size()));
  if (more < 0) io_error("could not read file", path, errno);
  if (::fstat(file.fd, &info) != 0) io_error("could not stat file", path, errno);
  const FileVersion after = version_of(info);
  if (more != 0 || after.size != before.size || after.change_ns != before.change_ns) changed(path);
  if (version != nullptr) *version = before;
  return content;
}

}  // namespace embedding::io
