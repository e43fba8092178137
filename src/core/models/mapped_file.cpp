// POSIX mmap wrapper (read-only, shared). An empty file maps to an empty span, since mmap
// cannot map zero bytes.
#include "core/models/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/common/error.h"

namespace embedding::models {
namespace {

[[noreturn]] void io_error(const std::string& what, const std::string& path, int error_number) {
  throw Error(ErrorCode::kIoError, what + " \"" + path + "\": " + std::strerror(error_number));
}

}  // namespace

MappedFile::MappedFile(const std::string& path, Symlinks symlinks) {
  const int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY |
                    (symlinks == Symlinks::kRefuse ? O_NOFOLLOW : 0);
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) io_error("could not open file", path, errno);
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    const int error_number = errno;
    ::close(fd);
    io_error("could not stat file", path, error_number);
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    throw Error(ErrorCode::kIoError, "\"" + path + "\" is not a regular file");
  }
  size_ = static_cast<std::size_t>(info.st_size);
  if (size_ > 0) {
    void* address = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0);
    if (address == MAP_FAILED) {
      const int error_number = errno;
      ::close(fd);
      io_error("could not map file", path, error_number);
    }
    data_ = static_cast<const std::byte*>(address);
  }
  ::close(fd);  // the mapping keeps the file alive
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) io_error("could not open file", path, errno);
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) io_error("could not read file", path, errno);
  return content.str();
}

}  // namespace embedding::models
