#include "cdrift/source/byte_source.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace cdrift {

FdSource::FdSource(Fd fd, std::string name) : FdSource(fd.get(), std::move(name)) {
  m_owned = std::move(fd);
}

FdSource::FdSource(int fd, std::string name) : m_fd(fd), m_name(std::move(name)) {
  // Regular files are read with pread at our own offset, so several readers can
  // share one descriptor (archive members) without disturbing each other.
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    m_seekable = true;
    m_size = static_cast<std::uint64_t>(st.st_size);
    off_t here = ::lseek(fd, 0, SEEK_CUR);
    m_offset = here > 0 ? static_cast<std::uint64_t>(here) : 0;
  }
}

FdSource::FdSource(int fd, std::uint64_t offset, std::uint64_t length, std::string name)
    : m_fd(fd), m_window(true), m_seekable(true), m_offset(offset), m_remaining(length),
      m_name(std::move(name)) {}

Result<std::size_t> FdSource::read(std::uint8_t* buf, std::size_t cap) {
  if (m_window) {
    if (m_remaining == 0) return std::size_t{0};
    cap = static_cast<std::size_t>(std::min<std::uint64_t>(cap, m_remaining));
  }
  for (;;) {
    ssize_t n =
        m_seekable ? ::pread(m_fd, buf, cap, static_cast<off_t>(m_offset)) : ::read(m_fd, buf, cap);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorKind::input, m_name + ": read failed: " + std::strerror(errno));
    }
    m_offset += static_cast<std::uint64_t>(n);
    if (m_window) {
      if (n == 0)
        return fail(ErrorKind::input, m_name + ": file ended before the archive member did");
      m_remaining -= static_cast<std::uint64_t>(n);
    }
    return static_cast<std::size_t>(n);
  }
}

std::uint64_t FdSource::skip(std::uint64_t n) {
  if (!m_seekable) return 0;
  if (m_window) {
    n = std::min(n, m_remaining);
    m_remaining -= n;
  } else {
    n = m_offset >= m_size ? 0 : std::min(n, m_size - m_offset);
  }
  m_offset += n;
  return n;
}

MemorySource::MemorySource(std::string data, std::string name)
    : m_data(std::move(data)), m_name(std::move(name)) {}

Result<std::size_t> MemorySource::read(std::uint8_t* buf, std::size_t cap) {
  std::size_t n = std::min(cap, m_data.size() - m_pos);
  std::memcpy(buf, m_data.data() + m_pos, n);
  m_pos += n;
  return n;
}

PrefixSource::PrefixSource(std::string prefix, std::unique_ptr<ByteSource> rest)
    : m_prefix(std::move(prefix)), m_rest(std::move(rest)) {}

Result<std::size_t> PrefixSource::read(std::uint8_t* buf, std::size_t cap) {
  if (m_pos < m_prefix.size()) {
    std::size_t n = std::min(cap, m_prefix.size() - m_pos);
    std::memcpy(buf, m_prefix.data() + m_pos, n);
    m_pos += n;
    return n;
  }
  return m_rest->read(buf, cap);
}

DigestSource::DigestSource(std::unique_ptr<ByteSource> inner) : m_inner(std::move(inner)) {}

Result<std::size_t> DigestSource::read(std::uint8_t* buf, std::size_t cap) {
  auto n = m_inner->read(buf, cap);
  if (n && *n > 0) {
    m_hash.update(buf, *n);
    m_bytes += *n;
  }
  return n;
}

std::optional<Result<std::size_t>> DigestSource::read_view(const std::uint8_t*& data) {
  auto n = m_inner->read_view(data);
  if (n && *n && **n > 0) {
    m_hash.update(data, **n);
    m_bytes += **n;
  }
  return n;
}

Status DigestSource::drain() {
  std::uint8_t buf[65536];
  for (;;) {
    auto n = read(buf, sizeof buf);
    if (!n) return fail(std::move(n).error());
    if (*n == 0) return {};
  }
}

Result<std::size_t> read_full(ByteSource& src, std::uint8_t* buf, std::size_t cap) {
  std::size_t got = 0;
  while (got < cap) {
    auto n = src.read(buf + got, cap - got);
    if (!n) return fail(std::move(n).error());
    if (*n == 0) break;
    got += *n;
  }
  return got;
}

Result<std::string> read_all(ByteSource& src, std::size_t limit) {
  std::string out;
  std::uint8_t buf[65536];
  for (;;) {
    auto n = src.read(buf, sizeof buf);
    if (!n) return fail(std::move(n).error());
    if (*n == 0) return out;
    if (out.size() + *n > limit)
      return fail(ErrorKind::input, src.name() + ": larger than the " + std::to_string(limit) +
                                        "-byte limit for this document");
    out.append(reinterpret_cast<const char*>(buf), *n);
  }
}

} // namespace cdrift
