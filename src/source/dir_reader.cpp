#include "cdrift/source/dir_reader.hpp"

#include "cdrift/util/escape.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace cdrift {

namespace {

FileType type_of(mode_t mode) {
  if (S_ISDIR(mode)) return FileType::dir;
  if (S_ISLNK(mode)) return FileType::symlink;
  if (S_ISCHR(mode)) return FileType::chardev;
  if (S_ISBLK(mode)) return FileType::blockdev;
  if (S_ISFIFO(mode)) return FileType::fifo;
  if (S_ISSOCK(mode)) return FileType::socket;
  return FileType::file;
}

std::vector<Xattr> read_xattrs(int fd) {
  std::vector<Xattr> out;
  char names[4096];
  ssize_t n = ::flistxattr(fd, names, sizeof names);
  if (n <= 0) return out;
  for (ssize_t i = 0; i < n;) {
    std::string name(names + i);
    i += static_cast<ssize_t>(name.size()) + 1;
    // Only the attributes images carry; SELinux labels are the host's, not the image's.
    if (!name.starts_with("security.capability") && !name.starts_with("user.") &&
        !name.starts_with("trusted."))
      continue;
    char value[4096];
    ssize_t len = ::fgetxattr(fd, name.c_str(), value, sizeof value);
    if (len >= 0) out.push_back(Xattr{name, std::string(value, static_cast<std::size_t>(len))});
  }
  std::sort(out.begin(), out.end(), [](const Xattr& a, const Xattr& b) { return a.name < b.name; });
  return out;
}

} // namespace

DirReader::DirReader(std::string root)
    : m_root(std::move(root)), m_shown(escape_for_terminal(m_root)) {}

Status DirReader::push_dir(Fd fd, std::string path) {
  if (m_stack.size() >= max_dir_depth) {
    return fail(ErrorKind::input, m_shown + ": directories nested deeper than " +
                                      std::to_string(max_dir_depth) + " levels at " +
                                      escape_for_terminal(path));
  }
  // The listing reads through its own descriptor (closedir closes it); `fd` stays
  // open for the *at() calls on the directory's entries.
  Fd listing(::dup(fd.get()));
  DIR* d = listing ? ::fdopendir(listing.get()) : nullptr;
  if (!d) {
    return fail(ErrorKind::input, m_shown + ": cannot list " +
                                      escape_for_terminal(path.empty() ? "/" : path) + ": " +
                                      std::strerror(errno));
  }
  listing.release(); // now the DIR's
  Level level;
  level.fd = std::move(fd);
  level.path = std::move(path);
  while (dirent* de = ::readdir(d)) {
    std::string n = de->d_name;
    if (n == "." || n == "..") continue;
    level.names.push_back(std::move(n));
  }
  ::closedir(d);
  std::sort(level.names.rbegin(), level.names.rend());
  m_stack.push_back(std::move(level));
  return {};
}

Status DirReader::open() {
  Fd fd(::open(m_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd)
    return fail(ErrorKind::input, m_shown + ": cannot open directory: " + std::strerror(errno));
  m_buffer.resize(1024 * 1024);
  return push_dir(std::move(fd), "");
}

Result<bool> DirReader::next(Member& out) {
  m_file.reset();
  out = Member{};
  if (!m_root_emitted) {
    m_root_emitted = true;
    struct stat st;
    if (::fstat(m_stack.front().fd.get(), &st) != 0)
      return fail(ErrorKind::input, m_shown + ": cannot stat: " + std::strerror(errno));
    out.name = "/";
    out.type = FileType::dir;
    out.mode = st.st_mode & 07777;
    out.uid = st.st_uid;
    out.gid = st.st_gid;
    out.mtime = st.st_mtime;
    return true;
  }
  while (!m_stack.empty()) {
    Level& top = m_stack.back();
    if (top.names.empty()) {
      m_stack.pop_back();
      continue;
    }
    std::string entry = std::move(top.names.back());
    top.names.pop_back();
    std::string rel = top.path + "/" + entry;
    struct stat st;
    if (::fstatat(top.fd.get(), entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue; // removed while we walked
      return fail(ErrorKind::input, m_shown + ": cannot stat " + escape_for_terminal(rel) + ": " +
                                        std::strerror(errno));
    }
    out.name = rel;
    out.type = type_of(st.st_mode);
    out.mode = st.st_mode & 07777;
    out.uid = st.st_uid;
    out.gid = st.st_gid;
    out.mtime = st.st_mtime;
    if (out.type == FileType::symlink) {
      std::string target(4096, '\0');
      ssize_t n = ::readlinkat(top.fd.get(), entry.c_str(), target.data(), target.size());
      if (n < 0)
        return fail(ErrorKind::input, m_shown + ": cannot read link " + escape_for_terminal(rel) +
                                          ": " + std::strerror(errno));
      target.resize(static_cast<std::size_t>(n));
      out.link_name = std::move(target);
    } else if (out.type == FileType::chardev || out.type == FileType::blockdev) {
      out.dev_major = major(st.st_rdev);
      out.dev_minor = minor(st.st_rdev);
    } else if (out.type == FileType::dir) {
      Fd fd(::openat(top.fd.get(), entry.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!fd)
        return fail(ErrorKind::input, m_shown + ": cannot open " + escape_for_terminal(rel) + ": " +
                                          std::strerror(errno));
      out.xattrs = read_xattrs(fd.get());
      CDRIFT_TRY(push_dir(std::move(fd), rel)); // `top` is invalid after this
    } else if (out.type == FileType::file) {
      // O_NOFOLLOW|O_NONBLOCK: a file swapped for a link or a FIFO mid-walk fails
      // instead of leading us elsewhere or blocking.
      Fd fd(::openat(top.fd.get(), entry.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
      if (!fd)
        return fail(ErrorKind::input, m_shown + ": cannot open " + escape_for_terminal(rel) + ": " +
                                          std::strerror(errno));
      struct stat fst;
      if (::fstat(fd.get(), &fst) != 0 || !S_ISREG(fst.st_mode)) {
        return fail(ErrorKind::input,
                    m_shown + ": " + escape_for_terminal(rel) + " changed type while being read");
      }
      out.size = static_cast<std::uint64_t>(fst.st_size);
      out.xattrs = read_xattrs(fd.get());
      m_file = std::move(fd);
      m_file_offset = 0;
    }
    return true;
  }
  return false;
}

Result<bool> DirReader::next_block(const std::uint8_t*& data, std::size_t& size,
                                   std::int64_t& offset) {
  if (!m_file) return false;
  for (;;) {
    ssize_t n = ::read(m_file.get(), m_buffer.data(), m_buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorKind::input, m_shown + ": read failed: " + std::strerror(errno));
    }
    if (n == 0) {
      m_file.reset();
      return false;
    }
    data = m_buffer.data();
    size = static_cast<std::size_t>(n);
    offset = static_cast<std::int64_t>(m_file_offset);
    m_file_offset += size;
    return true;
  }
}

} // namespace cdrift
