#include "cdrift/util/atomic_file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

namespace cdrift {

static std::string errno_text() {
  return std::strerror(errno);
}

AtomicFile::AtomicFile(std::string path) : m_path(std::move(path)) {}

AtomicFile::~AtomicFile() {
  if (m_fd >= 0) ::close(m_fd);
  if (!m_committed && !m_tmp.empty()) ::unlink(m_tmp.c_str());
}

Status AtomicFile::open() {
  // Devices and pipes (/dev/null, /dev/stdout, a FIFO) are written in place:
  // renaming over them would replace the device node with a regular file.
  struct stat st;
  if (::stat(m_path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode)) return fail(ErrorKind::io, m_path + ": is a directory");
    m_fd = ::open(m_path.c_str(), O_WRONLY | O_CLOEXEC);
    if (m_fd < 0) return fail(ErrorKind::io, m_path + ": cannot open: " + errno_text());
    m_direct = true;
    return {};
  }
  std::random_device rd;
  for (int attempt = 0; attempt < 16; ++attempt) {
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, ".tmp.%08x", static_cast<unsigned>(rd()));
    m_tmp = m_path + suffix;
    m_fd = ::open(m_tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (m_fd >= 0) return {};
    if (errno != EEXIST) break;
  }
  std::string why = errno_text();
  m_tmp.clear();
  return fail(ErrorKind::io, m_path + ": cannot create: " + why);
}

Status AtomicFile::write(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(m_fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorKind::io, m_path + ": write failed: " + errno_text());
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

Status AtomicFile::commit() {
  if (m_direct) {
    int fd = m_fd;
    m_fd = -1;
    m_committed = true;
    if (::close(fd) != 0) return fail(ErrorKind::io, m_path + ": close failed: " + errno_text());
    return {};
  }
  if (::fsync(m_fd) != 0 && errno != EINVAL)
    return fail(ErrorKind::io, m_path + ": fsync failed: " + errno_text());
  int fd = m_fd;
  m_fd = -1;
  if (::close(fd) != 0) return fail(ErrorKind::io, m_path + ": close failed: " + errno_text());
  if (::rename(m_tmp.c_str(), m_path.c_str()) != 0)
    return fail(ErrorKind::io, m_path + ": cannot rename into place: " + errno_text());
  m_committed = true;
  return {};
}

Status write_file_atomic(const std::string& path, std::string_view data) {
  AtomicFile f(path);
  CDRIFT_TRY(f.open());
  CDRIFT_TRY(f.write(data));
  return f.commit();
}

Result<std::string> read_small_file(const std::string& path, std::size_t limit) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(ErrorKind::input, path + ": cannot open: " + errno_text());
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(ErrorKind::input, path + ": not a regular file");
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string why = errno_text();
      ::close(fd);
      return fail(ErrorKind::input, path + ": read failed: " + why);
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > limit) {
      ::close(fd);
      return fail(ErrorKind::input, path + ": larger than the " + std::to_string(limit) +
                                        "-byte limit for this kind of file");
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

} // namespace cdrift
