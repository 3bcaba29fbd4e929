// A file descriptor owned by a value: closed exactly once, when its owner goes, so
// no early return or error path can leak one (after ccache's util/fd.hpp).
#pragma once

#include <utility>

namespace cdrift {

class Fd {
public:
  Fd() = default;
  explicit Fd(int fd) : m_fd(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : m_fd(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  ~Fd() { reset(); }

  int get() const { return m_fd; }
  int operator*() const { return m_fd; }
  explicit operator bool() const { return m_fd >= 0; }

  // Gives up ownership: the caller closes it.
  int release() { return std::exchange(m_fd, -1); }
  // Closes what it holds (if anything) and takes `fd`.
  void reset(int fd = -1);
  // Closes now and reports close(2)'s result: for descriptors written to, where a
  // failed close can mean lost data (NFS, quota). true when nothing was open.
  bool close();

private:
  int m_fd = -1;
};

} // namespace cdrift
