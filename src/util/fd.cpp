#include "cdrift/util/fd.hpp"

#include <unistd.h>

namespace cdrift {

void Fd::reset(int fd) {
  // close(2) releases the descriptor even when it fails (Linux), so it is never
  // retried: a retry could close a descriptor another thread was just given.
  if (m_fd >= 0) ::close(m_fd);
  m_fd = fd;
}

bool Fd::close() {
  if (m_fd < 0) return true;
  return ::close(std::exchange(m_fd, -1)) == 0;
}

} // namespace cdrift
